"""searchSubjects: names by words and by substring, ids by prefix; keyset pages.

Every match falls in exactly one bucket, the first that applies:
  0  the id starts with the query (ids are compared upper-case; the exact id sorts first)
  1  the name equals the query
  2  the name contains the query
  3  the name contains every word of the query (full-text index `subject_names`, CJK
     analyzer; each word is an escaped phrase, the words joined with AND)
Pages are ordered by (bucket, id), a total order, so following `endCursor` yields every
match exactly once. Each branch filters by the cursor and stops at a page's worth
before the branches are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from domain.identifiers import USCC_CHARSET, SubjectKind
from domain.vocabulary import KIND_LABEL, Label
from graph_model.driver import Graph
from graph_model.risk.common import subject_map
from graph_model.values import native

FULLTEXT_INDEX = "subject_names"
LUCENE_SPECIAL = frozenset('\\+-!():^[]"{}~*?|&/')
_ID_CHARS = frozenset(USCC_CHARSET)


def lucene_words(query: str) -> str | None:
    """Each whitespace-separated word as an escaped phrase, all required; None if none."""
    words = []
    for word in query.split():
        if not any(c.isalnum() for c in word):
            continue
        escaped = "".join("\\" + c if c in LUCENE_SPECIAL else c for c in word)
        words.append(f'"{escaped}"')
    return " AND ".join(words) if words else None


def id_prefix(query: str) -> str | None:
    text = query.strip().upper()
    if 2 <= len(text) <= 18 and all(c in _ID_CHARS for c in text):
        return text
    return None


KEYSET = "(bucket > $afterBucket OR (bucket = $afterBucket AND s.id > $afterId))"


@lru_cache(maxsize=64)
def search_query(kind: SubjectKind | None, with_ids: bool, with_words: bool) -> str:
    label = KIND_LABEL[kind].value if kind else Label.SUBJECT.value
    not_id = "NOT ($idPrefix IS NOT NULL AND s.id STARTS WITH $idPrefix)"
    branches = []
    kind_filter = f" AND s:{label}" if kind else ""
    if with_ids:
        # through the Subject(id) index, whatever the kind
        branches.append(
            f"  MATCH (s:{Label.SUBJECT.value}) WHERE s.id STARTS WITH $idPrefix{kind_filter}\n"
            "  WITH s, 0 AS bucket WHERE " + KEYSET + "\n"
            "  WITH s, bucket ORDER BY s.id LIMIT $limit\n"
            "  RETURN s, bucket\n"
        )
    branches.append(
        f"  MATCH (s:{label}) WHERE s.name CONTAINS $q AND {not_id}\n"
        "  WITH s, CASE WHEN s.name = $q THEN 1 ELSE 2 END AS bucket WHERE " + KEYSET + "\n"
        "  WITH s, bucket ORDER BY bucket, s.id LIMIT $limit\n"
        "  RETURN s, bucket\n"
    )
    if with_words:
        branches.append(
            f"  CALL db.index.fulltext.queryNodes('{FULLTEXT_INDEX}', $words) YIELD node\n"
            f"  WITH node AS s WHERE s:{Label.SUBJECT.value}{kind_filter}"
            f" AND NOT s.name CONTAINS $q AND {not_id}\n"
            "  WITH s, 3 AS bucket WHERE " + KEYSET + "\n"
            "  WITH s, bucket ORDER BY s.id LIMIT $limit\n"
            "  RETURN s, bucket\n"
        )
    return (
        "CALL () {\n"
        + "  UNION ALL\n".join(branches)
        + "}\n"
        + "WITH s, bucket ORDER BY bucket, s.id LIMIT $limit\n"
        + f"RETURN {subject_map('s')} AS subject, bucket"
    )


@dataclass(frozen=True)
class SearchPage:
    rows: list[tuple[int, dict[str, Any]]]  # (bucket, subject row)
    has_more: bool


async def search_subjects(
    graph: Graph,
    text: str,
    *,
    kind: SubjectKind | None,
    first: int,
    after: tuple[int, str] | None,
) -> SearchPage:
    """One page of matches for `text`, already cleaned (`api.arguments.clean_query`)."""
    prefix = id_prefix(text)
    words = lucene_words(text)
    params = {
        "q": text,
        "idPrefix": prefix,
        "words": words,
        "limit": first + 1,
        "afterBucket": after[0] if after else -1,
        "afterId": after[1] if after else "",
    }
    cypher = search_query(kind, prefix is not None, words is not None)
    rows = await graph.read(cypher, params, name="searchSubjects")
    found = [(int(r["bucket"]), native(r["subject"])) for r in rows]
    return SearchPage(found[:first], len(found) > first)
