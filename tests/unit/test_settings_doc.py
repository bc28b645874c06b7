"""The settings' one definition (api/settings.py) is the README's configuration table and the
only reader of the environment: every variable the product names is a setting, the README
shows exactly the generated table, and no product module reads a CREDITLINK_ variable itself.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from api.cli import main
from api.settings import PROJECT_ROOT, TABLE_BEGIN, TABLE_END, Settings, markdown_table, variable

PRODUCT = [
    path
    for package in ("api", "domain", "graph_model", "rules", "seeds")
    for path in sorted((PROJECT_ROOT / package).rglob("*.py"))
]
VARIABLES = {variable(field) for field in Settings.model_fields}
NAMED = re.compile(r"\b(?:CREDITLINK|NEO4J)_[A-Z0-9_]*")
# Neo4j's own tools read these: seeds/admin_import.py sets them for neo4j-admin
NOT_OURS = {"NEO4J_HOME", "NEO4J_CONF"}


def _readme_table() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.find(TABLE_BEGIN), readme.find(TABLE_END)
    assert 0 <= start < end, f"README.md has no {TABLE_BEGIN} ... {TABLE_END} block"
    return readme[start : end + len(TABLE_END)] + "\n"


def test_the_readme_table_is_the_generated_one() -> None:
    assert _readme_table() == markdown_table(), "run `make settings-doc`"


def test_the_table_has_a_row_with_a_meaning_for_every_variable() -> None:
    rows = [line for line in markdown_table().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [variable(f) for f in Settings.model_fields]
    for row in rows:
        name, default, accepted, meaning = (cell.strip() for cell in row.strip("|").split(" | "))
        assert default and accepted and len(meaning) > 10, row
    for name in ("CREDITLINK_MAX_PAGE", "CREDITLINK_MAX_SUBSCRIPTIONS", "NEO4J_PASSWORD"):
        assert f"| `{name}` |" in markdown_table()


def test_every_variable_the_product_names_is_a_setting() -> None:
    unknown = {}
    for path in PRODUCT:
        for name in set(NAMED.findall(path.read_text(encoding="utf-8"))) - NOT_OURS:
            # `CREDITLINK_RISK_*` in prose names a family of variables
            known = any(v.startswith(name) for v in VARIABLES) if name.endswith("_") else None
            if not (name in VARIABLES or known):
                unknown.setdefault(path.relative_to(PROJECT_ROOT).as_posix(), []).append(name)
    assert not unknown, f"not declared in api/settings.py: {unknown}"


READERS = {"os.environ.get", "environ.get", "os.getenv", "getenv", "os.environ.setdefault"}


def _environment_reads(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, name) of each `os.environ[...]`, `os.environ.get(...)` or `os.getenv(...)`
    of a literal CREDITLINK_ name."""
    found = []
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) in {"os.environ", "environ"}:
            key = node.slice
        elif isinstance(node, ast.Call) and node.args and ast.unparse(node.func) in READERS:
            key = node.args[0]
        if isinstance(key, ast.Constant) and str(key.value).startswith("CREDITLINK_"):
            found.append((node.lineno, str(key.value)))
    return found


def test_only_api_settings_reads_creditlink_variables() -> None:
    readers = {}
    for path in PRODUCT:
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        reads = _environment_reads(ast.parse(path.read_text(encoding="utf-8")))
        if reads and rel != "api/settings.py":
            readers[rel] = reads
    assert not readers, f"read Settings.from_env() instead: {readers}"


def test_the_environment_scan_finds_a_read() -> None:
    source = 'import os\nx = os.environ.get("CREDITLINK_PORT")\ny = os.getenv("HOME")\n'
    assert _environment_reads(ast.parse(source)) == [(2, "CREDITLINK_PORT")]


# -- `creditlink settings` ---------------------------------------------------------------------


def test_the_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "--markdown"]) == 0
    assert capsys.readouterr().out == markdown_table()
    assert main(["settings"]) == 0
    plain = capsys.readouterr().out
    assert "CREDITLINK_MAX_PAGE (default 200; 1..10000): " in plain and "`" not in plain


def test_the_command_rewrites_the_table_in_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = f"# Title\n\n{TABLE_BEGIN}\n| old | table |\n{TABLE_END}\n\nAfter.\n"
    path = tmp_path / "README.md"
    path.write_text(stale, encoding="utf-8")
    assert main(["settings", "--markdown", "--write", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == f"# Title\n\n{markdown_table()}\nAfter.\n"
    assert main(["settings", "--markdown", "--write", str(path)]) == 0
    assert "is current" in capsys.readouterr().out
    path.write_text("# no markers\n", encoding="utf-8")
    assert main(["settings", "--markdown", "--write", str(path)]) == 1
    assert "settings:begin" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "# no markers\n"  # nothing written
