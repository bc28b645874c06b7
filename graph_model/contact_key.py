"""The secret that keys stored contact hashes, and the one-time re-key of older stores.

`phoneHash` and `addressHash` hold HMAC-SHA256(secret, sha256 hex of the normalised
value), never the bare sha256: there are about 10**9 mobile numbers, so a bare digest
gives the number back to anyone holding a copy of the store after a short brute force.
The digest is keyed rather than the raw value so that source systems keep sending sha256
digests (the CSV import) without ever holding the secret. Suspected links compare hashes
for equality only, which keyed values preserve as long as one key is used.

The secret is 32 random bytes, written as hex to `<data dir>/contact-hash-key` (0600) on
first use, or read from the file `CREDITLINK_CONTACT_HASH_KEY_FILE` names, which every
host writing to one database must share. The database records which key its hashes are
keyed with (a fingerprint, in one `(:ContactKey)` node), so that a writer holding another
key is refused instead of writing hashes that would never match the stored ones. A store
without that record predates keying: `ensure_keyed` keys its bare digests once
(HMAC of the stored digest is exactly the new value), in batches that survive a crash.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from string import hexdigits
from typing import Any

from neo4j import AsyncManagedTransaction

from domain.errors import Conflict
from domain.vocabulary import Label
from graph_model.driver import Graph
from graph_model.secret_files import SecretFileError, create_secret_file, read_secret_file

KEY_FILE_NAME = "contact-hash-key"
KEY_FILE_SETTING = "CREDITLINK_CONTACT_HASH_KEY_FILE"
SECRET_BYTES = 32
CONTACT_PROPERTIES = ("phoneHash", "addressHash")
MARKER_ID = "contact-hashes"  # the one ContactKey node's id
_FINGERPRINT_MESSAGE = b"creditlink contact-hash key fingerprint"


class ContactKeyError(ValueError):
    """A key file that cannot be used; the message names the file, never its content."""


def keyed_hash(secret: bytes, digest: str) -> str:
    """The stored form of a contact's sha256 hex `digest`: HMAC-SHA256 under `secret`, hex."""
    return hmac.digest(secret, digest.lower().encode("ascii"), "sha256").hex()


