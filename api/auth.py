"""API keys (a TOML file), the five roles, and what each role may do."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from graph_model.errors import CreditLinkError, Forbidden, Unauthenticated


class Role(StrEnum):
    PUBLIC = "PUBLIC"
    APPROVAL_SYSTEM = "APPROVAL_SYSTEM"
    ISSUER = "ISSUER"
    REGULATOR = "REGULATOR"
    ADMIN = "ADMIN"


class Capability(StrEnum):
    CATALOGUE = "catalogue"  # catalogue queries and the published lists
    READ_SUBJECT = "read_subject"  # subject(id), checks
    CHECK = "check"
    FEEDBACK = "feedback"
    SANCTION = "sanction"  # impose, lift, resolve objections, file objections
    REGULATE = "regulate"  # related-party risk, impact, ratings, statistics, search
    SUPERVISE = "supervise"  # inspection draws
    REGISTER = "register"  # subjects, households, links


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
        }
    ),
    Role.ADMIN: frozenset(Capability),
}


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    department: str | None = None

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


def load_keys(path: Path, known_departments: set[str]) -> KeyRing:
    """Read the keys file, refusing anything ambiguous (the message names the entry)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeysFileError(f"{path}: keys file not found") from None
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
        try:
            role = Role(entry.get("role", ""))
        except ValueError:
            raise KeysFileError(
                f"{where} ({name}): role must be one of {', '.join(r.value for r in Role)}"
            ) from None
        department = entry.get("department")
        if role in {Role.APPROVAL_SYSTEM, Role.ISSUER} and not department:
            raise KeysFileError(f"{where} ({name}): role {role.value} needs a department")
        if department is not None and department not in known_departments:
            raise KeysFileError(f"{where} ({name}): unknown department {department!r}")
        if "key" in entry and "key_sha256" in entry:
            raise KeysFileError(f"{where} ({name}): give key or key_sha256, not both")
        if isinstance(entry.get("key"), str) and entry["key"]:
            digest = hashlib.sha256(entry["key"].encode()).hexdigest()
        elif isinstance(entry.get("key_sha256"), str) and len(entry["key_sha256"]) == 64:
            digest = entry["key_sha256"].lower()
        else:
            raise KeysFileError(f"{where} ({name}): 'key' or a 64-hex 'key_sha256' is required")
        if digest in by_digest:
            raise KeysFileError(f"{where} ({name}): the same key is listed twice")
        by_digest[digest] = Principal(name=name, role=role, department=department)
    return KeyRing(by_digest)


DEMO_KEYS: tuple[tuple[str, Role, str | None], ...] = (
    ("demo-public-portal", Role.PUBLIC, None),
    ("demo-bidding-platform", Role.APPROVAL_SYSTEM, "wz-public-resources"),
    ("demo-court-issuer", Role.ISSUER, "wz-intermediate-court"),
    ("demo-tax-issuer", Role.ISSUER, "wz-tax"),
    ("demo-credit-office-regulator", Role.REGULATOR, None),
    ("demo-admin", Role.ADMIN, None),
)


def write_demo_keys(path: Path) -> None:
    """One key per role (and a second issuer), plain text, readable only by the owner."""
    lines = ["# Generated demo API keys: one per role. Use as 'Authorization: Bearer <key>'.", ""]
    for name, role, department in DEMO_KEYS:
        lines += ["[[keys]]", f'name = "{name}"', f'key = "{secrets.token_urlsafe(24)}"']
        lines.append(f'role = "{role.value}"')
        if department:
            lines.append(f'department = "{department}"')
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    path.chmod(0o600)
