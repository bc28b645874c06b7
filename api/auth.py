"""API keys (a TOML file), the five roles, and what each role may do."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from domain.errors import CreditLinkError, Forbidden, Unauthenticated

if TYPE_CHECKING:
    from rules.models import Catalogue


class Role(StrEnum):
    PUBLIC = "PUBLIC"
    APPROVAL_SYSTEM = "APPROVAL_SYSTEM"
    ISSUER = "ISSUER"
    REGULATOR = "REGULATOR"
    ADMIN = "ADMIN"
    # another city's or the province's platform: reads this instance's sanction feed only
    PARTNER = "PARTNER"


class Capability(StrEnum):
    CATALOGUE = "catalogue"  # catalogue queries and the published lists
    READ_SUBJECT = "read_subject"  # subject(id), checks
    CHECK = "check"
    FEEDBACK = "feedback"
    SANCTION = "sanction"  # impose, lift, resolve objections, file objections
    REGULATE = "regulate"  # related-party risk, impact, ratings, statistics, search
    SUPERVISE = "supervise"  # inspection draws
    REGISTER = "register"  # subjects, households, links
    FEED = "feed"  # the signed sanction feed other platforms pull


ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.PUBLIC: frozenset({Capability.CATALOGUE}),
    Role.APPROVAL_SYSTEM: frozenset(
        {Capability.CATALOGUE, Capability.READ_SUBJECT, Capability.CHECK, Capability.FEEDBACK}
    ),
    Role.ISSUER: frozenset(
        {
            Capability.CATALOGUE,
            Capability.READ_SUBJECT,
            Capability.CHECK,
            Capability.FEEDBACK,
            Capability.SANCTION,
        }
    ),
    Role.REGULATOR: frozenset(
        {
            Capability.CATALOGUE,
            Capability.READ_SUBJECT,
            Capability.CHECK,
            Capability.REGULATE,
            Capability.SUPERVISE,
            Capability.FEED,
        }
    ),
    Role.ADMIN: frozenset(Capability),
    Role.PARTNER: frozenset({Capability.FEED}),
}


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    department: str | None = None
    # the sha256 of the key that authenticated this principal (None for no key), so an open
    # connection can be checked against a reloaded keys file; never printed
    key_digest: str | None = field(default=None, repr=False, compare=False)

    def can(self, capability: Capability) -> bool:
        return capability in ROLE_CAPABILITIES[self.role]

    def require(self, capability: Capability, what: str) -> None:
        if self.can(capability):
            return
        raise self.refusal(what)

    def refusal(self, what: str, *, field: str | None = None) -> CreditLinkError:
        """The error for a call beyond this role (the contract's rule): UNAUTHENTICATED
        for PUBLIC, whom an API key would let in, FORBIDDEN for a key that cannot."""
        if self.role is Role.PUBLIC:
            return Unauthenticated(
                f"{what} needs an API key (Authorization: Bearer <key>)", field=field
            )
        return Forbidden(f"{what} is not allowed for role {self.role.value}", field=field)

    @property
    def masks_personal_data(self) -> bool:
        return self.role is Role.PUBLIC


PUBLIC = Principal(name="public", role=Role.PUBLIC)


class KeysFileError(ValueError):
    pass


MIN_KEY_LENGTH = 16
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
PLAINTEXT_KEYS_ENV = "CREDITLINK_ALLOW_PLAINTEXT_KEYS"


@dataclass(frozen=True)
class KeyRing:
    by_digest: dict[str, Principal]

    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            return PUBLIC
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Authorization must be 'Bearer <key>'")
        digest = hashlib.sha256(token.encode()).hexdigest()
        for known, principal in self.by_digest.items():
            if hmac.compare_digest(known, digest):
                return principal
        raise Unauthenticated("unknown API key")

    def current(self, principal: Principal) -> Principal | None:
        """This ring's principal for the key that authenticated `principal`, or None when the
        key is gone or now carries another role or department (the caller must be refused).
        No key (anonymous PUBLIC) has nothing to revoke."""
        if principal.key_digest is None:
            return principal
        found = self.by_digest.get(principal.key_digest)
        if found is None or (found.role, found.department) != (
            principal.role,
            principal.department,
        ):
            return None
        return found

    def still_valid(self, principal: Principal) -> bool:
        return self.current(principal) is not None


def load_keys(path: Path, known_departments: set[str], *, allow_plaintext: bool = False) -> KeyRing:
    """Read the keys file, refusing anything ambiguous (the message names the entry)."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise KeysFileError(f"{path}: keys file not found") from None
    except OSError as exc:
        raise KeysFileError(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_keys(text, path, known_departments, allow_plaintext=allow_plaintext)


def parse_keys(
    content: bytes, path: Path, known_departments: set[str], *, allow_plaintext: bool = False
) -> KeyRing:
    """The keys file's content as a KeyRing; `path` only names the file in messages.

    Messages name the file, the entry and its name, never key material."""
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise KeysFileError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise KeysFileError(f"{path}: not valid TOML: {exc}") from None
    entries = data.get("keys", [])
    if not isinstance(entries, list):
        raise KeysFileError(f"{path}: 'keys' must be an array of tables ([[keys]])")
    by_digest: dict[str, Principal] = {}
    for index, entry in enumerate(entries):
        where = f"{path}: keys[{index}]"
        if not isinstance(entry, dict):
            raise KeysFileError(f"{where}: must be a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise KeysFileError(f"{where}: 'name' is required")
        where = f"{where} ({name})"
        try:
            role = Role(entry.get("role", ""))
        except ValueError:
            raise KeysFileError(
                f"{where}: role must be one of {', '.join(r.value for r in Role)}"
            ) from None
        department = entry.get("department")
        if role in {Role.APPROVAL_SYSTEM, Role.ISSUER} and not department:
            raise KeysFileError(f"{where}: role {role.value} needs a department")
        if department is not None and department not in known_departments:
            raise KeysFileError(f"{where}: unknown department {department!r}")
        digest = _entry_digest(entry, where, allow_plaintext)
        if digest in by_digest:
            raise KeysFileError(f"{where}: the same key is listed twice")
        by_digest[digest] = Principal(
            name=name, role=role, department=department, key_digest=digest
        )
    return KeyRing(by_digest)


def _entry_digest(entry: dict[str, object], where: str, allow_plaintext: bool) -> str:
    if "key" in entry and "key_sha256" in entry:
        raise KeysFileError(f"{where}: give key or key_sha256, not both")
    if "key" in entry:
        key = entry["key"]
        if not isinstance(key, str) or not key:
            raise KeysFileError(f"{where}: 'key' must be a non-empty string")
        # checked first: a short key stays refused whatever the plain-text setting
        if len(key) < MIN_KEY_LENGTH:
            raise KeysFileError(f"{where}: the key is shorter than {MIN_KEY_LENGTH} characters")
        if not allow_plaintext:
            raise KeysFileError(
                f"{where}: a plain-text 'key' is refused; store key_sha256 = "
                f'"<sha256 hex of the key>" instead, or set {PLAINTEXT_KEYS_ENV}=true'
            )
        return hashlib.sha256(key.encode()).hexdigest()
    if "key_sha256" in entry:
        digest = entry["key_sha256"]
        if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
            raise KeysFileError(f"{where}: key_sha256 must be 64 hexadecimal characters")
        return digest.lower()
    raise KeysFileError(f"{where}: 'key_sha256' (or a plain 'key') is required")


@dataclass(frozen=True)
class DepartmentOfKind:
    """A demo key's department: the running catalogue's first department of `kind`."""

    kind: str

    def pick(self, catalogue: Catalogue) -> str | None:
        return next((d.id for d in catalogue.departments.values() if d.kind == self.kind), None)


@dataclass(frozen=True)
class IssuerOf:
    """A demo key's department: the running catalogue's first issuer of `list_type`."""

    list_type: str

    def pick(self, catalogue: Catalogue) -> str | None:
        list_type = catalogue.list_types.get(self.list_type)
        return list_type.issuers[0] if list_type is not None else None


# One key per role and a second issuer. Departments are chosen in the catalogue the
# instance runs with, so a Jiaxing instance's court key is Jiaxing's court.
DEMO_KEYS: tuple[tuple[str, Role, DepartmentOfKind | IssuerOf | None], ...] = (
    ("demo-public-portal", Role.PUBLIC, None),
    ("demo-bidding-platform", Role.APPROVAL_SYSTEM, DepartmentOfKind("trading-centre")),
    ("demo-court-issuer", Role.ISSUER, IssuerOf("DISHONEST_JUDGMENT_DEBTOR")),
    ("demo-tax-issuer", Role.ISSUER, IssuerOf("MAJOR_TAX_VIOLATION")),
    ("demo-credit-office-regulator", Role.REGULATOR, None),
    ("demo-admin", Role.ADMIN, None),
    ("demo-partner", Role.PARTNER, None),
)


def demo_departments(catalogue: Catalogue) -> dict[str, str | None]:
    """Each demo key's department in `catalogue`; a key whose department the catalogue
    does not have (a catalogue without a trading centre, say) is left out."""
    found: dict[str, str | None] = {}
    for name, _, choice in DEMO_KEYS:
        department = choice.pick(catalogue) if choice is not None else None
        if choice is None or department is not None:
            found[name] = department
    return found


@dataclass(frozen=True)
class DemoKey:
    name: str
    role: Role
    key: str = field(repr=False)


def _create_private(path: Path, content: str) -> None:
    """Write a new file readable by the owner only: created 0600 before any byte is written,
    and never over an existing file (O_EXCL also refuses a planted symlink)."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(content)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def write_demo_keys(
    path: Path, plain_path: Path, catalogue: Catalogue | None = None
) -> list[DemoKey]:
    """One key per role (and a second issuer), with departments of `catalogue` (default:
    the packaged Wenzhou one): `path` gets only their sha256, `plain_path` the keys
    themselves ("name role key" lines) for the demo user; both 0600.

    Refuses (FileExistsError) when `path` exists. Returns the keys so the caller can show
    them once."""
    if catalogue is None:
        from rules.loader import default_catalogue

        catalogue = default_catalogue()
    departments = demo_departments(catalogue)
    keys = [
        DemoKey(name, role, secrets.token_urlsafe(24))
        for name, role, _ in DEMO_KEYS
        if name in departments
    ]
    lines = [
        "# Generated demo API keys, one per role, stored as sha256 digests.",
        f"# The keys themselves: {plain_path.name}. Use as 'Authorization: Bearer <key>'.",
        "",
    ]
    for demo in keys:
        digest = hashlib.sha256(demo.key.encode()).hexdigest()
        lines += ["[[keys]]", f'name = "{demo.name}"', f'key_sha256 = "{digest}"']
        lines.append(f'role = "{demo.role.value}"')
        if departments[demo.name]:
            lines.append(f'department = "{departments[demo.name]}"')
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    _create_private(path, "\n".join(lines))
    # a leftover from an earlier keys file holds keys that no longer work: replace it
    plain_path.unlink(missing_ok=True)
    _create_private(
        plain_path, "".join(f"{demo.name} {demo.role.value} {demo.key}\n" for demo in keys)
    )
    return keys
