"""The dependency lock: what `make install` puts in the venv is what the tests ran with.

No database. Reads pyproject.toml and requirements.lock beside it and the installed
distributions' metadata.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
MAKEFILE = ROOT / "Makefile"


@dataclass(frozen=True)
class Locked:
    requirement: Requirement
    hashes: tuple[str, ...]

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name)

    @property
    def version(self) -> Version:
        (spec,) = self.requirement.specifier
        return Version(spec.version)

    def applies_here(self) -> bool:
        return self.requirement.marker is None or self.requirement.marker.evaluate()


def parse_lock(text: str) -> list[Locked]:
    """Entries of a pip requirements file written with hashes (backslash continuations)."""
    entries: list[Locked] = []
    for logical in re.sub(r"\\\n", " ", text).splitlines():
        line = logical.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        hashes = tuple(re.findall(r"--hash=(sha256:[0-9a-f]{64})", line))
        requirement = Requirement(line.split("--hash=", 1)[0].strip())
        entries.append(Locked(requirement, hashes))
    return entries


@pytest.fixture(scope="module")
def lock() -> list[Locked]:
    assert LOCK.is_file(), f"{LOCK.name} is missing: run `make lock` and commit it"
    entries = parse_lock(LOCK.read_text(encoding="utf-8"))
    assert entries, f"{LOCK.name} lists no packages"
    return entries


@pytest.fixture(scope="module")
def locked_here(lock: list[Locked]) -> dict[str, Version]:
    """The one locked version of each package whose marker holds on this interpreter."""
    versions: dict[str, Version] = {}
    for entry in lock:
        if entry.applies_here():
            assert entry.name not in versions, f"{entry.name} is locked twice for this platform"
            versions[entry.name] = entry.version
    return versions


def declared() -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return runtime + dev


def declared_specifier(name: str) -> SpecifierSet:
    for requirement in declared():
        if canonicalize_name(requirement.name) == canonicalize_name(name):
            return requirement.specifier
    raise AssertionError(f"{name} is not declared in pyproject.toml")


def installed(name: str) -> Version:
    try:
        return Version(version(name))
    except PackageNotFoundError:
        raise AssertionError(f"{name} is locked but not installed: run `make install`") from None


def test_every_lock_entry_is_an_exact_hashed_pin(lock: list[Locked]) -> None:
    for entry in lock:
        specs = list(entry.requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{entry.name} is not pinned with =="
        assert entry.hashes, f"{entry.name} has no --hash, so --require-hashes would refuse it"


def test_installed_distributions_have_the_locked_versions(locked_here: dict[str, Version]) -> None:
    drift = {
        name: f"installed {installed(name)}, locked {locked}"
        for name, locked in locked_here.items()
        if installed(name) != locked
    }
    assert not drift, f"the venv differs from {LOCK.name} (run `make install`): {drift}"


def test_every_declared_dependency_is_locked_within_its_specifier(
    locked_here: dict[str, Version],
) -> None:
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in locked_here, f"{requirement} is in pyproject.toml but not in {LOCK.name}"
        assert requirement.specifier.contains(locked_here[name], prereleases=True), (
            f"{LOCK.name} has {name}=={locked_here[name]}, outside {requirement}: run `make lock`"
        )


# The newest release known to carry each advisory: pyproject.toml must refuse it, and neither
# the lock nor the venv may hold it or anything older.
LAST_VULNERABLE = {
    "starlette": ("1.3.0", "CVE-2025-62727, CVE-2026-48710, CVE-2026-48818, CVE-2026-54283"),
    "strawberry-graphql": ("0.327.1", "CVE-2026-35523, CVE-2026-47706/-47707, CVE-2026-107727"),
    "graphql-core": ("3.3.1", "CVE-2026-134795"),
    "h11": ("0.15.0", "CVE-2025-43859"),
    "httptools": ("0.6.2", "CVE-2024-27982"),
    "orjson": ("3.11.5", "CVE-2025-67221"),
    "tqdm": ("4.66.2", "CVE-2024-34062"),
    "pydantic": ("2.3.0", "CVE-2024-3772"),
    "pyyaml": ("5.3.1", "CVE-2020-14343"),
}


@pytest.mark.parametrize("name", sorted(LAST_VULNERABLE))
def test_floors_are_past_known_advisories(name: str, locked_here: dict[str, Version]) -> None:
    last_bad, advisories = LAST_VULNERABLE[name]
    assert not declared_specifier(name).contains(last_bad, prereleases=True), (
        f"pyproject.toml still admits {name} {last_bad} ({advisories})"
    )
    assert locked_here[name] > Version(last_bad), f"{LOCK.name} holds a vulnerable {name}"
    assert installed(name) > Version(last_bad), f"the venv holds a vulnerable {name}"


# api/compiled.py uses private strawberry and graphql-core names: only the tested minor
# releases are admitted, so a resolver cannot pick an untested one.
PINNED_RANGES = {
    "strawberry-graphql": (("0.341.3",), ("0.341.2", "0.342.0", "1.0.0")),
    "graphql-core": (("3.3.2", "3.3.9"), ("3.3.1", "3.4.0")),
}


@pytest.mark.parametrize("name", sorted(PINNED_RANGES))
def test_strawberry_and_graphql_core_held_to_the_tested_range(
    name: str, locked_here: dict[str, Version]
) -> None:
    admitted, refused = PINNED_RANGES[name]
    specifier = declared_specifier(name)
    for candidate in admitted:
        assert specifier.contains(candidate), f"{name} {specifier} refuses tested {candidate}"
    for candidate in refused:
        assert not specifier.contains(candidate, prereleases=True), (
            f"{name} {specifier} admits untested {candidate}"
        )
    assert specifier.contains(locked_here[name])
    assert specifier.contains(installed(name))


def test_make_install_installs_the_lock_with_hashes() -> None:
    makefile = MAKEFILE.read_text(encoding="utf-8")
    stamp_rule = re.search(r"^\$\(STAMP\):(.*)\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert stamp_rule, "the Makefile has no $(STAMP) rule"
    prerequisites, recipe = stamp_rule.groups()
    assert "$(LOCK)" in prerequisites.split() and "pyproject.toml" in prerequisites.split()
    assert re.search(r"^LOCK := requirements\.lock$", makefile, re.MULTILINE)
    assert "pip install --quiet --require-hashes -r $(LOCK)" in recipe
    assert "pip install --quiet --no-deps -e ." in recipe
    assert re.search(r"^lock:", makefile, re.MULTILINE), "no `make lock` target"
