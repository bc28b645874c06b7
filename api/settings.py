"""Settings: one declarative definition of every variable, read once at start, failing fast.

Each field of `Settings` is one environment variable: `CREDITLINK_<FIELD>` unless its
`validation_alias` names it (the contract's `NEO4J_*`, and a few shorter names), with its
default, its bounds and, as `description`, the README's text for it. `creditlink settings
--markdown` prints the README's configuration table from these fields.

`Settings.from_env()` reads the environment (or a given mapping); `Settings(...)` takes
exactly the values given, defaults for the rest, and never looks at the environment.
A bad value raises `SettingsError` naming the variable.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from graph_model.risk.config import RiskConfig
from rules.loader import DEFAULT_JURISDICTION, catalogue_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "CREDITLINK_"

# The risk tunables' defaults are graph_model's (what a caller without settings gets).
_RISK = RiskConfig()

# a relative path is taken from the working directory at start, not wherever it is later
ResolvedPath = Annotated[Path, AfterValidator(lambda path: path.resolve())]


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_ignore_empty=True,  # `CREDITLINK_PORT=` means the default, as unset
        frozen=True,
        extra="forbid",
        populate_by_name=True,  # Settings(bolt_port=...) as well as the variable's name
    )

    # -- where it runs ---------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="listen address")
    port: int = Field(8000, ge=1, le=65535, description="listen port")
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=64,
        json_schema_extra={"default_text": "the CPU count"},
        description="API worker processes serving the one port; a worker that dies is "
        'replaced (README, "Workers and replicas")',
    )
    data_dir: ResolvedPath = Field(
        PROJECT_ROOT / ".data",
        description="the embedded Neo4j's store and logs, the generated keys and the contact "
        "hash key (the default is in the checkout)",
    )
    bolt_port: int = Field(
        7687,
        ge=1,
        le=65535,
        validation_alias="CREDITLINK_NEO4J_BOLT_PORT",
        description="Bolt port of the embedded Neo4j (loopback only)",
    )
    neo4j_heap_mb: int = Field(1024, ge=256, le=65536, description="embedded Neo4j heap, MB")
    neo4j_pagecache_mb: int = Field(
        512, ge=64, le=65536, description="embedded Neo4j page cache, MB"
    )
    neo4j_uri: str | None = Field(
        None,
        validation_alias="NEO4J_URI",
        description="use this Neo4j instead of the embedded one",
    )
    neo4j_user: str = Field(
        "neo4j", validation_alias="NEO4J_USER", description="the user for `NEO4J_URI`"
    )
    neo4j_password: str = Field(
        "",
        validation_alias="NEO4J_PASSWORD",
        repr=False,  # settings may be printed or logged whole
        description="the password for `NEO4J_URI`",
    )
    neo4j_database: str = Field(
        "neo4j", validation_alias="NEO4J_DATABASE", description="the database for `NEO4J_URI`"
    )

    # -- keys and data -----------------------------------------------------------------------
    api_keys_file: ResolvedPath | None = Field(
        None,
        description="the API keys file (TOML, below); unset: `api-keys.toml` in the data dir, "
        "with demo keys generated into it",
    )
    allow_plaintext_keys: bool = Field(
        False,
        description="accept plain-text `key` entries in the keys file (otherwise only "
        "`key_sha256`)",
    )
    contact_hash_key_file: ResolvedPath | None = Field(
        None,
        description="the secret stored contact hashes are keyed with, the same for every API "
        "on one database; unset: `contact-hash-key` in the data dir, made on first use",
    )
    signing_key_file: ResolvedPath | None = Field(
        None,
        description="this instance's Ed25519 private key (PEM, 0600) that signs its sanction "
        "feed; unset: `exchange-signing-key.pem` in the data dir, made on first use",
    )
    partners_file: ResolvedPath | None = Field(
        None,
        description="the partners this instance pulls from (TOML: jurisdiction, url, key, "
        "public keys; docs/exchange.md); `creditlink exchange pull` reads missing options here",
    )
    seed: Literal["demo", "none"] = Field(
        "demo",
        description="`demo` loads the demo world into an empty database; `none` does not",
    )

    # -- the jurisdiction this instance is -----------------------------------------------------
    jurisdiction: str = Field(
        DEFAULT_JURISDICTION,
        pattern=r"^[a-z][a-z0-9-]{1,30}$",
        description="the jurisdiction (city) this instance is; it runs with that "
        "jurisdiction's catalogue, which must name it as local, and an issuer's sanction "
        "without `jurisdiction` is this one's",
    )
    catalogue_dir_setting: ResolvedPath | None = Field(
        None,
        validation_alias="CREDITLINK_CATALOGUE_DIR",
        description="the rules catalogue to run with; unset: the repository's "
        "`rules/catalogues/<CREDITLINK_JURISDICTION>/`",
    )

    # -- the GraphQL endpoint ----------------------------------------------------------------
    introspection: bool = Field(True, description="switch off in production")
    # no default of its own: `_graphiql_follows_seed` fills it in
    graphiql: bool = Field(
        description="GraphiQL at `GET /graphql` in a browser, bundled and served by the app "
        "(nothing from a CDN)",
        json_schema_extra={"default_text": "`true` with `CREDITLINK_SEED=demo`, else `false`"},
    )
    compiled_queries: bool = Field(
        True,
        description="serve plain queries (the checks' documents among them) from plans "
        "compiled once per document (`api/compiled.py`), with strawberry's answers; off sends "
        "every query through strawberry",
    )
    max_query_depth: int = Field(
        12, ge=2, le=100, description="how deep a query may nest; checked before Neo4j is touched"
    )
    max_aliases: int = Field(30, ge=1, le=1000, description="aliases in one query")
    max_selections: int = Field(
        2000, ge=10, le=100_000, description="fields one query selects, fragments expanded"
    )
    max_cost: int = Field(
        200,
        ge=1,
        le=1_000_000,
        description="a query's cost: expensive and personal fields, every alias and spread counted",
    )
    max_tokens: int = Field(2000, ge=50, le=100_000, description="tokens in one query document")
    max_batch: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="items in one list argument (a `batchCheck` call's checks among them)",
    )
    max_page: int = Field(
        200, ge=1, le=10_000, description="the largest page (`first`) a paginated field returns"
    )
    max_body_bytes: int = Field(
        2_000_000, ge=1024, le=100_000_000, description="a request body's size, bytes"
    )

    # -- WebSockets (`WS /graphql`, subscriptions) -------------------------------------------
    max_ws_connections: int = Field(
        1000, ge=1, le=1_000_000, description="open WebSockets in all; more are refused"
    )
    max_ws_connections_per_key: int = Field(
        20, ge=1, le=100_000, description="open WebSockets per API key"
    )
    max_subscriptions_per_key: int = Field(
        200, ge=1, le=1_000_000, description="subscriptions per API key, over its WebSockets"
    )
    max_subscriptions_per_connection: int = Field(
        20,
        ge=1,
        le=1000,
        validation_alias="CREDITLINK_MAX_SUBSCRIPTIONS",
        description="subscriptions on one WebSocket",
    )
    ws_init_timeout_seconds: int = Field(
        10,
        ge=1,
        le=300,
        validation_alias="CREDITLINK_WS_INIT_TIMEOUT_S",
        description="seconds a new WebSocket has to send `connection_init`",
    )
    event_poll_ms: int = Field(
        200,
        ge=10,
        le=10_000,
        description="how often, in milliseconds, each API process reads the sanction event "
        "log in Neo4j for its `sanctionEvents` subscribers: they hear a change made through "
        "any process over the same database within about this",
    )

    # -- connections and time limits -----------------------------------------------------------
    max_connections: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        description="open connections (WebSockets and idle keep-alives included) past which "
        "requests are answered 503",
    )
    keep_alive_timeout_s: int = Field(
        5, ge=1, le=3600, description="an idle kept-alive connection is closed after this"
    )
    header_timeout_s: float = Field(
        10.0,
        ge=0.1,
        le=3600.0,
        allow_inf_nan=False,
        description="a request's headers must arrive within this; else 408 and the connection "
        "is closed",
    )
    body_timeout_s: float = Field(
        30.0,
        ge=0.1,
        le=3600.0,
        allow_inf_nan=False,
        description="a request's whole body must arrive within this; else 408 and the "
        "connection is closed",
    )
    max_url_bytes: int = Field(
        8192,
        ge=256,
        le=1_048_576,
        description="a longer URL is answered 414 (send queries in a POST body)",
    )
    max_header_bytes: int = Field(
        32768, ge=1024, le=1_048_576, description="a larger header block is answered 431"
    )
    neo4j_query_timeout_s: float = Field(
        30.0,
        ge=0.1,
        le=3600.0,
        allow_inf_nan=False,
        description="every Neo4j transaction's time limit, sent by the driver with it (so an "
        "external Neo4j enforces it too); a query past it answers `QUERY_TOO_COMPLEX`. The "
        "embedded Neo4j's own limit (60 s) is the backstop for work outside the API",
    )
    analytics_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="worker processes for `riskClusters`' Louvain and `exportNeighbourhood`'s "
        "documents, one job each at a time (more answer `SERVICE_UNAVAILABLE`)",
    )
    analytics_timeout_s: float = Field(
        20.0,
        ge=0.1,
        le=3600.0,
        allow_inf_nan=False,
        description="an analytics job's time limit: past it `QUERY_TOO_COMPLEX`, and its "
        "worker is stopped",
    )
    shutdown_grace_s: int = Field(
        30,
        ge=1,
        le=3600,
        description="on SIGTERM, how long the requests in flight have to finish; those still "
        "running then are cut. The buffered records are written after it either way",
    )

    # -- logs and check records ----------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="JSON logs on stderr, one object a line, with a request id"
    )
    record_checks: bool = Field(
        True,
        description="write a `CheckRecord` for every check (off only for load tests and "
        "read-only replicas)",
    )
    record_journal: bool = Field(
        True,
        description="keep check and access records in a local journal "
        "(`<data dir>/journal/`), on disk before the answer leaves, until they are in Neo4j: "
        "a process killed meanwhile loses none, they are written when it starts again",
    )
    records_max_pending: int = Field(
        50_000,
        ge=1,
        le=10_000_000,
        description="the most check records (and, apart, access records) held in memory "
        "waiting to be written; past it, new checks answer `SERVICE_UNAVAILABLE` (at least "
        "`CREDITLINK_MAX_BATCH`)",
    )
    records_max_outage_s: int = Field(
        10,
        ge=1,
        le=3600,
        description="once the oldest unwritten record has waited this many seconds with no "
        "write succeeding, checks (and audited reads) answer `SERVICE_UNAVAILABLE` instead of "
        "being answered without a record, until a write succeeds; `/readyz` says so and "
        "`creditlink_check_records_refusing` is 1",
    )

    # -- related-party risk (graph_model.risk.config.RiskConfig, one field each) ---------------
    risk_degree_cap: int = Field(
        _RISK.degree_cap,
        ge=1,
        le=1_000_000,
        description="related-party walks: a node with more links is listed, not expanded",
    )
    risk_level_budget: int = Field(
        _RISK.level_budget,
        ge=10,
        le=1_000_000,
        description="related-party walks: nodes per level; more sets `truncated`",
    )
    risk_export_max_nodes: int = Field(
        _RISK.export_max_nodes,
        ge=10,
        le=1_000_000,
        description="nodes `exportNeighbourhood` writes at most",
    )
    risk_ownership_hops: int = Field(
        _RISK.ownership_hops,
        ge=1,
        le=50,
        description="equity penetration: shareholder hops walked upward",
    )
    risk_ownership_budget: int = Field(
        _RISK.ownership_budget,
        ge=10,
        le=1_000_000,
        description="equity penetration: holders kept",
    )
    risk_path_count_cap: int = Field(
        _RISK.path_count_cap,
        ge=1,
        le=1_000_000,
        description="equity penetration: ownership chains counted per beneficial owner",
    )
    risk_control_threshold_pct: int = Field(
        _RISK.control_threshold_pct,
        ge=1,
        le=100,
        description="`actualController`: the share (per cent) the largest beneficial owner "
        "needs to control",
    )
    risk_suspect_limit: int = Field(
        _RISK.suspect_limit,
        ge=1,
        le=100_000,
        description="`suspectedLinks` and the risk profile: subjects read per shared contact",
    )
    risk_cluster_seed: int = Field(
        _RISK.cluster_seed,
        ge=0,
        le=2**31 - 1,
        description="`riskClusters`: the Louvain seed, so the same data gives the same clusters",
    )

    # -- rules between fields ------------------------------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _risk_given_whole(cls, data: Any) -> Any:
        """`Settings(risk=RiskConfig(...))` sets every risk_* field from graph_model's type."""
        if isinstance(data, dict) and isinstance(data.get("risk"), RiskConfig):
            data = dict(data)
            risk = data.pop("risk")
            data.update({f"risk_{k}": v for k, v in dataclasses.asdict(risk).items()})
        return data

    @model_validator(mode="before")
    @classmethod
    def _graphiql_follows_seed(cls, data: Any) -> Any:
        """The IDE is for trying the demo: unless set, on with the demo seed only."""
        if isinstance(data, dict) and data.get("graphiql") is None:
            seed = data.get("seed") or cls.model_fields["seed"].default
            data = {**data, "graphiql": seed == "demo"}
        return data

    @model_validator(mode="after")
    def _a_batch_fits_the_records_buffer(self) -> Settings:
        # a batchCheck call's records are buffered whole: a larger one could never be
        if self.records_max_pending < self.max_batch:
            raise ValueError(
                f"{variable('records_max_pending')}={self.records_max_pending} is below "
                f"{variable('max_batch')}={self.max_batch}"
            )
        return self

    # -- construction ----------------------------------------------------------------------------

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only the values given: the environment is read by from_env, so that Settings(...)
        # in a test or a script means what it says whatever the shell exported.
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in `environ` (default: the process environment)."""
        source = _Environment(cls, os.environ if environ is None else environ)
        return cls(**source())

    # -- derived -------------------------------------------------------------------------------

    @property
    def risk(self) -> RiskConfig:
        """The risk tunables as graph_model takes them (made at each call, so a copy of these
        settings with other values never answers with stale ones)."""
        return RiskConfig(
            **{f.name: getattr(self, f"risk_{f.name}") for f in dataclasses.fields(RiskConfig)}
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
    def signing_key_path(self) -> Path:
        """The feed's signing key; made in the data dir unless set."""
        return self.signing_key_file or self.data_dir / "exchange-signing-key.pem"

    @property
    def contact_key_file(self) -> Path:
        """The secret stored contact hashes are keyed with; made in the data dir unless set."""
        return self.contact_hash_key_file or self.data_dir / "contact-hash-key"

    @property
    def catalogue_dir(self) -> Path:
        """The catalogue this instance runs with: CREDITLINK_CATALOGUE_DIR, else the
        repository's catalogue of CREDITLINK_JURISDICTION. Read at each call, as the
        directory may come and go; SettingsError, naming the variable, when it is not there."""
        if self.catalogue_dir_setting is not None:
            if not self.catalogue_dir_setting.is_dir():
                raise SettingsError(
                    f"{variable('catalogue_dir_setting')}={self.catalogue_dir_setting}: "
                    "no such directory"
                )
            return self.catalogue_dir_setting
        directory = catalogue_dir(self.jurisdiction)
        if not directory.is_dir():
            raise SettingsError(
                f"{variable('jurisdiction')}={self.jurisdiction}: no catalogue for it at "
                f"{directory}; set {variable('catalogue_dir_setting')} to one"
            )
        return directory


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # As EnvSettingsSource's own (names compared lower-cased, empty values left out), but
        # only upper-case names are ours: `creditlink_port` is some other variable.
        return {
            name.lower(): value
            for name, value in self._environ.items()
            if name.isupper() and not (self.env_ignore_empty and value == "")
        }


