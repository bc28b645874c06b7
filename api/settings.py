"""Settings, read once at start from the environment, failing fast on bad values.

Every variable is prefixed `CREDITLINK_` except the `NEO4J_*` ones the contract names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from graph_model.risk.config import RiskConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable."""


def _int(env: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name}={value} is outside {lo}..{hi}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (true/false)")


def _risk(env: dict[str, str]) -> RiskConfig:
    """The related-party risk tunables (graph_model.risk.config), defaults from RiskConfig."""
    d = RiskConfig()
    return RiskConfig(
        degree_cap=_int(env, "CREDITLINK_RISK_DEGREE_CAP", d.degree_cap, 1, 1_000_000),
        level_budget=_int(env, "CREDITLINK_RISK_LEVEL_BUDGET", d.level_budget, 10, 1_000_000),
        export_max_nodes=_int(
            env, "CREDITLINK_RISK_EXPORT_MAX_NODES", d.export_max_nodes, 10, 1_000_000
        ),
        ownership_hops=_int(env, "CREDITLINK_RISK_OWNERSHIP_HOPS", d.ownership_hops, 1, 50),
        ownership_budget=_int(
            env, "CREDITLINK_RISK_OWNERSHIP_BUDGET", d.ownership_budget, 10, 1_000_000
        ),
        path_count_cap=_int(env, "CREDITLINK_RISK_PATH_COUNT_CAP", d.path_count_cap, 1, 1_000_000),
        control_threshold_pct=_int(
            env, "CREDITLINK_RISK_CONTROL_THRESHOLD_PCT", d.control_threshold_pct, 1, 100
        ),
        suspect_limit=_int(env, "CREDITLINK_RISK_SUSPECT_LIMIT", d.suspect_limit, 1, 100_000),
        cluster_seed=_int(env, "CREDITLINK_RISK_CLUSTER_SEED", d.cluster_seed, 0, 2**31 - 1),
    )


def _choice(env: dict[str, str], name: str, default: str, choices: set[str]) -> str:
    raw = env.get(name) or default
    if raw not in choices:
        raise SettingsError(f"{name}={raw!r} must be one of {', '.join(sorted(choices))}")
    return raw


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = PROJECT_ROOT / ".data"
    bolt_port: int = 7687
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    api_keys_file: Path | None = None
    seed: str = "demo"
    neo4j_heap_mb: int = 1024
    neo4j_pagecache_mb: int = 512
    introspection: bool = True
    graphiql: bool = True
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_batch: int = 1000
    max_page: int = 200
    max_body_bytes: int = 2_000_000
    max_subscriptions_per_connection: int = 20
    log_level: str = "INFO"
    record_checks: bool = True
    compiled_queries: bool = True
    risk: RiskConfig = field(default_factory=RiskConfig)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return self.neo4j_uri is None

    @property
    def bolt_uri(self) -> str:
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def keys_file(self) -> Path:
        return self.api_keys_file or self.data_dir / "api-keys.toml"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env.get("CREDITLINK_DATA_DIR") or PROJECT_ROOT / ".data").resolve()
        keys = env.get("CREDITLINK_API_KEYS_FILE")
        return cls(
            host=env.get("CREDITLINK_HOST") or "127.0.0.1",
            port=_int(env, "CREDITLINK_PORT", 8000, 1, 65535),
            data_dir=data_dir,
            bolt_port=_int(env, "CREDITLINK_NEO4J_BOLT_PORT", 7687, 1, 65535),
            neo4j_uri=env.get("NEO4J_URI") or None,
            neo4j_user=env.get("NEO4J_USER") or "neo4j",
            neo4j_password=env.get("NEO4J_PASSWORD") or "",
            neo4j_database=env.get("NEO4J_DATABASE") or "neo4j",
            api_keys_file=Path(keys).resolve() if keys else None,
            seed=_choice(env, "CREDITLINK_SEED", "demo", {"demo", "none"}),
            neo4j_heap_mb=_int(env, "CREDITLINK_NEO4J_HEAP_MB", 1024, 256, 65536),
            neo4j_pagecache_mb=_int(env, "CREDITLINK_NEO4J_PAGECACHE_MB", 512, 64, 65536),
            introspection=_bool(env, "CREDITLINK_INTROSPECTION", True),
            graphiql=_bool(env, "CREDITLINK_GRAPHIQL", True),
            max_query_depth=_int(env, "CREDITLINK_MAX_QUERY_DEPTH", 12, 2, 100),
            max_aliases=_int(env, "CREDITLINK_MAX_ALIASES", 30, 1, 1000),
            max_tokens=_int(env, "CREDITLINK_MAX_TOKENS", 2000, 50, 100_000),
            max_batch=_int(env, "CREDITLINK_MAX_BATCH", 1000, 1, 100_000),
            max_page=_int(env, "CREDITLINK_MAX_PAGE", 200, 1, 10_000),
            max_body_bytes=_int(env, "CREDITLINK_MAX_BODY_BYTES", 2_000_000, 1024, 100_000_000),
            max_subscriptions_per_connection=_int(env, "CREDITLINK_MAX_SUBSCRIPTIONS", 20, 1, 1000),
            log_level=_choice(
                env, "CREDITLINK_LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}
            ),
            record_checks=_bool(env, "CREDITLINK_RECORD_CHECKS", True),
            compiled_queries=_bool(env, "CREDITLINK_COMPILED_QUERIES", True),
            risk=_risk(env),
        )
