"""Issue 18.3: connection and time limits.

Slow clients are cut off (headers: 408 from the server's protocol; body: 408 with the
contract's error body), oversized URLs and header blocks refused (414, 431), connections
capped (503), Neo4j transactions bounded by the driver's time limit, and riskClusters'
Louvain run in an analytics worker process, bounded in time, while the event loop keeps
answering.

The real app over real HTTP, started with `api.server.server_config` as `creditlink
serve` runs it; raw sockets for the slow clients; the real Neo4j. The graph is shared with
other tests and not wiped: the clustering test seeds its own district and reads only it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import operator
import os
import random
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from neo4j import exceptions as neo4j_errors

from api.analytics import AnalyticsPool
from domain.errors import QueryTooComplex, ServiceUnavailable
from domain.vocabulary import Rel
from graph_model.driver import Graph
from tests.conftest import Neo4jServer, api_settings, run_app
from tests.integration.helpers import person_id
from tests.integration.risk_world import NOW, link, put, sanction, subject

pytestmark = pytest.mark.integration

# a district no other test seeds: the clusters read back are this module's own
DISTRICT = "330329"
CLUSTERS = """
query($d: String!, $at: DateTime) {
  riskClusters(district: $d, minSize: 2, at: $at, first: 200) { id size members { subject { id } } }
}"""
# seconds of work, far under the embedded server's own 60 s limit: only a limit the driver
# sends with the transaction can stop it
# Neo4j stops a transaction past its limit when its transaction monitor next looks (every
# 2 s by default): the query must outlast that by far, or it may finish first
SLOW_CYPHER = "UNWIND range(1, 2000000000) AS x RETURN count(x) AS n"
SOCKET_DEADLINE_S = 60.0  # generous: the server must close well before; speed is not asserted


@pytest.fixture(scope="module")
def limited(neo4j_server: Neo4jServer, keys_file: Path) -> Iterator[tuple[Any, int]]:
    """The app with 1 s header and body deadlines: (the app, its port)."""
    settings = api_settings(neo4j_server, keys_file, header_timeout_s=1.0, body_timeout_s=1.0)
    with run_app(settings) as app:
        yield app, settings.port


Connect = Callable[[int], socket.socket]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Opens raw connections to a port; whatever a test leaves open is closed after it."""
    opened: list[socket.socket] = []

    def open_one(port: int) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.settimeout(SOCKET_DEADLINE_S)
        opened.append(sock)
        return sock

    yield open_one
    for sock in opened:
        sock.close()


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    with sock:
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def _response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def _one_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response with a content-length from a connection that stays open."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += sock.recv(65536)
    status, headers, body = _response(raw)
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return status, headers, body


def _error(body: bytes) -> tuple[str, str]:
    payload = orjson.loads(body)
    assert payload["data"] is None
    [error] = payload["errors"]
    return error["extensions"]["code"], error["message"]


def _refusal(sock: socket.socket) -> tuple[int, dict[str, str], tuple[str, str]]:
    """The status, headers and error (code, message) of the response the server sends
    before it closes the connection."""
    status, headers, body = _response(_until_closed(sock))
    return status, headers, _error(body)