# -- the variables, for messages and the README ------------------------------------------------


def variable(field: str) -> str:
    """The environment variable a field is read from."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else PREFIX + field.upper()


def _field_named(key: str) -> str | None:
    """The field a validation error's location names (by field or by variable)."""
    if key in Settings.model_fields:
        return key
    for name in Settings.model_fields:
        if variable(name) == key:
            return name
    return None


def _bounds(info: FieldInfo) -> tuple[Any, Any]:
    lo = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), None)
    hi = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), None)
    return lo, hi


def _range(info: FieldInfo) -> str:
    lo, hi = _bounds(info)
    if info.annotation is float:
        return f"{lo:g}..{hi:g} seconds"
    return f"{lo}..{hi}"


def _choices(info: FieldInfo) -> tuple[str, ...]:
    return typing.get_args(info.annotation) if typing.get_origin(info.annotation) is Literal else ()


def _explain(exc: ValidationError) -> str:
    """pydantic's first error as one line naming the variable, `NAME=value what is wrong`."""
    error = exc.errors(include_url=False)[0]
    kind, raw = error["type"], error.get("input")
    if kind == "value_error":  # a rule between fields: its message names the variables
        return str(error["ctx"]["error"])
    key = str(error["loc"][0]) if error["loc"] else ""
    field = _field_named(key)
    if field is None:
        return f"{key} is not a setting" if kind == "extra_forbidden" else error["msg"]
    name, info = variable(field), Settings.model_fields[field]
    if kind in {"int_parsing", "int_from_float", "int_type"}:
        return f"{name}={raw!r} is not an integer"
    if kind in {"float_parsing", "float_type"}:
        return f"{name}={raw!r} is not a number of seconds"
    if kind in {"greater_than_equal", "less_than_equal", "finite_number"}:
        return f"{name}={raw} is outside {_range(info)}"
    if kind in {"bool_parsing", "bool_type"}:
        return f"{name}={raw!r} is not a boolean (true/false)"
    if kind == "literal_error":
        return f"{name}={raw!r} must be one of {', '.join(sorted(_choices(info)))}"
    return f"{name}={raw!r}: {error['msg']}"


