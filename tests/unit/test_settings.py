"""`api.settings.Settings`: every setting, the risk tunables among them, declared once, read
from its variable by `Settings.from_env`, and refused at start, naming the variable, when a
value cannot be used; `Settings(...)` takes exactly what it is given."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import typing
from pathlib import Path
from typing import Any

import pytest

from api.settings import PROJECT_ROOT, Settings, SettingsError, variable
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
FIELDS = sorted(Settings.model_fields)


def _bounds(field: str) -> tuple[Any, Any]:
    metadata = Settings.model_fields[field].metadata
    lo = next(m.ge for m in metadata if getattr(m, "ge", None) is not None)
    hi = next(m.le for m in metadata if getattr(m, "le", None) is not None)
    return lo, hi


BOUNDED = [f for f in FIELDS if Settings.model_fields[f].annotation in {int, float}]


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port, settings.seed) == ("127.0.0.1", 8000, "demo")
    assert settings == Settings()
    assert settings.data_dir == PROJECT_ROOT / ".data" and settings.embedded
    assert settings.risk == RiskConfig() == DEFAULT_CONFIG == Settings().risk
    assert settings.risk.degree_cap == 200 and settings.risk.control_threshold == 0.25
    assert settings.risk.cluster_seed == 20261127
    assert (settings.max_page, settings.max_subscriptions_per_connection) == (200, 20)


def test_every_risk_field_is_a_setting_with_its_variable() -> None:
    for field in (f.name for f in dataclasses.fields(RiskConfig)):
        assert variable(f"risk_{field}") == RISK_VARIABLES[field][0]
        assert Settings.model_fields[f"risk_{field}"].default == getattr(DEFAULT_CONFIG, field)
    assert set(RISK_VARIABLES) == {f.name for f in dataclasses.fields(RiskConfig)}


def _another_value(field: str, tmp_path: Path) -> tuple[str, Any]:
    """A value other than the default, as the variable's text and as the parsed attribute."""
    info = Settings.model_fields[field]
    default = getattr(Settings(), field)
    if info.annotation is bool:
        return str(not default).lower(), not default
    if info.annotation is int:
        return str(default + 1), default + 1
    if info.annotation is float:
        return str(default + 0.5), default + 0.5
    if typing.get_origin(info.annotation) is typing.Literal:
        other = next(c for c in typing.get_args(info.annotation) if c != default)
        return other, other
    if "Path" in str(info.annotation):
        return str(tmp_path / field), tmp_path / field
    return f"{field}-value", f"{field}-value"


@pytest.mark.parametrize("field", FIELDS)
def test_each_variable_is_read_into_its_field(field: str, tmp_path: Path) -> None:
    raw, parsed = _another_value(field, tmp_path)
    settings = Settings.from_env({variable(field): raw})
    assert getattr(settings, field) == parsed
    assert getattr(settings, field) != getattr(Settings(), field)
    # an empty value is the default, as an unset one
    assert getattr(Settings.from_env({variable(field): ""}), field) == getattr(Settings(), field)


# the other side of the one rule between two numbers, moved out of the way
ROOM = {"max_batch": {"records_max_pending": 10_000_000}, "records_max_pending": {"max_batch": 1}}


@pytest.mark.parametrize("field", BOUNDED)
def test_each_number_is_held_to_its_range_naming_the_variable(field: str) -> None:
    name, (lo, hi) = variable(field), _bounds(field)
    room = ROOM.get(field, {})
    env = {variable(other): str(value) for other, value in room.items()}
    for good in (lo, hi):
        assert getattr(Settings.from_env({**env, name: str(good)}), field) == good
        assert getattr(Settings(**room, **{field: good}), field) == good
    seconds = " seconds" if Settings.model_fields[field].annotation is float else ""
    span = f"{lo:g}..{hi:g}" if seconds else f"{lo}..{hi}"
    step = 0.01 if seconds else 1
    for bad in (lo - step, hi + step):
        message = f"{name}={bad} is outside {span}{seconds}"
        with pytest.raises(SettingsError) as caught:
            Settings.from_env({**env, name: str(bad)})
        assert str(caught.value) == message
        with pytest.raises(SettingsError) as caught:
            Settings(**room, **{field: bad})  # constructed directly: the same check and name
        assert str(caught.value) == message


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