def _healthy(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200


# -- slow clients ------------------------------------------------------------------------------


def test_a_client_stalling_in_its_headers_gets_408_and_is_disconnected(
    limited: tuple[Any, int], connect: Connect
) -> None:
    _, port = limited
    line = connect(port)
    line.sendall(b"GET /healthz HT")  # half a request line
    headers = connect(port)
    headers.sendall(b"GET /healthz HTTP/1.1\r\nHost: creditlink\r\nX-Slow: 1")
    silent = connect(port)  # connects and sends nothing at all
    # a second request on a kept-alive connection gets the deadline afresh
    kept = connect(port)
    kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: creditlink\r\n\r\n")
    assert _one_response(kept)[0] == 200
    kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: cre")

    assert _healthy(port)  # the stalled ones block nobody

    for sock in (line, headers, silent, kept):
        status, response_headers, error = _refusal(sock)
        assert status == 408
        assert response_headers["connection"] == "close"
        assert error == ("BAD_USER_INPUT", "request headers not received within 1 s")


def test_a_client_trickling_its_body_gets_408_with_the_error_body(
    limited: tuple[Any, int], connect: Connect
) -> None:
    _, port = limited
    sock = connect(port)
    sock.sendall(
        b"POST /graphql HTTP/1.1\r\nHost: creditlink\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n" + b'{"query": '  # 10 of the 100 bytes, then nothing
    )
    assert _healthy(port)

    status, headers, error = _refusal(sock)
    assert status == 408
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert error == (
        "BAD_USER_INPUT",
        "the request body was not received within 1 s (CREDITLINK_BODY_TIMEOUT_S)",
    )


def test_a_body_nobody_reads_must_still_arrive_in_time(
    limited: tuple[Any, int], connect: Connect
) -> None:
    """/healthz answers a POST 405 without reading its body; a client trickling that body
    a byte at a time (each byte would restart the keep-alive timer) is disconnected."""
    _, port = limited
    sock = connect(port)
    sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: creditlink\r\nContent-Length: 1000\r\n\r\n")
    assert _one_response(sock)[0] == 405
    sock.settimeout(0.3)
    closed = False
    for _ in range(100):  # the trickle: up to 100 bytes, one every 0.3 s
        try:
            if sock.recv(1) == b"":
                closed = True
                break
        except TimeoutError:
            pass
        except ConnectionResetError:
            closed = True
            break
        try:
            sock.sendall(b"x")
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
    sock.close()
    assert closed


# -- oversized requests ------------------------------------------------------------------------


def test_a_20_kb_url_gets_414(limited: tuple[Any, int], connect: Connect) -> None:
    _, port = limited
    sock = connect(port)
    query = "%7B" + "%20__typename" * 1540 + "%7D"  # 20 kB, where the cap is 8 kB
    sock.sendall(f"GET /graphql?query={query} HTTP/1.1\r\nHost: creditlink\r\n\r\n".encode())
    status, headers, error = _refusal(sock)
    assert status == 414
    assert headers["connection"] == "close"
    assert error == (
        "QUERY_TOO_COMPLEX",
        "the request URL is over 8192 bytes; send queries in a POST body",
    )
    assert _healthy(port)


def test_a_header_block_over_the_cap_gets_431(limited: tuple[Any, int], connect: Connect) -> None:
    _, port = limited
    many = connect(port)  # 40 headers of 1 kB: 40 kB, where the cap is 32 kB
    lines = "".join(f"X-Filler-{i}: {'a' * 1000}\r\n" for i in range(40))
    many.sendall(f"GET /healthz HTTP/1.1\r\nHost: creditlink\r\n{lines}\r\n".encode())
    endless = connect(port)  # one header that never ends: refused before it is all buffered
    endless.sendall(b"GET /healthz HTTP/1.1\r\nHost: creditlink\r\nX-Endless: ")
    for _ in range(10):
        endless.sendall(b"a" * 10_000)

    for sock in (many, endless):
        status, _, error = _refusal(sock)
        assert status == 431
        assert error == ("QUERY_TOO_COMPLEX", "the request's headers are over 32768 bytes")
    assert _healthy(port)


# -- connections -------------------------------------------------------------------------------


def test_connections_past_the_limit_get_503(
    neo4j_server: Neo4jServer, keys_file: Path, connect: Connect
) -> None:
    settings = api_settings(neo4j_server, keys_file, max_connections=4)
    with run_app(settings):
        held = [connect(settings.port) for _ in range(4)]
        for sock in held:
            sock.sendall(b"GET /")  # begun, so surely accepted before the next connection
        url = f"http://127.0.0.1:{settings.port}/healthz"
        assert httpx.get(url, timeout=30).status_code == 503
        for sock in held:
            sock.close()
        deadline = time.monotonic() + SOCKET_DEADLINE_S
        while httpx.get(url, timeout=30).status_code != 200:  # until the closes are seen
            assert time.monotonic() < deadline, "the server did not free its connections"
            time.sleep(0.05)


# -- Neo4j's time limit, sent by the driver ----------------------------------------------------


async def test_a_query_past_the_driver_time_limit_is_stopped_and_reported(graph: Graph) -> None:
    bounded = Graph(graph.driver, graph.database, query_timeout=0.5)

    async def work(tx: Any) -> Any:
        return await (await tx.run(SLOW_CYPHER)).single()

    attempts: dict[str, Callable[[], Awaitable[Any]]] = {
        "slowRead": lambda: bounded.read(SLOW_CYPHER, name="slowRead"),  # auto-commit
        "slowWrite": lambda: bounded.write(SLOW_CYPHER, name="slowWrite"),  # managed
        "slowTx": lambda: bounded.write_tx(work, name="slowTx"),  # a transaction function
    }
    for name, attempt in attempts.items():
        with pytest.raises(QueryTooComplex) as raised:
            await attempt()
        cause = raised.value.__cause__
        assert isinstance(cause, neo4j_errors.Neo4jError)
        assert cause.code == "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration"
        assert raised.value.message == (
            f"{name}: the database query ran past its 0.5 s time limit and was stopped; "
            "ask for less (a narrower filter, a smaller depth, fewer ids)"
        )
    assert await bounded.read("RETURN 1 AS ok") == [{"ok": 1}]  # its connection came back


# -- analytics off the event loop --------------------------------------------------------------


async def test_an_analytics_job_past_its_limit_is_stopped_with_its_worker() -> None:
    pool = AnalyticsPool(workers=1, timeout=0.5, preload=())
    try:
        assert await pool.run("warmUp", operator.add, 1, 2) == 3
        [pid] = pool.worker_pids()
        assert pid != os.getpid()
        with pytest.raises(QueryTooComplex) as raised:
            await pool.run("sleepy", time.sleep, 600)
        assert raised.value.message == (
            "sleepy: the computation ran past its 0.5 s limit "
            "(CREDITLINK_ANALYTICS_TIMEOUT_S) and was stopped; ask for less"
        )
        assert pool.worker_pids() == []
        assert not Path(f"/proc/{pid}").exists()  # killed and reaped, not left computing
        assert await pool.run("after", operator.mul, 6, 7) == 42  # a fresh worker
    finally:
        await pool.close()


async def test_analytics_jobs_beyond_the_workers_are_refused() -> None:
    pool = AnalyticsPool(workers=1, timeout=600, preload=())
    first = asyncio.create_task(pool.run("first", time.sleep, 600))
    try:
        deadline = time.monotonic() + SOCKET_DEADLINE_S
        while pool.running == 0:  # until the first job is in its worker
            assert not first.done(), first
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        with pytest.raises(ServiceUnavailable) as raised:
            await pool.run("second", operator.add, 1, 1)
        assert raised.value.message == (
            "second: all 1 analytics worker(s) are busy (CREDITLINK_ANALYTICS_WORKERS); "
            "try again shortly"
        )
    finally:
        await pool.close()
    with pytest.raises(ServiceUnavailable):  # its worker stopped with the pool
        await first


@pytest.fixture(scope="module")
async def clustered(graph: Graph) -> str:
    """A district whose risk subgraph takes Louvain a while: 500 sanctioned enterprises,
    each with 10 of 1,500 persons as shareholders, at random (a seeded random)."""
    rnd = random.Random(18)
    enterprises = [subject("ENTERPRISE", f"聚类企业{i}", district=DISTRICT) for i in range(500)]
    born = dt.date(1931, 1, 1)  # person ids are unique per birth date up to 1,000 a day
    persons = [
        subject("PERSON", f"聚类股东{i}", district=DISTRICT)
        | {"id": person_id(born + dt.timedelta(days=i // 900), DISTRICT)}
        for i in range(1500)
    ]
    links = [
        link(p["id"], e["id"], Rel.SHAREHOLDER_OF, ratio=0.1)
        for e in enterprises
        for p in rnd.sample(persons, 10)
    ]
    await put(graph, [*enterprises, *persons], links, [], [sanction(e["id"]) for e in enterprises])
    return DISTRICT


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_risk_clusters_run_in_a_worker_process_while_healthz_answers(
    limited: tuple[Any, int], clustered: str
) -> None:
    app, port = limited
    pool: AnalyticsPool = app.state.creditlink.analytics
    url = f"http://127.0.0.1:{port}"

    def clusters() -> dict[str, Any]:
        response = httpx.post(
            f"{url}/graphql",
            json={"query": CLUSTERS, "variables": {"d": clustered, "at": NOW}},
            headers={"Authorization": "Bearer regulator-key"},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    first = clusters()  # starts the worker
    assert "errors" not in first, first
    assert sum(c["size"] for c in first["data"]["riskClusters"]) > 1000
    pids = pool.worker_pids()
    cpu_before = [_cpu_seconds(pid) for pid in pids]

    answers: list[dict[str, Any]] = []
    call = threading.Thread(target=lambda: answers.append(clusters()))
    call.start()
    during = 0  # healthz answers given while the clustering was computing
    with httpx.Client(base_url=url, timeout=30) as client:
        while call.is_alive():
            before = pool.running
            ok = client.get("/healthz").status_code == 200
            if ok and before and pool.running:
                during += 1
    call.join()

    assert answers == [first]  # the same clusters (Louvain's seed is fixed)
    assert during > 0
    [pid] = pids
    assert pid != os.getpid()
    assert pool.worker_pids() == [pid]  # the same worker ran it ...
    assert _cpu_seconds(pid) > cpu_before[0]  # ... and spent the CPU, not this process's loop


def test_risk_clusters_past_the_analytics_limit_answer_query_too_complex(
    neo4j_server: Neo4jServer, keys_file: Path, clustered: str
) -> None:
    # below the 0.1 s an operator may set (so unvalidated), short enough that no job finishes
    settings = api_settings(neo4j_server, keys_file).model_copy(
        update={"analytics_timeout_s": 0.05}
    )
    with run_app(settings) as app:
        response = httpx.post(
            f"http://127.0.0.1:{settings.port}/graphql",
            json={"query": CLUSTERS, "variables": {"d": clustered, "at": NOW}},
            headers={"Authorization": "Bearer regulator-key"},
            timeout=120,
        )
        assert response.status_code == 200
        body = response.json()
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert error["message"] == (
            "riskClusters: the computation ran past its 0.05 s limit "
            "(CREDITLINK_ANALYTICS_TIMEOUT_S) and was stopped; ask for less"
        )
        assert app.state.creditlink.analytics.worker_pids() == []  # stopped, not computing on
        assert _healthy(settings.port)


def test_connection_and_time_limits_are_settings() -> None:
    from api.settings import Settings, SettingsError

    settings = Settings.from_env(
        {
            "CREDITLINK_MAX_CONNECTIONS": "50",
            "CREDITLINK_KEEP_ALIVE_TIMEOUT_S": "15",
            "CREDITLINK_HEADER_TIMEOUT_S": "2.5",
            "CREDITLINK_BODY_TIMEOUT_S": "4",
            "CREDITLINK_MAX_URL_BYTES": "4096",
            "CREDITLINK_MAX_HEADER_BYTES": "16384",
            "CREDITLINK_NEO4J_QUERY_TIMEOUT_S": "12",
            "CREDITLINK_ANALYTICS_WORKERS": "2",
            "CREDITLINK_ANALYTICS_TIMEOUT_S": "7.5",
        }
    )
    assert (settings.max_connections, settings.header_timeout_s, settings.body_timeout_s) == (
        50,
        2.5,
        4.0,
    )
    assert (settings.max_url_bytes, settings.max_header_bytes) == (4096, 16384)
    assert settings.keep_alive_timeout_s == 15
    assert (settings.neo4j_query_timeout_s, settings.analytics_workers) == (12.0, 2)
    assert settings.analytics_timeout_s == 7.5
    for name, value, message in [
        ("CREDITLINK_HEADER_TIMEOUT_S", "soon", "is not a number of seconds"),
        ("CREDITLINK_HEADER_TIMEOUT_S", "0", "is outside 0.1..3600 seconds"),
        ("CREDITLINK_NEO4J_QUERY_TIMEOUT_S", "nan", "is outside 0.1..3600 seconds"),
        ("CREDITLINK_MAX_CONNECTIONS", "0", "is outside 1..1000000"),
        ("CREDITLINK_ANALYTICS_WORKERS", "65", "is outside 1..64"),
    ]:
        with pytest.raises(SettingsError, match=f"^{name}=.*{message}$"):
            Settings.from_env({name: value})