TABLE_BEGIN = "<!-- settings:begin: `creditlink settings --markdown --write README.md` -->"
TABLE_END = "<!-- settings:end -->"


def _default_text(info: FieldInfo) -> str:
    extra = info.json_schema_extra
    text = extra.get("default_text") if isinstance(extra, dict) else None
    if isinstance(text, str):
        return text
    value = info.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, Path):
        return f"`{value.relative_to(PROJECT_ROOT).as_posix()}/`"
    return f"`{value}`" if value != "" else "empty"


def _mentions(annotation: Any, kind: type) -> bool:
    return annotation is kind or any(_mentions(a, kind) for a in typing.get_args(annotation))


def _accepted(name: str, info: FieldInfo) -> str:
    choices = _choices(info)
    if choices:
        return ", ".join(f"`{choice}`" for choice in choices)
    if info.annotation is bool:
        return "`true`, `false`"
    if info.annotation in {int, float}:
        seconds = info.annotation is float or name.endswith(("_s", "_seconds"))
        return f"{_range(info).removesuffix(' seconds')}{' s' if seconds else ''}"
    return "a path" if _mentions(info.annotation, Path) else "text"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference() -> list[tuple[str, str, str, str]]:
    """(variable, default, accepted values, meaning) for every setting, in definition order."""
    return [
        (variable(name), _default_text(info), _accepted(name, info), info.description or "")
        for name, info in Settings.model_fields.items()
    ]


def markdown_table() -> str:
    """The README's configuration table, between its markers."""
    rows = ["| variable | default | accepted | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{name}` | {default} | {accepted} | {_cell(meaning)} |"
        for name, default, accepted, meaning in reference()
    ]
    return "\n".join([TABLE_BEGIN, *rows, TABLE_END]) + "\n"


def with_table(document: str) -> str:
    """`document` with the text between the table's markers (markers included) replaced."""
    start, end = document.find(TABLE_BEGIN), document.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"no {TABLE_BEGIN} ... {TABLE_END} block to write the table into")
    after = end + len(TABLE_END)
    if document[after : after + 1] == "\n":
        after += 1
    return document[:start] + markdown_table() + document[after:]
