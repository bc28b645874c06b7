"""searchSubjects against real Neo4j: Chinese words and substrings, id prefixes, keyset
pages that yield every match once, Lucene syntax in input, roles and bad input."""

from __future__ import annotations

from typing import Any

from graph_model.driver import Graph
from tests.conftest import ApiServer
from tests.integration.risk_world import errors_of, put, subject

SEARCH = """
query($q: String!, $kind: SubjectKind, $first: Int, $after: String) {
  searchSubjects(query: $q, kind: $kind, first: $first, after: $after) {
    edges { cursor matchedBy node { id kind name } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def search(api: ApiServer, q: str, key: str = "regulator-key", **variables: Any) -> dict[str, Any]:
    body = api.post(SEARCH, {"q": q, **variables}, key=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["searchSubjects"]
    return result


def names(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["node"]["name"], e["matchedBy"]) for e in result["edges"]]


def everything(api: ApiServer, q: str, first: int, **variables: Any) -> list[dict[str, Any]]:
    edges: list[dict[str, Any]] = []
    after = None
    for _ in range(500):
        page = search(api, q, first=first, after=after, **variables)
        edges += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["pageInfo"]["endCursor"] == (edges[-1]["cursor"] if page["edges"] else None)
            return edges
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("too many pages")


async def test_words_substrings_and_id_prefixes(api_server: ApiServer, graph: Graph) -> None:
    shoes = subject("ENTERPRISE", "温州市鹿城区瓯江鞋业有限公司")
    leather = subject("ENTERPRISE", "温州瓯江皮革有限公司")
    exact = subject("INDIVIDUAL_BUSINESS", "瓯江鞋业")
    latin = subject("ENTERPRISE", "WENZHOU 鞋业 Trading 有限公司")
    person = subject("PERSON", "陈建国")
    other = subject("ENTERPRISE", "乐清市正泰电器有限公司", district="330382")
    await put(graph, [shoes, leather, exact, latin, person, other])

    # a two-character word: every name containing it, by id
    found = search(api_server, "鞋业")
    assert {(e["node"]["name"], e["matchedBy"]) for e in found["edges"]} == {
        (shoes["name"], "NAME_SUBSTRING"), (exact["name"], "NAME_SUBSTRING"),
        (latin["name"], "NAME_SUBSTRING"),
    }  # fmt: skip
    got = [e["node"]["id"] for e in found["edges"]]
    assert got == sorted(got) and found["pageInfo"]["hasNextPage"] is False
    # the exact name comes first
    assert names(search(api_server, "瓯江鞋业")) == [
        (exact["name"], "EXACT_NAME"), (shoes["name"], "NAME_SUBSTRING"),
    ]  # fmt: skip
    # substrings that are no word, and a single character
    assert names(search(api_server, "江鞋")) == sorted(
        [(shoes["name"], "NAME_SUBSTRING"), (exact["name"], "NAME_SUBSTRING")],
        key=lambda n: next(s["id"] for s in (shoes, exact) if s["name"] == n[0]),
    )
    assert {n for n, _ in names(search(api_server, "革"))} == {leather["name"]}
    # words in any order, not contiguous: the full-text index
    words = names(search(api_server, "瓯江 有限公司"))
    assert set(words) == {(shoes["name"], "NAME_WORDS"), (leather["name"], "NAME_WORDS")}
    # the CJK analyzer folds Latin case: a word match the substring cannot make
    assert names(search(api_server, "wenzhou")) == [(latin["name"], "NAME_WORDS")]
    # ids by prefix, the exact id first; resident IDs too
    by_id = search(api_server, shoes["id"][:10].lower())
    assert [e["matchedBy"] for e in by_id["edges"]] == ["ID_PREFIX"] * len(by_id["edges"])
    assert shoes["id"] in {e["node"]["id"] for e in by_id["edges"]}
    assert search(api_server, shoes["id"])["edges"][0]["node"]["id"] == shoes["id"]
    assert [e["node"]["id"] for e in search(api_server, person["id"][:12])["edges"]] == [
        person["id"]
    ]
    # the kind filter
    assert names(search(api_server, "鞋业", kind="INDIVIDUAL_BUSINESS")) == [
        (exact["name"], "NAME_SUBSTRING")
    ]
    assert search(api_server, "陈建国", kind="ENTERPRISE")["edges"] == []
    # Lucene syntax in the input is text, not query syntax
    for hostile in [
        "鞋业 AND (",
        '"瓯江',
        "*:*",
        "瓯江~2 OR 皮革^3",
        "\\",
        "NOT 鞋业",
        "a/b[c]{d}",
    ]:
        search(api_server, hostile)  # no error
    assert search(api_server, "*:*")["edges"] == []  # not "match everything"
    assert search(api_server, "瓯江~2 OR 皮革^3")["edges"] == []  # no fuzzy, no OR
    # the words 鞋业 and "AND" (an English stop word the analyzer drops), not an operator
    assert {n for n, m in names(search(api_server, "鞋业 AND ("))} == {
        shoes["name"],
        exact["name"],
        latin["name"],
    }


async def test_pages_yield_every_match_once(api_server: ApiServer, graph: Graph) -> None:
    units = [subject("ENTERPRISE", f"瓯海测试{i:02d}号商贸有限公司") for i in range(23)]
    units += [subject("INDIVIDUAL_BUSINESS", f"测试{i}店") for i in range(9)]
    word_only = [subject("ENTERPRISE", f"测 试{i}") for i in range(3)]  # "测" and "试" apart
    word_only += [subject("ENTERPRISE", f"测试 {i}") for i in range(2)]
    await put(graph, units + word_only)
    everyone = everything(api_server, "测试", first=4)
    ids = [e["node"]["id"] for e in everyone]
    assert len(ids) == len(set(ids)) == 23 + 9 + 2
    order = {"ID_PREFIX": 0, "EXACT_NAME": 1, "NAME_SUBSTRING": 2, "NAME_WORDS": 3}
    keys = [(order[e["matchedBy"]], e["node"]["id"]) for e in everyone]
    assert keys == sorted(keys)
    # two words: substring matches none of the spaced names, words match them all
    spaced = everything(api_server, "测 试", first=2)
    assert {e["node"]["id"] for e in spaced} >= {s["id"] for s in word_only[:3]}
    assert len({e["node"]["id"] for e in spaced}) == len(spaced)
    # a cursor belongs to its query
    page = search(api_server, "测试", first=3)
    err = errors_of(
        api_server.post(
            SEARCH, {"q": "测", "after": page["pageInfo"]["endCursor"]}, key="regulator-key"
        )
    )
    assert err[0] == "BAD_USER_INPUT" and err[1].startswith("after:")


async def test_roles_and_bad_input(api_server: ApiServer) -> None:
    def err(key: str | None = "regulator-key", **variables: Any) -> str | None:
        return errors_of(api_server.post(SEARCH, {"q": "鞋业", **variables}, key=key))[0]

    assert err(key="approval-key") == "FORBIDDEN"
    assert err(key="court-key") == "FORBIDDEN"
    assert err(key=None) == "UNAUTHENTICATED"
    assert err(key="public-key") == "UNAUTHENTICATED"
    assert err(key="admin-key") is None
    assert err(first=0) == "BAD_USER_INPUT"
    assert err(first=201) == "BAD_USER_INPUT"
    assert err(first=200) is None
    assert err(q="   ") == "BAD_USER_INPUT"
    assert err(q="鞋" * 101) == "BAD_USER_INPUT"
    assert err(after="garbage") == "BAD_USER_INPUT"
