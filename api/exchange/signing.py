"""The instance's Ed25519 key pair: signing feed pages, verifying a partner's.

Each instance signs its feed pages with its own private key, kept in
`CREDITLINK_SIGNING_KEY_FILE` (PKCS#8 PEM, 0600; made in the data dir on first start when
the setting is unset). A partner verifies with the public key it was given out of band
(`creditlink exchange key` prints it), never with one fetched from the feed itself: a key
that travels with the data proves nothing.

A public key is written `ed25519:<base64 of its 32 bytes>`; its id is the first 16 hex
digits of the sha256 of those bytes. A page names the id of the key that signed it, so a
partner that holds both the old and the new key during a rotation picks the right one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from graph_model.secret_files import SecretFileError, create_secret_file, read_secret_file

PUBLIC_KEY_PREFIX = "ed25519:"


class SigningKeyError(ValueError):
    """A key that cannot be used; the message names the file or the key, never a secret."""


class SignatureRefused(ValueError):
    """A page whose signature does not verify against any key configured for its sender."""


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(raw_public: bytes) -> str:
    return hashlib.sha256(raw_public).hexdigest()[:16]


@dataclass(frozen=True)
class PublicKey:
    key: Ed25519PublicKey = field(repr=False)

    @property
    def key_id(self) -> str:
        return key_id_of(_raw(self.key))

    @property
    def text(self) -> str:
        return PUBLIC_KEY_PREFIX + base64.b64encode(_raw(self.key)).decode("ascii")

    @classmethod
    def parse(cls, text: str, *, where: str) -> PublicKey:
        """A key written `ed25519:<base64>`; `where` names its place in messages."""
        value = text.strip()
        if not value.startswith(PUBLIC_KEY_PREFIX):
            raise SigningKeyError(f"{where}: a public key is written {PUBLIC_KEY_PREFIX}<base64>")
        try:
            raw = base64.b64decode(value[len(PUBLIC_KEY_PREFIX) :], validate=True)
        except binascii.Error:
            raise SigningKeyError(f"{where}: the public key is not valid base64") from None
        if len(raw) != 32:
            raise SigningKeyError(f"{where}: an Ed25519 public key is 32 bytes, not {len(raw)}")
        return cls(Ed25519PublicKey.from_public_bytes(raw))


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey = field(repr=False)

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.private.public_key())

    def sign(self, payload: bytes) -> str:
        """The signature of `payload`, base64."""
        return base64.b64encode(self.private.sign(payload)).decode("ascii")

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    def pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def load_signing_key(path: Path, *, create: bool) -> SigningKey:
    """The key in `path`; with `create`, a new one is written there first if there is none.

    Refused when the file is missing (without `create`), not private, or not an Ed25519
    private key in PEM."""
    if create and not os.path.lexists(path):
        create_secret_file(path, SigningKey.generate().pem())
    try:
        content = read_secret_file(
            path,
            "exchange signing key file",
            missing="generate one with `creditlink exchange keygen FILE`",
        )
    except SecretFileError as exc:
        raise SigningKeyError(str(exc)) from None
    try:
        key = serialization.load_pem_private_key(content, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(f"{path}: not an unencrypted private key in PEM (PKCS#8)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: the signing key must be Ed25519")
    return SigningKey(key)


def verify(payload: bytes, signature: str, key_id: str, keys: Iterable[PublicKey]) -> PublicKey:
    """The key among `keys` that signed `payload`; raises `SignatureRefused` otherwise."""
    candidates = [k for k in keys if k.key_id == key_id]
    if not candidates:
        raise SignatureRefused(f"signed by key {key_id[:32]!r}, which is not configured")
    try:
        raw = base64.b64decode(signature, validate=True)
    except binascii.Error:
        raise SignatureRefused("the signature is not valid base64") from None
    for key in candidates:
        try:
            key.key.verify(raw, payload)
        except InvalidSignature:
            continue
        return key
    raise SignatureRefused(f"the signature does not verify with key {key_id}")
