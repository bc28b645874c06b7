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


def _seconds(env: dict[str, str], name: str, default: float, lo: float, hi: float) -> float:
    """A duration in seconds, fractions allowed (`0.5`)."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds") from None
    if not lo <= value <= hi:  # also refuses nan
        raise SettingsError(f"{name}={value:g} is outside {lo:g}..{hi:g} seconds")
    return value


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
    max_selections: int = 2000
    max_cost: int = 200
    max_ws_connections: int = 1000
    max_ws_connections_per_key: int = 20
    max_subscriptions_per_key: int = 200
    ws_init_timeout_seconds: int = 10
    max_tokens: int = 2000
    max_batch: int = 1000
    max_page: int = 200
    max_body_bytes: int = 2_000_000
    max_subscriptions_per_connection: int = 20
    log_level: str = "INFO"
    record_checks: bool = True
    compiled_queries: bool = True
    allow_plaintext_keys: bool = False
    records_max_pending: int = 50_000
    records_max_outage_s: float = 10.0
    contact_hash_key_file: Path | None = None
    # connection and time limits (api/server.py, api/http.py, graph_model.driver and
    # graph_model.risk.analytics)
    max_connections: int = 1000
    keep_alive_timeout_s: int = 5
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_url_bytes: int = 8192
    max_header_bytes: int = 32768
    neo4j_query_timeout_s: float = 30.0
    analytics_workers: int = 1
    analytics_timeout_s: float = 20.0
    risk: RiskConfig = field(default_factory=RiskConfig)
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.records_max_pending < self.max_batch:
            # a batchCheck call's records are buffered whole: a larger one could never be
            raise SettingsError(
                f"CREDITLINK_RECORDS_MAX_PENDING={self.records_max_pending} is below "
                f"CREDITLINK_MAX_BATCH={self.max_batch}"
            )

    @property
    def embedded(self) -> bool:
        return self.neo4j_uri is None

    @property
    def bolt_uri(self) -> str:
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.bolt_port}"

    def neo4j_auth(self) -> tuple[str, str]:
        """(user, password) for the driver: NEO4J_USER/NEO4J_PASSWORD with NEO4J_URI, else
        `neo4j` and the embedded Neo4j's generated password.

        Read at each call, not with the settings: `neo4j-start` may create the file later.
        """
        if not self.embedded:
            return self.neo4j_user, self.neo4j_password
        from graph_model.runtime.embedded import USER, embedded_password

        return USER, embedded_password(self.data_dir)

    @property
    def keys_file(self) -> Path:
        return self.api_keys_file or self.data_dir / "api-keys.toml"

    @property
    def demo_keys_text_file(self) -> Path:
        """The generated demo keys in plain text, for the demo user (0600)."""
        return self.data_dir / "demo-api-keys.txt"

    @property
    def contact_key_file(self) -> Path:
        """The secret stored contact hashes are keyed with; made in the data dir unless set."""
        return self.contact_hash_key_file or self.data_dir / "contact-hash-key"

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
            # the IDE is for trying the demo: off in production unless asked for
            graphiql=_bool(
                env,
                "CREDITLINK_GRAPHIQL",
                _choice(env, "CREDITLINK_SEED", "demo", {"demo", "none"}) == "demo",
            ),
            max_query_depth=_int(env, "CREDITLINK_MAX_QUERY_DEPTH", 12, 2, 100),
            max_aliases=_int(env, "CREDITLINK_MAX_ALIASES", 30, 1, 1000),
            max_selections=_int(env, "CREDITLINK_MAX_SELECTIONS", 2000, 10, 100_000),
            max_cost=_int(env, "CREDITLINK_MAX_COST", 200, 1, 1_000_000),
            max_ws_connections=_int(env, "CREDITLINK_MAX_WS_CONNECTIONS", 1000, 1, 1_000_000),
            max_ws_connections_per_key=_int(
                env, "CREDITLINK_MAX_WS_CONNECTIONS_PER_KEY", 20, 1, 100_000
            ),
            max_subscriptions_per_key=_int(
                env, "CREDITLINK_MAX_SUBSCRIPTIONS_PER_KEY", 200, 1, 1_000_000
            ),
            ws_init_timeout_seconds=_int(env, "CREDITLINK_WS_INIT_TIMEOUT_S", 10, 1, 300),
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
            allow_plaintext_keys=_bool(env, "CREDITLINK_ALLOW_PLAINTEXT_KEYS", False),
            records_max_pending=_int(env, "CREDITLINK_RECORDS_MAX_PENDING", 50_000, 1, 10_000_000),
            records_max_outage_s=_int(env, "CREDITLINK_RECORDS_MAX_OUTAGE_S", 10, 1, 3600),
            contact_hash_key_file=(
                Path(env["CREDITLINK_CONTACT_HASH_KEY_FILE"]).resolve()
                if env.get("CREDITLINK_CONTACT_HASH_KEY_FILE")
                else None
            ),
            max_connections=_int(env, "CREDITLINK_MAX_CONNECTIONS", 1000, 1, 1_000_000),
            keep_alive_timeout_s=_int(env, "CREDITLINK_KEEP_ALIVE_TIMEOUT_S", 5, 1, 3600),
            header_timeout_s=_seconds(env, "CREDITLINK_HEADER_TIMEOUT_S", 10.0, 0.1, 3600.0),
            body_timeout_s=_seconds(env, "CREDITLINK_BODY_TIMEOUT_S", 30.0, 0.1, 3600.0),
            max_url_bytes=_int(env, "CREDITLINK_MAX_URL_BYTES", 8192, 256, 1_048_576),
            max_header_bytes=_int(env, "CREDITLINK_MAX_HEADER_BYTES", 32768, 1024, 1_048_576),
            neo4j_query_timeout_s=_seconds(
                env, "CREDITLINK_NEO4J_QUERY_TIMEOUT_S", 30.0, 0.1, 3600.0
            ),
            analytics_workers=_int(env, "CREDITLINK_ANALYTICS_WORKERS", 1, 1, 64),
            analytics_timeout_s=_seconds(env, "CREDITLINK_ANALYTICS_TIMEOUT_S", 20.0, 0.1, 3600.0),
            risk=_risk(env),
        )
