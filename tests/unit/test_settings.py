"""`api.settings.Settings.from_env`: every setting, the risk tunables among them, read in
one place and refused at start when a value cannot be used."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from api.settings import PROJECT_ROOT, Settings, SettingsError
from graph_model.risk import clusters, controller, neighbourhood, ownership, risk_profile, suspected
from graph_model.risk.config import DEFAULT_CONFIG, RiskConfig

RISK_VARIABLES = {
    "degree_cap": ("CREDITLINK_RISK_DEGREE_CAP", 1, 1_000_000),
    "level_budget": ("CREDITLINK_RISK_LEVEL_BUDGET", 10, 1_000_000),
    "export_max_nodes": ("CREDITLINK_RISK_EXPORT_MAX_NODES", 10, 1_000_000),
    "ownership_hops": ("CREDITLINK_RISK_OWNERSHIP_HOPS", 1, 50),
    "ownership_budget": ("CREDITLINK_RISK_OWNERSHIP_BUDGET", 10, 1_000_000),
    "path_count_cap": ("CREDITLINK_RISK_PATH_COUNT_CAP", 1, 1_000_000),
    "control_threshold_pct": ("CREDITLINK_RISK_CONTROL_THRESHOLD_PCT", 1, 100),
    "suspect_limit": ("CREDITLINK_RISK_SUSPECT_LIMIT", 1, 100_000),
    "cluster_seed": ("CREDITLINK_RISK_CLUSTER_SEED", 0, 2**31 - 1),
}


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port, settings.seed) == ("127.0.0.1", 8000, "demo")
    assert settings.risk == RiskConfig() == DEFAULT_CONFIG == Settings().risk
    assert settings.risk.degree_cap == 200 and settings.risk.control_threshold == 0.25
    assert settings.risk.cluster_seed == 20261127


def test_every_risk_field_has_its_variable() -> None:
    assert set(RISK_VARIABLES) == set(RiskConfig.__dataclass_fields__)


@pytest.mark.parametrize("field", sorted(RISK_VARIABLES))
def test_each_risk_variable_is_read_with_its_range(field: str) -> None:
    name, lo, hi = RISK_VARIABLES[field]
    assert getattr(Settings.from_env({name: str(lo)}).risk, field) == lo
    assert getattr(Settings.from_env({name: str(hi)}).risk, field) == hi
    assert getattr(Settings.from_env({name: ""}).risk, field) == getattr(RiskConfig(), field)
    for bad in (lo - 1, hi + 1):
        with pytest.raises(SettingsError, match=rf"^{name}={bad} is outside {lo}\.\.{hi}$"):
            Settings.from_env({name: str(bad)})


@pytest.mark.parametrize("raw", ["ten", "1.5", "0x10", "200 nodes"])
def test_a_risk_variable_that_is_no_integer_fails_fast(raw: str) -> None:
    with pytest.raises(SettingsError, match=r"^CREDITLINK_RISK_DEGREE_CAP=.* is not an integer$"):
        Settings.from_env({"CREDITLINK_RISK_DEGREE_CAP": raw})


def test_risk_values_combine_with_the_others() -> None:
    settings = Settings.from_env(
        {
            "CREDITLINK_PORT": "8123",
            "CREDITLINK_RISK_DEGREE_CAP": "50",
            "CREDITLINK_RISK_CONTROL_THRESHOLD_PCT": "30",
        }
    )
    assert settings.port == 8123
    assert settings.risk == RiskConfig(degree_cap=50, control_threshold_pct=30)
    assert settings.risk.control_threshold == 0.3


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CREDITLINK_PORT": "0"}, "CREDITLINK_PORT=0 is outside 1..65535"),
        ({"CREDITLINK_PORT": "http"}, "CREDITLINK_PORT='http' is not an integer"),
        ({"CREDITLINK_GRAPHIQL": "maybe"}, "CREDITLINK_GRAPHIQL='maybe' is not a boolean"),
        ({"CREDITLINK_SEED": "full"}, "CREDITLINK_SEED='full' must be one of demo, none"),
    ],
)
def test_other_bad_values_fail_fast_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith(message)


# -- one place: graph_model reads no settings from the environment -----------------------------

# Locating the Java runtime (JAVA_HOME, like PATH) for the embedded Neo4j is not a setting.
ENVIRONMENT_READERS_ALLOWED = {"graph_model/runtime/embedded.py": {"JAVA_HOME"}}


def _environment_reads(path: Path) -> list[str]:
    """Each os.environ / os.getenv / os.putenv use in the file, as 'line: source'."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in {"environ", "getenv", "environb", "putenv"}
        ):
            found.append(f"{node.lineno}: {ast.get_source_segment(path.read_text(), node)}")
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            names = {a.name for a in node.names} & {"environ", "getenv", "environb"}
            if names:
                found.append(f"{node.lineno}: from os import {', '.join(sorted(names))}")
    return found


def test_graph_model_reads_no_environment() -> None:
    offenders = {}
    for path in sorted((PROJECT_ROOT / "graph_model").rglob("*.py")):
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        reads = _environment_reads(path)
        allowed = ENVIRONMENT_READERS_ALLOWED.get(rel)
        if allowed is not None:
            text = path.read_text(encoding="utf-8")
            assert len(reads) <= len(allowed) and all(name in text for name in allowed), reads
            continue
        if reads:
            offenders[rel] = reads
    assert not offenders, f"settings belong in api/settings.py, not graph_model: {offenders}"


# -- and the app passes the risk config on: every resolver call that can take one does -----

RISK_MODULES = {
    "clusters_model": clusters,
    "controller_model": controller,
    "neighbourhood_model": neighbourhood,
    "ownership_model": ownership,
    "risk_model": risk_profile,
    "suspected_model": suspected,
}


def test_every_risk_call_in_the_api_passes_the_app_config() -> None:
    source = (PROJECT_ROOT / "api" / "types" / "risk.py").read_text(encoding="utf-8")
    missing = []
    calls = 0
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in RISK_MODULES
        ):
            continue
        function = getattr(RISK_MODULES[node.func.value.id], node.func.attr, None)
        if not callable(function) or inspect.isclass(function):
            continue
        if "config" not in inspect.signature(function).parameters:
            continue
        calls += 1
        passed = {k.arg: ast.unparse(k.value) for k in node.keywords}
        if passed.get("config") != "info.context.risk":
            missing.append(f"line {node.lineno}: {ast.unparse(node.func)}")
    assert calls >= 7, calls  # relatedParties, export, owners, controller, suspected, ...
    assert not missing, f"risk queries called without config=info.context.risk: {missing}"