@dataclass(frozen=True, slots=True)
class ContactKey:
    secret: bytes = field(repr=False)
    source: str = field(default="", compare=False)  # the file it came from, for messages

    def __post_init__(self) -> None:
        if len(self.secret) < SECRET_BYTES:
            raise ValueError(f"a contact hash key has at least {SECRET_BYTES} bytes")

    @classmethod
    def generate(cls) -> ContactKey:
        return cls(secrets.token_bytes(SECRET_BYTES))

    def keyed(self, digest: str) -> str:
        return keyed_hash(self.secret, digest)

    @property
    def fingerprint(self) -> str:
        """Names the key (in the database and in messages) without giving it away."""
        return hmac.digest(self.secret, _FINGERPRINT_MESSAGE, "sha256").hex()[:32]

    def key_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of `row` with its contact digests keyed (the caller's row is left as is)."""
        out = dict(row)
        for name in CONTACT_PROPERTIES:
            digest = out.get(name)
            if digest is not None:
                out[name] = keyed_hash(self.secret, digest)
        return out


# ------------------------------------------------------------------------------ key file


def key_file(data_dir: Path, configured: Path | None = None) -> Path:
    return configured if configured is not None else data_dir / KEY_FILE_NAME


def load_key(path: Path, *, create: bool) -> ContactKey:
    """The key in `path`; with `create`, a new one is written there first if there is none.

    Refused when the file is empty, malformed, or readable by group or others."""
    if create and not os.path.lexists(path):
        create_secret_file(path, (secrets.token_hex(SECRET_BYTES) + "\n").encode("ascii"))
    try:
        content = read_secret_file(
            path,
            "contact hash key file",
            missing="copy the one the database was loaded with",
            max_bytes=1024,
        )
    except SecretFileError as exc:
        raise ContactKeyError(str(exc)) from None
    text = content.decode("ascii", errors="replace").strip()
    if len(text) != 2 * SECRET_BYTES or any(c not in hexdigits for c in text):
        raise ContactKeyError(
            f"{path}: a contact hash key is {2 * SECRET_BYTES} hexadecimal characters "
            f"({SECRET_BYTES} random bytes)"
        )
    return ContactKey(bytes.fromhex(text), source=str(path))


# ------------------------------------------------------------------------------ the database

_MARKER = f"(k:{Label.CONTACT_KEY.value} {{id: $id}})"
CLAIM = (
    f"MERGE {_MARKER} ON CREATE SET k.fingerprint = $fingerprint, k.complete = false "
    "RETURN k.fingerprint AS fingerprint, k.complete AS complete"
)
MARKER_STATE = f"MATCH {_MARKER} RETURN k.fingerprint AS fingerprint, k.complete AS complete"
# a write takes the marker's lock for the whole batch transaction, so that re-keyers in
# several processes take batches in turn and no digest is keyed twice
LOCK_MARKER = f"MATCH {_MARKER} SET k._lock = true"
REKEY_STATE = (
    f"MATCH {_MARKER} RETURN k.fingerprint AS fingerprint, k.complete AS complete, "
    "k.rekeyedThrough AS after"
)
BARE_DIGESTS = (
    f"MATCH (s:{Label.SUBJECT.value}) WHERE s.id > $after "
    "AND (s.phoneHash IS NOT NULL OR s.addressHash IS NOT NULL) "
    "RETURN s.id AS id, s.phoneHash AS phoneHash, s.addressHash AS addressHash "
    "ORDER BY s.id LIMIT $limit"
)
WRITE_KEYED = (
    f"UNWIND $rows AS row MATCH (s:{Label.SUBJECT.value} {{id: row.id}}) "
    "SET s.phoneHash = row.phoneHash, s.addressHash = row.addressHash"
)
ADVANCE = f"MATCH {_MARKER} REMOVE k._lock SET k.rekeyedThrough = $through, k.complete = $complete"
UNLOCK = f"MATCH {_MARKER} REMOVE k._lock"


@dataclass(frozen=True)
class KeyMarker:
    fingerprint: str
    complete: bool  # every stored digest is keyed with the key of `fingerprint`


async def marker(graph: Graph) -> KeyMarker | None:
    """What the database records about its key; None for a store that predates keying."""
    rows = await graph.read(MARKER_STATE, {"id": MARKER_ID}, name="contactKey.state")
    if not rows:
        return None
    return KeyMarker(str(rows[0]["fingerprint"]), bool(rows[0]["complete"]))


def marker_properties(key: ContactKey) -> dict[str, Any]:
    """The record of a store written keyed from the start (the bulk import writes it)."""
    return {"id": MARKER_ID, "fingerprint": key.fingerprint, "complete": True}


def _same_key(fingerprint: str, key: ContactKey) -> None:
    if fingerprint != key.fingerprint:
        where = f"the key in {key.source}" if key.source else "this key"
        raise Conflict(
            f"{KEY_FILE_SETTING}: the database's contact hashes are keyed with another key "
            f"(fingerprint {fingerprint}) than {where} (fingerprint {key.fingerprint}); "
            "use the key file the database was loaded with",
            field=KEY_FILE_SETTING,
        )


async def ensure_keyed(graph: Graph, key: ContactKey, *, batch_size: int = 10_000) -> int:
    """Make sure the database's contact hashes are keyed with `key`, keying a store that
    predates keying; returns how many subjects were re-keyed now.

    Every writer of contact hashes calls this before writing: a database keyed with
    another key raises `Conflict`, so hashes under two keys never mix."""
    rows = await graph.write(
        CLAIM, {"id": MARKER_ID, "fingerprint": key.fingerprint}, name="contactKey.claim"
    )
    _same_key(str(rows[0]["fingerprint"]), key)
    if rows[0]["complete"]:
        return 0
    total = 0
    while True:
        done, count = await graph.write_tx(
            partial(_rekey_batch, key, batch_size), name="contactKey.rekey"
        )
        total += count
        if done:
            return total


async def _rekey_batch(
    key: ContactKey, limit: int, tx: AsyncManagedTransaction
) -> tuple[bool, int]:
    """One batch in one transaction: the next bare digests after the marker's cursor,
    keyed, and the cursor moved past them; (finished, subjects keyed)."""
    await (await tx.run(LOCK_MARKER, id=MARKER_ID)).consume()
    state = await (await tx.run(REKEY_STATE, id=MARKER_ID)).single(strict=True)
    _same_key(str(state["fingerprint"]), key)
    if state["complete"]:
        await (await tx.run(UNLOCK, id=MARKER_ID)).consume()
        return True, 0
    result = await tx.run(BARE_DIGESTS, after=state["after"] or "", limit=limit)
    rows = [key.key_row(dict(record)) async for record in result]
    if rows:
        await (await tx.run(WRITE_KEYED, rows=rows)).consume()
    done = len(rows) < limit
    through = None if done else rows[-1]["id"]
    await (await tx.run(ADVANCE, id=MARKER_ID, through=through, complete=done)).consume()
    return done, len(rows)
