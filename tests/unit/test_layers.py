"""Each package keeps to its layer (CONTRIBUTING.md, "Layout").

`domain` is pure and imports nothing of the project's other packages; `rules` builds on
`domain` only; `graph_model` may read `rules`' typed models but nothing of `api` or
`seeds`; no product package reaches into `bench` or `tests`; Cypher is written only in
`graph_model`. Imports are read from the source with `ast`, those inside functions and
`TYPE_CHECKING` blocks included: a dependency is a dependency wherever it is imported.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("domain", "rules", "graph_model", "api", "seeds")
# Third-party libraries the domain may use: computation in memory, no I/O of any kind.
# networkx carries the equity solver's graph algorithms (domain.scoring.equity).
PURE_LIBRARIES = frozenset({"networkx"})
# The standard library's network, process and database modules: no I/O in the domain.
IO_MODULES = frozenset(
    {"asyncio", "ftplib", "http", "smtplib", "socket", "sqlite3", "ssl", "subprocess", "urllib"}
)
# The start of a Cypher clause, as no English sentence or GraphQL document writes it.
CYPHER = re.compile(r"\b(?:OPTIONAL MATCH|MATCH|MERGE|CREATE) \(|\bUNWIND \$")


@dataclass(frozen=True)
class Import:
    where: str  # path:line
    module: str  # absolute, dotted

    @property
    def top(self) -> str:
        return self.module.partition(".")[0]


def sources(package: str) -> list[Path]:
    found = sorted((PROJECT_ROOT / package).rglob("*.py"))
    assert found, f"no Python files under {package}/"
    return found


def imports_of(package: str) -> Iterator[Import]:
    for path in sources(package):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(PROJECT_ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(f"{where}:{node.lineno}", alias.name)
            elif isinstance(node, ast.ImportFrom):
                # a relative import stays inside the package it is written in
                module = package if node.level else node.module or ""
                yield Import(f"{where}:{node.lineno}", module)


def offenders(package: str, forbidden: frozenset[str]) -> list[str]:
    return [f"{i.where} imports {i.module}" for i in imports_of(package) if i.top in forbidden]


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    allowed = (sys.stdlib_module_names - IO_MODULES) | PURE_LIBRARIES | {"domain"}
    found = [f"{i.where} imports {i.module}" for i in imports_of("domain") if i.top not in allowed]
    assert not found, "the domain core must stay pure:\n" + "\n".join(found)


# what each package may not import of the project (graph_model may read rules' models)
ABOVE: dict[str, frozenset[str]] = {
    "rules": frozenset({"graph_model", "api", "seeds"}),
    "graph_model": frozenset({"api", "seeds"}),
}


@pytest.mark.parametrize("package", sorted(ABOVE))
def test_a_package_imports_nothing_of_the_layers_above_it(package: str) -> None:
    found = offenders(package, ABOVE[package])
    assert not found, f"{package}/ reaches above its layer:\n" + "\n".join(found)


@pytest.mark.parametrize("package", PRODUCT)
def test_no_product_package_imports_the_benchmark_or_the_tests(package: str) -> None:
    found = offenders(package, frozenset({"bench", "tests"}))
    assert not found, "\n".join(found)


def test_api_holds_no_cypher() -> None:
    found = []
    for path in sources("api"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and CYPHER.search(text):
                where = path.relative_to(PROJECT_ROOT).as_posix()
                found.append(f"{where}:{node.lineno}: {text[:60]!r}")
    assert not found, "Cypher belongs in graph_model/:\n" + "\n".join(found)


# -- the tests' own layout ----------------------------------------------------------------
# Shared helpers live in helper modules (tests/integration/helpers.py, scenario.py, ...) and
# fixtures in conftest.py: a test module imported by another drags its tests' setup along
# and hides what is shared where nobody looks for it.


def _is_test_module(module: str) -> bool:
    *package, name = module.split(".")
    path = PROJECT_ROOT.joinpath(*package, f"{name}.py")
    return name.startswith("test_") and path.is_file()


@pytest.mark.parametrize("package", ["tests", "bench"])
def test_no_module_imports_a_test_module(package: str) -> None:
    found = []
    for path in sources(package):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(PROJECT_ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # `from tests.x import test_y` names a module as much as `import tests.x.test_y`
                modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            found += [f"{where}:{node.lineno} imports {m}" for m in modules if _is_test_module(m)]
    assert not found, "move what is shared into a helper module or a fixture:\n" + "\n".join(found)


def _defines_a_test(tree: ast.Module) -> bool:
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, functions) and node.name.startswith("test"):
            return True
        if (
            isinstance(node, ast.ClassDef)
            and node.name.startswith("Test")
            and any(isinstance(n, functions) and n.name.startswith("test") for n in node.body)
        ):
            return True
    return False


def test_every_test_module_holds_a_test() -> None:
    empty = [
        path.relative_to(PROJECT_ROOT).as_posix()
        for path in sorted((PROJECT_ROOT / "tests").rglob("test_*.py"))
        if not _defines_a_test(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    ]
    assert not empty, "a module of helpers is not named test_*.py:\n" + "\n".join(empty)


# -- graph_model is the driver, migrations, Cypher and the embedded runtime ------------------
# Every module under graph_model/ imports the driver (neo4j, graph_model.driver) or writes
# Cypher: the queries, the functions that run them, and what turns their rows into facts.
# What computes from facts goes to domain/scoring (rules/scoring when it applies the rules'
# configuration); formats and worker processes go to api/. The exceptions, and why:
TALKS_TO_NO_DATABASE = {
    # the related-party queries' caps and budgets: the settings the queries are given
    "graph_model/risk/config.py",
    # the embedded Neo4j itself: starts and stops the Java launcher that runs it
    "graph_model/runtime/embedded.py",
    # the record buffers' write-ahead journal: the local disk half of writing records
    "graph_model/journal.py",
    # the secrets beside the database: the key its contact hashes are keyed with
    "graph_model/secret_files.py",
}
DRIVER_MODULES = ("neo4j", "graph_model.driver")


def _talks_to_the_database(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if CYPHER.search(node.value):
                return True
            continue
        else:
            continue
        if any(n == m or n.startswith(f"{m}.") for n in names for m in DRIVER_MODULES):
            return True
    return False


def _only_a_docstring(tree: ast.Module) -> bool:
    return all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in tree.body
    )


def test_every_graph_model_module_talks_to_the_database() -> None:
    pure = []
    for path in sources("graph_model"):
        where = path.relative_to(PROJECT_ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if where in TALKS_TO_NO_DATABASE or _only_a_docstring(tree):
            continue
        if not _talks_to_the_database(tree):
            pure.append(where)
    assert not pure, (
        "neither the driver nor Cypher: move it to domain/scoring, rules/scoring or api/:\n"
        + "\n".join(pure)
    )


def test_the_exceptions_to_graph_model_talking_to_the_database_exist() -> None:
    missing = sorted(p for p in TALKS_TO_NO_DATABASE if not (PROJECT_ROOT / p).is_file())
    assert not missing, f"stale entries in TALKS_TO_NO_DATABASE: {missing}"


def test_graph_model_builds_no_score() -> None:
    """A score is built of `Factor`s: a module that makes them computes, and belongs beside
    the scoring it does, not beside the query that read its facts."""
    found = [
        f"{i.where} imports {i.module}"
        for i in imports_of("graph_model")
        if i.module == "domain.scoring.factors"
    ]
    assert not found, "scoring belongs in domain/scoring or rules/scoring:\n" + "\n".join(found)