def test_risk_tunables_can_be_given_whole() -> None:
    risk = RiskConfig(degree_cap=2, cluster_seed=7)
    settings = Settings(risk=risk)
    assert settings.risk == risk and (settings.risk_degree_cap, settings.risk_cluster_seed) == (
        2,
        7,
    )
    with pytest.raises(
        SettingsError, match=r"^CREDITLINK_RISK_DEGREE_CAP=0 is outside 1\.\.1000000$"
    ):
        Settings(risk=RiskConfig(degree_cap=0))


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
        (
            {"CREDITLINK_NEO4J_BOLT_PORT": "7687.5"},
            "CREDITLINK_NEO4J_BOLT_PORT='7687.5' is not an integer",
        ),
        (
            {"CREDITLINK_MAX_SUBSCRIPTIONS": "1001"},
            "CREDITLINK_MAX_SUBSCRIPTIONS=1001 is outside 1..1000",
        ),
        (
            {"CREDITLINK_GRAPHIQL": "maybe"},
            "CREDITLINK_GRAPHIQL='maybe' is not a boolean (true/false)",
        ),
        ({"CREDITLINK_SEED": "full"}, "CREDITLINK_SEED='full' must be one of demo, none"),
        (
            {"CREDITLINK_LOG_LEVEL": "debug"},
            "CREDITLINK_LOG_LEVEL='debug' must be one of DEBUG, ERROR, INFO, WARNING",
        ),
        (
            {"CREDITLINK_BODY_TIMEOUT_S": "soon"},
            "CREDITLINK_BODY_TIMEOUT_S='soon' is not a number of seconds",
        ),
        (
            {"CREDITLINK_BODY_TIMEOUT_S": "inf"},
            "CREDITLINK_BODY_TIMEOUT_S=inf is outside 0.1..3600 seconds",
        ),
        (
            {"CREDITLINK_NEO4J_QUERY_TIMEOUT_S": "nan"},
            "CREDITLINK_NEO4J_QUERY_TIMEOUT_S=nan is outside 0.1..3600 seconds",
        ),
        (
            {"CREDITLINK_RECORDS_MAX_OUTAGE_S": "2.5"},
            "CREDITLINK_RECORDS_MAX_OUTAGE_S='2.5' is not an integer",
        ),
    ],
)
def test_other_bad_values_fail_fast_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "raw", ["true", "TRUE", "1", "yes", "Yes", "on", "false", "0", "no", "off", "OFF"]
)
def test_booleans_read_as_words_or_digits(raw: str) -> None:
    expected = raw.lower() in {"true", "1", "yes", "on"}
    assert Settings.from_env({"CREDITLINK_RECORD_CHECKS": raw}).record_checks is expected


def test_durations_take_fractions_of_a_second_where_they_are_floats() -> None:
    settings = Settings.from_env(
        {"CREDITLINK_HEADER_TIMEOUT_S": "0.5", "CREDITLINK_ANALYTICS_TIMEOUT_S": "7.25"}
    )
    assert (settings.header_timeout_s, settings.analytics_timeout_s) == (0.5, 7.25)


def test_paths_are_resolved_when_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env(
        {"CREDITLINK_DATA_DIR": "data", "CREDITLINK_API_KEYS_FILE": "keys/../keys.toml"}
    )
    assert settings.data_dir == tmp_path.resolve() / "data"
    assert settings.keys_file == tmp_path.resolve() / "keys.toml"
    assert settings.contact_key_file == tmp_path.resolve() / "data" / "contact-hash-key"


def test_rules_between_settings() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"CREDITLINK_RECORDS_MAX_PENDING": "999"})
    assert str(caught.value) == (
        "CREDITLINK_RECORDS_MAX_PENDING=999 is below CREDITLINK_MAX_BATCH=1000"
    )
    with pytest.raises(SettingsError, match=r"^CREDITLINK_RECORDS_MAX_PENDING=10 is below"):
        Settings(records_max_pending=10, max_batch=20)
    assert Settings.from_env({"CREDITLINK_RECORDS_MAX_PENDING": "10", "CREDITLINK_MAX_BATCH": "10"})
    # GraphiQL, unless set: on with the demo seed only, however the settings are made
    assert Settings(seed="none").graphiql is False and Settings(seed="demo").graphiql is True
    assert Settings(seed="none", graphiql=True).graphiql is True
    assert Settings.from_env({"CREDITLINK_SEED": "none"}).graphiql is False
    assert (
        Settings.from_env({"CREDITLINK_SEED": "demo", "CREDITLINK_GRAPHIQL": "off"}).graphiql
        is False
    )


def test_settings_made_directly_take_the_values_given_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CREDITLINK_PORT", "8123")
    monkeypatch.setenv("NEO4J_URI", "bolt://elsewhere:7687")
    assert Settings().port == 8000 and Settings().embedded  # the environment is from_env's
    assert Settings.from_env().port == 8123 and not Settings.from_env().embedded
    assert Settings(bolt_port=7700).bolt_uri == "bolt://127.0.0.1:7700"
    with pytest.raises(SettingsError, match=r"^CREDITLINK_PORT='http' is not an integer$"):
        Settings(port="http")
    with pytest.raises(SettingsError, match=r"^max_pages is not a setting$"):
        Settings(max_pages=10)
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]


def test_only_upper_case_names_are_settings() -> None:
    assert Settings.from_env({"creditlink_port": "9"}).port == 8000


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
