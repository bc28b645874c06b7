"""`creditlink import` against a real Neo4j: good files load, a bad file writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from api.cli import main as cli_main
from graph_model.checks import CheckEngine
from graph_model.contact_key import KEY_FILE_NAME, load_key
from graph_model.csv_import import import_files
from graph_model.driver import Graph
from rules.loader import load_catalogue
from tests.conftest import TEST_DATA, Neo4jServer
from tests.csv_files import (
    BUSINESS,
    ENTERPRISE,
    HOUSEHOLDS,
    LINKS,
    PERSON,
    SANCTIONS,
    SUBJECTS,
    write,
)

KEY_FILE = TEST_DATA / KEY_FILE_NAME
CONTACT_KEY = load_key(KEY_FILE, create=True)
COUNTS = (
    "MATCH (n) WHERE n:Subject OR n:Household OR n:Sanction "
    "WITH count(n) AS nodes "
    "OPTIONAL MATCH (:Subject)-[r]->() WHERE NOT type(r) IN ['AGAINST'] "
    "RETURN nodes, count(r) AS links"
)


async def counts(graph: Graph) -> tuple[int, int]:
    row = (await graph.read(COUNTS))[0]
    return row["nodes"], row["links"]


async def test_good_files_load_and_the_check_sees_them(tmp_path: Path, graph: Graph) -> None:
    files = write(
        tmp_path, subjects=SUBJECTS, households=HOUSEHOLDS, links=LINKS, sanctions=SANCTIONS
    )
    catalogue = load_catalogue()
    report, written = await import_files(
        graph.driver, graph.database, files, catalogue, contact_key=CONTACT_KEY, progress=False
    )
    assert report.ok, report.format()
    assert written == {"subjects": 5, "households": 1, "links": 6, "sanctions": 2}
    assert await counts(graph) == (8, 6)
    sanction = (
        await graph.read(
            "MATCH (d:Department)-[:ISSUED]->(s:Sanction {id: 'S-1'})-[:AGAINST]->(t) "
            "OPTIONAL MATCH (s)-[:RESPONSIBLE_PERSON]->(p) "
            "RETURN d.id AS issuer, t.id AS subject, s.validTo AS validTo, s.recognized AS rec, "
            "collect(p.id) AS responsible"
        )
    )[0]
    assert sanction["issuer"] == "wz-intermediate-court"
    assert sanction["subject"] == ENTERPRISE
    assert sanction["rec"] is True
    assert sanction["responsible"] == [PERSON]
    assert sanction["validTo"].to_native() == dt.date(2027, 6, 1)  # the list type's 730 days

    # the imported graph is the one the check reads
    engine = CheckEngine(catalogue)
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    (outcome,) = await engine.check_many(graph, [PERSON], "ADMINISTRATIVE_APPROVAL", at)
    roles = {(m.role, m.sanction["id"]) for m in outcome.measures}
    assert ("LEGAL_REPRESENTATIVE", "S-1") in roles

    # importing the same files again rewrites, never duplicates
    report, _ = await import_files(
        graph.driver, graph.database, files, catalogue, contact_key=CONTACT_KEY, progress=False
    )
    assert report.ok
    assert await counts(graph) == (8, 6)


async def test_a_bad_row_writes_nothing(tmp_path: Path, graph: Graph) -> None:
    bad_links = LINKS + f",{PERSON},{BUSINESS},SHAREHOLDER_OF,2015-01-01,,0.5,,\n"
    files = write(
        tmp_path, subjects=SUBJECTS, households=HOUSEHOLDS, links=bad_links, sanctions=SANCTIONS
    )
    report, written = await import_files(
        graph.driver,
        graph.database,
        files,
        load_catalogue(),
        contact_key=CONTACT_KEY,
        progress=False,
    )
    assert written is None
    assert [str(p) for p in report.problems] == [
        f"{tmp_path / 'links.csv'}:8: to: SHAREHOLDER_OF cannot end at a INDIVIDUAL_BUSINESS "
        "(allowed: ENTERPRISE)"
    ]
    assert await counts(graph) == (0, 0)


async def test_links_may_name_subjects_already_in_the_database(
    tmp_path: Path, graph: Graph
) -> None:
    catalogue = load_catalogue()
    first = write(tmp_path, subjects=SUBJECTS, households=HOUSEHOLDS)
    report, _ = await import_files(
        graph.driver, graph.database, first, catalogue, contact_key=CONTACT_KEY, progress=False
    )
    assert report.ok
    later = tmp_path / "later"
    later.mkdir()
    report, written = await import_files(
        graph.driver,
        graph.database,
        write(later, links=LINKS),
        catalogue,
        contact_key=CONTACT_KEY,
        progress=False,
    )
    assert report.ok, report.format()
    assert written == {"links": 6}


def test_the_command_reports_bad_rows_and_exits_1(
    tmp_path: Path,
    neo4j_server: Neo4jServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NEO4J_URI", neo4j_server.uri)
    monkeypatch.setenv("NEO4J_USER", neo4j_server.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_server.password)
    monkeypatch.setenv("NEO4J_DATABASE", neo4j_server.database)
    monkeypatch.setenv("CREDITLINK_CONTACT_HASH_KEY_FILE", str(KEY_FILE))
    files = write(tmp_path, subjects=SUBJECTS + "91330302MA2B3C4D62,ENTERPRISE,坏,330302,,,,,\n")
    assert cli_main(["import", "--subjects", str(files.subjects), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"{files.subjects}:7: id: check character of the credit code is wrong" in err
    assert "1 bad row(s)" in err
    good = write(tmp_path, subjects=SUBJECTS)
    assert cli_main(["import", "--subjects", str(good.subjects), "--quiet"]) == 0
    assert "imported 5 rows" in capsys.readouterr().out
