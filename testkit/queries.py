"""The GraphQL documents the benchmark sends (ours and the peer's), which tests send too."""

from __future__ import annotations

CHECK_GQL = (
    "query($id: ID!, $area: ApplicationArea!) { jointSanctionCheck(subjectId: $id, area: $area) "
    "{ checkId subjectKnown decision measures { role suppressed measure { id effect } "
    "sanction { id listType { id } status } path { from relation to validFrom validTo } } } }"
)
BATCH_GQL = (
    "query($ids: [ID!]!, $area: ApplicationArea!) { batchCheck(subjectIds: $ids, area: $area) "
    "{ checkId subjectId subjectKnown decision measures { role measure { id } sanction { id } } } }"
)
# subject -> its legal representatives -> the units they represent -> those units' sanctions
PEER_GQL = (
    "query($id: ID!) { subjects(where: {id: {eq: $id}}) { id name "
    "legalRepresentatives { id name represents { id name "
    "sanctions { id listType status decidedOn validFrom validTo recognized } } } } }"
)
