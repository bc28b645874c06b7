"""What every resolver sees: the app's shared state and this request's principal and loaders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from api.auth import Capability, KeyRing, Principal, Role
from api.settings import Settings
from api.sockets import SocketRegistry
from domain.time import utc_now
from graph_model import registry
from graph_model.access_records import AccessRecorder, IdKind, access_row
from graph_model.driver import Graph
from graph_model.risk.config import RiskConfig
from rules.models import Catalogue

# whose reads of personal data leave an AccessRecord (Context.audit)
AUDITED_ROLES = frozenset({Role.APPROVAL_SYSTEM})

if TYPE_CHECKING:
    from api.analytics import AnalyticsPool
    from api.events import EventBroker
    from api.exchange.signing import SigningKey
    from api.keys_watch import KeyFileWatcher
    from api.metrics import Metrics
    from graph_model.check_records import CheckRecorder
    from graph_model.checks import CheckEngine
    from graph_model.impact import ImpactEngine


@dataclass
class AppState:
    """Owned by the app's lifespan: one per process."""

    settings: Settings
    graph: Graph
    catalogue: Catalogue
    keys: KeyRing
    metrics: Metrics
    events: EventBroker
    checks: CheckEngine
    impact: ImpactEngine
    recorder: CheckRecorder
    access: AccessRecorder
    ready_reason: str | None = "starting"
    sockets: SocketRegistry = field(default_factory=SocketRegistry)
    # replaces `keys` when the keys file changes; on_change() tells of each swap
    keys_watcher: KeyFileWatcher | None = None
    # worker processes for riskClusters' Louvain and exports (None: they run in-process)
    analytics: AnalyticsPool | None = None
    # signs this instance's sanction feed pages (None: the feed is not served)
    signing_key: SigningKey | None = None

    async def records_durable(self) -> None:
        """Return once every check and access record this process took so far would
        outlive it (SERVICE_UNAVAILABLE otherwise): awaited before any answer leaves."""
        await self.recorder.durable()
        await self.access.durable()


@dataclass
class Context:
    state: AppState
    principal: Principal
    request_id: str
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    # set by the WebSocket handshake (graphql-transport-ws connection_init payload)
    connection_params: dict[str, Any] | None = None

    @property
    def graph(self) -> Graph:
        return self.state.graph

    @property
    def catalogue(self) -> Catalogue:
        return self.state.catalogue

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def risk(self) -> RiskConfig:
        """The risk tunables the app was started with (Settings.from_env)."""
        return self.state.settings.risk

    def require(self, capability: Capability, what: str) -> Principal:
        self.principal.require(capability, what)
        return self.principal

    def audit(self, what: str, ids: Sequence[str], *, id_kind: IdKind = "subjectIds") -> None:
        """Record that this caller reads `what` of these ids, when its role is audited;
        SERVICE_UNAVAILABLE instead when the record could not be kept. Called before the
        read, so a read that fails is recorded as asked."""
        principal = self.principal
        if principal.role not in AUDITED_ROLES:
            return
        self.state.access.record(
            access_row(
                field=what,
                ids=ids,
                id_kind=id_kind,
                key_name=principal.name,
                department=principal.department,
                role=principal.role.value,
                request_id=self.request_id,
                at=utc_now(),
            )
        )

    def subject_loader(self) -> DataLoader[str, dict[str, Any] | None]:
        loader = self.loaders.get("subject")
        if loader is None:
            graph = self.graph

            async def load(ids: list[str]) -> list[dict[str, Any] | None]:
                found = await registry.get_subjects(graph, ids)
                return [found.get(i) for i in ids]

            loader = DataLoader(load_fn=load, max_batch_size=1000)
            self.loaders["subject"] = loader
        return loader


# what a resolver's `info` argument is
Info = strawberry.Info[Context, None]
