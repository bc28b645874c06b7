"""Related-party risk for regulators: neighbourhoods, owners, controllers, suspected
links, explained risk, clusters, export and subject search. REGULATOR and ADMIN only."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import strawberry

from api.analytics import compute
from api.arguments import (
    clean_query,
    decode_cursor,
    depth_arg,
    encode_cursor,
    fingerprint,
    first_arg,
    relations_arg,
)
from api.auth import Capability
from api.context import Info
from api.export import ExportFormat, export
from api.types.enums import RelationType, SubjectKind

# PageInfo and RiskFactor are the contract's shared shapes, defined once (with the ratings)
from api.types.evaluation import PageInfo, RiskFactor
from api.types.sanctions import Sanction
from api.types.subjects import Household, Link, Subject, subject_from_row
from domain.districts import normalise_district
from domain.errors import BadUserInput, InvalidId
from domain.identifiers import SubjectKind as DomainKind
from domain.identifiers import (
    kind_of_valid_id,
    validate_any_subject_id,
    validate_resident_id,
    validate_uscc,
)
from domain.scoring import clusters
from domain.scoring.control import ControlBasis
from domain.scoring.suspicion import SuspicionBasis
from domain.time import aware, utc_now
from domain.vocabulary import PUNITIVE_KINDS, Rel
from graph_model.risk import clusters as clusters_model
from graph_model.risk import controller as controller_model
from graph_model.risk import neighbourhood as neighbourhood_model
from graph_model.risk import ownership as ownership_model
from graph_model.risk import risk_profile as risk_model
from graph_model.risk import search as search_model
from graph_model.risk import suspected as suspected_model
from graph_model.risk.config import DEFAULT_CONFIG, MAX_DEPTH

# -- shared shapes ---------------------------------------------------------------------------


def _moment(at: dt.datetime | None) -> dt.datetime:
    return aware(at, field="at") if at is not None else utc_now()


def _sanctions(rows: list[dict[str, Any]]) -> list[Sanction]:
    return [Sanction.of(row) for row in sorted(rows, key=lambda r: r["id"])]


def _punitive(rows: list[dict[str, Any]]) -> bool:
    return any(row["kind"] in PUNITIVE_KINDS for row in rows)


def _unit_id(value: strawberry.ID, field: str, wanted: str) -> str:
    """A well-formed id that is not a resident ID (a person cannot be owned or controlled)."""
    sid = validate_any_subject_id(str(value), field=field)
    if kind_of_valid_id(sid) is None:
        try:
            validate_uscc(sid, field=field)
        except InvalidId:  # not a credit code: a resident ID
            validate_resident_id(sid, field=field)
            raise BadUserInput(f"{field}: {sid} is a person, not {wanted}", field=field) from None
    return sid


# -- relatedParties ----------------------------------------------------------------------------


@strawberry.enum(description="What a neighbourhood node is: a subject's kind, or a household.")
class PartyKind(StrEnum):
    ENTERPRISE = "ENTERPRISE"
    PUBLIC_INSTITUTION = "PUBLIC_INSTITUTION"
    INDIVIDUAL_BUSINESS = "INDIVIDUAL_BUSINESS"
    PERSON = "PERSON"
    HOUSEHOLD = "HOUSEHOLD"


@strawberry.type(description="A node of a neighbourhood: a subject, or a household (户).")
class RelatedParty:
    id: strawberry.ID
    kind: PartyKind
    name: str | None
    district: str | None
    distance: int = strawberry.field(description="Links from the centre (0 for the centre).")
    degree: int = strawberry.field(
        description="Stored links of the asked relation types, whatever their dates."
    )
    expanded: bool = strawberry.field(description="Whether its own neighbours were walked.")
    capped: bool = strawberry.field(
        description="A super-node within the depth that was not expanded; see `capped`."
    )
    sanctioned: bool = strawberry.field(
        description="A black- or watch-list entry applies to it at the time asked."
    )
    sanctions: list[Sanction] = strawberry.field(
        description="The entries (any list kind) applying to it at the time asked."
    )
    subject: Subject | None = strawberry.field(description="Null for a household.")
    household: Household | None = strawberry.field(description="Null for a subject.")


@strawberry.type(description="A super-node listed but not expanded, and how to see the rest.")
class CappedNode:
    id: strawberry.ID
    distance: int
    degree: int
    hint: str


@strawberry.type(
    description="One page of a bounded neighbourhood. Nodes come ordered by (distance, id); "
    "each link of the neighbourhood is on the page of its later end in that order, so "
    "following endCursor yields every node and every link exactly once."
)
class Neighbourhood:
    subject_id: strawberry.ID
    at: dt.datetime
    max_depth: int
    relations: list[RelationType]
    degree_cap: int
    total_count: int = strawberry.field(description="Nodes in the whole neighbourhood.")
    truncated: bool = strawberry.field(
        description="A level held more nodes than the level budget; the smallest ids were kept."
    )
    nodes: list[RelatedParty]
    links: list[Link]
    capped: list[CappedNode] = strawberry.field(
        description="Every super-node of the whole neighbourhood, not only of this page."
    )
    page_info: PageInfo


def _party(item: dict[str, Any]) -> RelatedParty:
    node = item["node"]
    is_household = node["kind"] == neighbourhood_model.HOUSEHOLD_KIND
    return RelatedParty(
        id=strawberry.ID(node["id"]),
        kind=PartyKind(node["kind"]),
        name=node.get("name"),
        district=node.get("district"),
        distance=item["distance"],
        degree=item["degree"],
        expanded=item["expanded"],
        capped=item["capped"],
        sanctioned=_punitive(item["sanctions"]),
        sanctions=_sanctions(item["sanctions"]),
        subject=None if is_household else subject_from_row(node),
        household=(
            Household(
                id=strawberry.ID(node["id"]),
                district=node.get("district"),
                address=node.get("address"),
            )
            if is_household
            else None
        ),
    )


def _capped(
    row: dict[str, Any], depth: int, relations: tuple[Rel, ...], degree_cap: int
) -> CappedNode:
    also = ""
    if relations != tuple(Rel):
        also = f", relations: [{', '.join(r.value for r in relations)}]"
    return CappedNode(
        id=strawberry.ID(row["id"]),
        distance=row["distance"],
        degree=row["degree"],
        hint=(
            f"{row['degree']} links, above the cap of {degree_cap}: not expanded. "
            f'Query relatedParties(subjectId: "{row["id"]}", maxDepth: '
            f"{max(1, depth - row['distance'])}{also}) and follow pageInfo.endCursor for the rest."
        ),
    )


NEIGHBOURHOOD_CURSOR = "relatedParties"


# -- owners, controllers ---------------------------------------------------------------------


@strawberry.type
class BeneficialOwner:
    owner: Subject
    share: float = strawberry.field(description="Total direct and indirect share, 0..1.")
    paths: int = strawberry.field(
        description="Distinct simple chains of holdings to the enterprise, counted up to "
        f"a configured cap ({DEFAULT_CONFIG.path_count_cap} by default; the cap means "
        "'at least')."
    )


# registers the domain enums themselves (strawberry.enum returns the class it is given)
strawberry.enum(ControlBasis, name="ControlBasis")


@strawberry.type(description="One hop of a control chain (a holder's links in one unit added up).")
class ControlStep:
    from_: strawberry.ID = strawberry.field(name="from")
    relation: RelationType
    to: strawberry.ID
    ratio: float | None
    valid_from: dt.date
    valid_to: dt.date | None
    link_ids: list[strawberry.ID]


@strawberry.type
class ActualController:
    enterprise_id: strawberry.ID
    at: dt.datetime
    basis: ControlBasis
    controller: Subject | None
    share: float | None = strawberry.field(
        description="The controller's total share, for MAJORITY_CHAIN (product along the "
        "chain) and LARGEST_BENEFICIAL_OWNER."
    )
    path: list[ControlStep] = strawberry.field(description="From the controller to the unit.")
    reasoning: list[str]


# -- suspected links -------------------------------------------------------------------------

strawberry.enum(SuspicionBasis, name="SuspicionBasis")


@strawberry.type(
    description="A SUSPECTED link: the other subject shares a phone, an address or a "
    "household with this one. Not a registered relationship; never used by checks. "
    "The shared contact itself is never shown."
)
class SuspectedLink:
    subject: Subject
    bases: list[SuspicionBasis]
    household_ids: list[strawberry.ID]
    sanctioned: bool
    sanctions: list[Sanction]


@strawberry.type
class SuspectedLinks:
    subject_id: strawberry.ID
    at: dt.datetime
    total_count: int = strawberry.field(
        description="Suspected links found (at most a configured number per basis, "
        f"{DEFAULT_CONFIG.suspect_limit} by default)."
    )
    links: list[SuspectedLink] = strawberry.field(description="Sanctioned ones first, then by id.")


# -- risk --------------------------------------------------------------------------------------


@strawberry.type
class RiskProfile:
    subject_id: strawberry.ID
    score: float = strawberry.field(description="0..100, the clamped sum of the factors' weights.")
    factors: list[RiskFactor]
    at: dt.datetime


@strawberry.enum(description="What binds two members of a risk cluster.")
class BondBasis(StrEnum):
    LEGAL_REPRESENTATIVE_OF = "LEGAL_REPRESENTATIVE_OF"
    SHAREHOLDER_OF = "SHAREHOLDER_OF"
    EXECUTIVE_OF = "EXECUTIVE_OF"
    OPERATOR_OF = "OPERATOR_OF"
    BRANCH_OF = "BRANCH_OF"
    ACTUAL_CONTROLLER_OF = "ACTUAL_CONTROLLER_OF"
    SHARED_HOUSEHOLD = "SHARED_HOUSEHOLD"
    SHARED_PHONE = "SHARED_PHONE"
    SHARED_ADDRESS = "SHARED_ADDRESS"


@strawberry.type
class ClusterMember:
    subject: Subject
    sanctioned: bool


@strawberry.type(
    description="A bond inside a cluster: a registered link (linkId set, from -> to as "
    "stored) or a suspected one (SHARED_*; householdId for a shared household)."
)
class ClusterBond:
    from_: strawberry.ID = strawberry.field(name="from")
    to: strawberry.ID
    basis: BondBasis
    link_id: strawberry.ID | None
    household_id: strawberry.ID | None


@strawberry.type
class BondCount:
    basis: BondBasis
    count: int


@strawberry.type
class RiskCluster:
    id: strawberry.ID
    size: int
    members: list[ClusterMember]
    sanctions: list[Sanction] = strawberry.field(
        description="Black- and watch-list entries applying to members."
    )
    bonds: list[ClusterBond]
    bond_counts: list[BondCount]
    why: str


def _cluster(cluster: clusters.Cluster) -> RiskCluster:
    registered = {r.value for r in Rel}
    return RiskCluster(
        id=strawberry.ID(cluster.id),
        size=len(cluster.members),
        members=[
            ClusterMember(subject=subject_from_row(m["subject"]), sanctioned=bool(m["sanctions"]))
            for m in cluster.members
        ],
        sanctions=[Sanction.of(s) for s in cluster.sanctions],
        bonds=[
            ClusterBond(
                from_=strawberry.ID(b["a"]),
                to=strawberry.ID(b["b"]),
                basis=BondBasis(b["basis"]),
                link_id=strawberry.ID(b["ref"]) if b["basis"] in registered else None,
                household_id=(
                    strawberry.ID(b["ref"])
                    if b["basis"] == BondBasis.SHARED_HOUSEHOLD and b["ref"]
                    else None
                ),
            )
            for b in cluster.bonds
        ],
        bond_counts=[
            BondCount(basis=BondBasis(k), count=v) for k, v in cluster.bond_counts.items()
        ],
        why=cluster.why,
    )


strawberry.enum(ExportFormat, name="ExportFormat")


# -- search ------------------------------------------------------------------------------------


@strawberry.enum(description="Why a subject matched a search.")
class SearchMatch(StrEnum):
    ID_PREFIX = "ID_PREFIX"
    EXACT_NAME = "EXACT_NAME"
    NAME_SUBSTRING = "NAME_SUBSTRING"
    NAME_WORDS = "NAME_WORDS"


SEARCH_MATCHES = (
    SearchMatch.ID_PREFIX,
    SearchMatch.EXACT_NAME,
    SearchMatch.NAME_SUBSTRING,
    SearchMatch.NAME_WORDS,
)
SEARCH_CURSOR = "searchSubjects"


@strawberry.type
class SubjectEdge:
    cursor: str
    node: Subject
    matched_by: SearchMatch


@strawberry.type
class SubjectConnection:
    edges: list[SubjectEdge]
    page_info: PageInfo


# -- the root ------------------------------------------------------------------------------------


@strawberry.type
class RiskQuery:
    @strawberry.field(
        description="A subject's bounded neighbourhood (links valid at `at`), one keyset page "
        "of nodes ordered by (distance, id) with the links they own; super-nodes are listed, "
        "not expanded."
    )
    async def related_parties(
        self,
        info: Info,
        subject_id: strawberry.ID,
        max_depth: int = 2,
        relations: list[RelationType] | None = None,
        at: dt.datetime | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Neighbourhood:
        info.context.require(Capability.REGULATE, "relatedParties")
        sid = validate_any_subject_id(str(subject_id), field="subjectId")
        depth = depth_arg(max_depth, maximum=MAX_DEPTH)
        rels = relations_arg([Rel(r) for r in relations] if relations is not None else None)
        size = first_arg(first, maximum=info.context.settings.max_page)
        print_ = fingerprint(sid, depth, *rels)
        key: tuple[int, str] | None = None
        moment = _moment(at)
        if after is not None:
            cursor = decode_cursor(after, NEIGHBOURHOOD_CURSOR, print_, arity=2)
            if at is not None and cursor.at is not None and moment != cursor.at:
                raise BadUserInput(
                    "at: differs from the time the cursor's first page was read "
                    f"({cursor.at.isoformat()}); leave it out when paging",
                    field="at",
                )
            moment = cursor.at or moment
            d, last = cursor.key
            if not isinstance(d, int) or not isinstance(last, str):
                raise BadUserInput("after: not a cursor returned by this query", field="after")
            key = (d, last)
        page = await neighbourhood_model.neighbourhood_page(
            info.context.graph,
            subject_id=sid,
            depth=depth,
            relations=rels,
            at=moment,
            first=size,
            after=key,
            config=info.context.risk,
        )
        nodes = sorted(page.nodes, key=lambda n: (n["distance"], n["node"]["id"]))
        end = None
        if nodes:
            last_node = nodes[-1]
            end = encode_cursor(
                NEIGHBOURHOOD_CURSOR,
                print_,
                [last_node["distance"], last_node["node"]["id"]],
                at=moment,
            )
        return Neighbourhood(
            subject_id=strawberry.ID(sid),
            at=moment,
            max_depth=depth,
            relations=list(rels),
            degree_cap=page.degree_cap,
            total_count=page.total,
            truncated=page.truncated,
            nodes=[_party(n) for n in nodes],
            links=[Link.of(link) for n in nodes for link in n["links"]],
            capped=[_capped(c, depth, rels, page.degree_cap) for c in page.capped],
            page_info=PageInfo(has_next_page=page.has_more, end_cursor=end),
        )

    @strawberry.field(
        description="Natural persons, public institutions and units without shareholders "
        "whose total share (every chain of SHAREHOLDER_OF links valid at `at`, through "
        "cycles) is at least `threshold`, largest first."
    )
    async def ultimate_beneficial_owners(
        self,
        info: Info,
        enterprise_id: strawberry.ID,
        threshold: float | None = 0.25,
        at: dt.datetime | None = None,
    ) -> list[BeneficialOwner]:
        info.context.require(Capability.REGULATE, "ultimateBeneficialOwners")
        eid = _unit_id(enterprise_id, "enterpriseId", "an enterprise")
        limit = 0.25 if threshold is None else threshold
        if not 0.0 <= limit <= 1.0:
            raise BadUserInput(f"threshold: {limit} is outside [0, 1]", field="threshold")
        owners = await ownership_model.beneficial_owners(
            info.context.graph, eid, limit, _moment(at), config=info.context.risk
        )
        return [
            BeneficialOwner(owner=subject_from_row(o.subject), share=o.share, paths=o.paths)
            for o in owners
        ]

    @strawberry.field(
        description="The unit's actual controller: declared, else through a majority chain, "
        "else its largest beneficial owner above the configured threshold; with the reasoning."
    )
    async def actual_controller(
        self, info: Info, enterprise_id: strawberry.ID, at: dt.datetime | None = None
    ) -> ActualController:
        info.context.require(Capability.REGULATE, "actualController")
        eid = _unit_id(enterprise_id, "enterpriseId", "a unit")
        found = await controller_model.actual_controller(
            info.context.graph, eid, _moment(at), config=info.context.risk
        )
        return ActualController(
            enterprise_id=strawberry.ID(found.enterprise_id),
            at=found.at,
            basis=found.basis,
            controller=subject_from_row(found.controller) if found.controller else None,
            share=found.share,
            path=[
                ControlStep(
                    from_=strawberry.ID(s.from_id),
                    relation=Rel(s.relation),
                    to=strawberry.ID(s.to_id),
                    ratio=s.ratio,
                    valid_from=s.valid_from,
                    valid_to=s.valid_to,
                    link_ids=[strawberry.ID(i) for i in s.link_ids],
                )
                for s in found.path
            ],
            reasoning=found.reasoning,
        )

    @strawberry.field(
        description="Subjects sharing a phone, an address or a household (at `at`) with this "
        "one: suspected, never registered, links; the shared value is never shown."
    )
    async def suspected_links(
        self,
        info: Info,
        subject_id: strawberry.ID,
        at: dt.datetime | None = None,
        first: int = 50,
    ) -> SuspectedLinks:
        info.context.require(Capability.REGULATE, "suspectedLinks")
        sid = validate_any_subject_id(str(subject_id), field="subjectId")
        size = first_arg(first, maximum=info.context.settings.max_page)
        found = await suspected_model.suspected_links(
            info.context.graph, sid, _moment(at), first=size, config=info.context.risk
        )
        return SuspectedLinks(
            subject_id=strawberry.ID(sid),
            at=found.at,
            total_count=found.total,
            links=[
                SuspectedLink(
                    subject=subject_from_row(link["subject"]),
                    bases=[SuspicionBasis(b) for b in link["bases"]],
                    household_ids=[strawberry.ID(h) for h in link["households"]],
                    sanctioned=link["sanctioned"],
                    sanctions=_sanctions(link["sanctions"]),
                )
                for link in found.links
            ],
        )

    @strawberry.field(description="A 0-100 risk score with the factors that produced it.")
    async def risk_profile(
        self, info: Info, subject_id: strawberry.ID, at: dt.datetime | None = None
    ) -> RiskProfile:
        info.context.require(Capability.REGULATE, "riskProfile")
        sid = validate_any_subject_id(str(subject_id), field="subjectId")
        profile = await risk_model.risk_profile(
            info.context.graph, sid, _moment(at), config=info.context.risk
        )
        return RiskProfile(
            subject_id=strawberry.ID(sid),
            score=profile.score,
            factors=[
                RiskFactor(code=f.code, weight=f.weight, detail=f.detail) for f in profile.factors
            ],
            at=profile.at,
        )

    @strawberry.field(
        description="Communities (Louvain, fixed seed) of the district's sanctioned subjects "
        "and those one registered or suspected link from them, most sanctioned first."
    )
    async def risk_clusters(
        self,
        info: Info,
        district: str,
        min_size: int = 3,
        at: dt.datetime | None = None,
        first: int = 50,
    ) -> list[RiskCluster]:
        info.context.require(Capability.REGULATE, "riskClusters")
        code = normalise_district(district, field="district")
        assert code is not None
        if not 2 <= min_size <= 10_000:
            raise BadUserInput(f"minSize: {min_size} is outside 2..10000", field="minSize")
        size = first_arg(first, maximum=info.context.settings.max_page)
        facts = await clusters_model.cluster_facts(
            info.context.graph, code, _moment(at), config=info.context.risk
        )
        bonds = clusters.unique_bonds(facts.bonds)
        nodes, edges = clusters.weighted_edges(facts.members, bonds)
        found = await compute(
            info.context.state.analytics,
            "riskClusters",
            clusters.communities,
            nodes,
            edges,
            info.context.risk.cluster_seed,
        )
        ordered = clusters.assemble(facts.members, bonds, found, min_size=min_size)
        return [_cluster(c) for c in ordered[:size]]

    @strawberry.field(
        description="A whole neighbourhood (as relatedParties walks it) as a GraphML or "
        "Cytoscape.js JSON document."
    )
    async def export_neighbourhood(
        self,
        info: Info,
        subject_id: strawberry.ID,
        format: ExportFormat,
        max_depth: int = 2,
        relations: list[RelationType] | None = None,
        at: dt.datetime | None = None,
    ) -> str:
        info.context.require(Capability.REGULATE, "exportNeighbourhood")
        sid = validate_any_subject_id(str(subject_id), field="subjectId")
        depth = depth_arg(max_depth, maximum=MAX_DEPTH)
        rels = relations_arg([Rel(r) for r in relations] if relations is not None else None)
        page = await neighbourhood_model.neighbourhood_page(
            info.context.graph,
            subject_id=sid,
            depth=depth,
            relations=rels,
            at=_moment(at),
            first=info.context.risk.export_max_nodes,
            config=info.context.risk,
            name="exportNeighbourhood",
        )
        return await compute(
            info.context.state.analytics,
            "exportNeighbourhood",
            export,
            page,
            ExportFormat(format),
        )

    @strawberry.field(
        description="Subjects by id prefix, exact name, name substring or name words "
        "(full-text, CJK), in that order, then by id; keyset pages."
    )
    async def search_subjects(
        self,
        info: Info,
        query: str,
        kind: SubjectKind | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> SubjectConnection:
        info.context.require(Capability.REGULATE, "searchSubjects")
        size = first_arg(20 if first is None else first, maximum=info.context.settings.max_page)
        text = clean_query(query)
        domain_kind = DomainKind(kind) if kind is not None else None
        print_ = fingerprint(text, domain_kind)
        key: tuple[int, str] | None = None
        if after is not None:
            cursor = decode_cursor(after, SEARCH_CURSOR, print_, arity=2)
            bucket, last = cursor.key
            if not isinstance(bucket, int) or not isinstance(last, str):
                raise BadUserInput("after: not a cursor returned by this query", field="after")
            key = (bucket, last)
        page = await search_model.search_subjects(
            info.context.graph, text, kind=domain_kind, first=size, after=key
        )
        edges = [
            SubjectEdge(
                cursor=encode_cursor(SEARCH_CURSOR, print_, [bucket, row["id"]]),
                node=subject_from_row(row),
                matched_by=SEARCH_MATCHES[bucket],
            )
            for bucket, row in page.rows
        ]
        return SubjectConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_more, end_cursor=edges[-1].cursor if edges else None
            ),
        )
