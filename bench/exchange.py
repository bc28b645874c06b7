"""The exchange's speed: Jiaxing's signed feed read over HTTP, and Wenzhou pulling all of it.

    .venv/bin/python -m bench.exchange                    # 100,000 events
    .venv/bin/python -m bench.exchange --events 10000     # a quick run

Issue 21's targets: a pull of 100k events in under 2 minutes, the feed serving at least
5,000 events/s. One run:

1. starts a Jiaxing Neo4j on a fresh data dir, applies the migrations (`creditlink
   migrate` with `CREDITLINK_JURISDICTION=jiaxing`), writes the subjects and entries of
   `--events` events in UNWIND batches (one in eleven entries lifted: repaired or revoked,
   so the feed holds IMPOSED, LIFTED and REVOKED events; a few on a list Wenzhou does not
   recognise from Jiaxing), and logs their events as the app's start-up does
   (`graph_model.event_log.log_unlogged`);
2. starts Jiaxing's API (`creditlink serve`, one worker) with a PARTNER key, reads its
   public key (`creditlink exchange key`);
3. the feed alone: reads the whole feed over HTTP page by page on one keep-alive
   connection, once untimed as a warm-up, then at `first` = 500 and 5,000: events/s, the
   p50 and p99 of a page's round trip, and the CPU the API and Jiaxing's Neo4j spent per
   1,000 events (from /proc);
4. the pull: for the default page size and for `--page-size 5000`, a fresh Wenzhou Neo4j,
   migrated, then `creditlink exchange pull` as a process, as an operator runs it, timed
   from start to exit, with the CPU of the puller, Jiaxing's API and both Neo4js and the
   rate over the first and the second half of the events (read from its progress line: a
   freshly started Neo4j writes the first ones slower); then the same pull again (nothing
   new) and its time; every entry and event checked in Wenzhou afterwards;
5. prints the rows beside their targets and writes `bench/results/<date>-exchange-<events>
   .json` (everything) and `.md` (the table).

Everything lives in `.data/bench/exchange/`, emptied first; the Neo4j stores are removed at
the end, Jiaxing's API log (`jiaxing-serve.log`) stays.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import cpu  # noqa: E402
from bench.harness.stats import percentile  # noqa: E402
from bench.list_file import Ids  # noqa: E402
from domain.identifiers import SubjectKind  # noqa: E402
from domain.time import city_midnight  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DATA = ROOT / ".data" / "bench" / "exchange"
JURISDICTION = "jiaxing"
PARTNER_KEY = "bench-partner-key-0123456789"
KEYS = {"wenzhou-platform": ("PARTNER", None, PARTNER_KEY)}
FEED_PAGES = (500, 5000)
PULL_TARGET_S = 120.0
PULL_TARGET_EVENTS = 100_000  # the pull: 100k events in under 2 minutes
FEED_TARGET = 5000.0
LIFT_SHARE = 0.1  # lifts per entry: 1 in 11 events is a lift
REVOKED_SHARE = 0.2  # of the lifts, revocations; the rest repaired
PERSON_SHARE = 0.3
BATCH = 5000

# Jiaxing's counties (GB/T 2260): 南湖, 秀洲, 嘉善, 海盐, 海宁, 平湖, 桐乡
AREAS = ("330402", "330411", "330421", "330424", "330481", "330482", "330483")
# list type: (weight for units, issuer in rules/catalogues/jiaxing, kind, term in years or
# None, document number pattern, reason); CUSTOMS_DISHONEST is not one Wenzhou recognises
# from Jiaxing (rules/catalogues/wenzhou/jurisdictions.yaml): stored `recognized: false`
UNIT_LISTS: dict[str, tuple[int, str, str, int | None, str, str]] = {
    "DISHONEST_JUDGMENT_DEBTOR": (
        55, "jx-intermediate-court", "BLACK", 2, "（{y}）浙04执{n}号",
        "有履行能力而拒不履行生效法律文书确定的义务",
    ),
    "SAMR_SERIOUS_ILLEGAL": (
        12, "jx-amr", "BLACK", 3, "嘉市监罚〔{y}〕{n}号", "提交虚假材料取得公司登记，情节严重",
    ),
    "MAJOR_TAX_VIOLATION": (
        12, "jx-tax", "BLACK", 3, "嘉税稽罚〔{y}〕{n}号", "虚开增值税专用发票",
    ),
    "GOV_PROCUREMENT_BAD_RECORD": (
        6, "jx-finance", "BLACK", 3, "嘉财采监〔{y}〕{n}号", "提供虚假材料谋取中标",
    ),
    "TAX_A_LEVEL": (10, "jx-tax", "RED", 1, "嘉税信〔{y}〕{n}号", "纳税信用年度评价为A级"),
    "CUSTOMS_DISHONEST": (
        5, "jx-customs", "BLACK", None, "嘉关信〔{y}〕{n}号", "走私行为被海关处罚，情节严重",
    ),
}  # fmt: skip
PERSON_LIST = "DISHONEST_JUDGMENT_DEBTOR"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑沈钱"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
FIRMS = ("纺织", "皮革", "五金", "服饰", "电子", "机械", "建设", "化纤", "包装", "贸易")
SUMMARY = re.compile(
    r"(?P<events>[\d,]+) events in (?P<pages>\d+) pages: (?P<applied>[\d,]+) applied, "
    r"(?P<kept>[\d,]+) kept aside, (?P<registered>[\d,]+) subjects registered "
    r"\((?P<seconds>[\d.]+) s"
)


# -- the world Jiaxing publishes -------------------------------------------------------


def split_events(events: int, lift_share: float = LIFT_SHARE) -> tuple[int, int]:
    """(entries, lifts) whose events add up to `events`: each entry logs its imposition,
    each lifted one its lift as well."""
    if events < 1:
        raise ValueError("events: give at least 1")
    lifts = round(events * lift_share / (1 + lift_share))
    return events - lifts, lifts


@dataclass
class World:
    subjects: dict[SubjectKind, list[dict[str, Any]]] = field(default_factory=dict)
    sanctions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def events(self) -> int:
        return len(self.sanctions) + sum(s["liftedAt"] is not None for s in self.sanctions)


def _subject(rng: random.Random, ids: Ids) -> tuple[SubjectKind, str, str]:
    area = rng.choice(AREAS)
    if rng.random() < PERSON_SHARE:
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        return SubjectKind.PERSON, ids.resident(area), name
    return SubjectKind.ENTERPRISE, ids.uscc("91", area), f"嘉兴{rng.choice(FIRMS)}有限公司{ids.org}"


def jiaxing_world(events: int, seed: int, now: dt.datetime) -> World:
    """Entries of Jiaxing, one subject each, whose logged events number `events`: decided
    in the two years before `now`, each ending (if its list has a term) after `now` so no
    expiry is due while the bench runs; the lifted ones lifted before `now`."""
    rng = random.Random(seed)
    ids = Ids()
    entries, lifts = split_events(events)
    lifted = set(rng.sample(range(entries), lifts))
    unit_lists = list(UNIT_LISTS)
    weights = [UNIT_LISTS[t][0] for t in unit_lists]
    today = now.date()
    world = World({kind: [] for kind in SubjectKind})
    for n in range(entries):
        kind, subject_id, name = _subject(rng, ids)
        world.subjects[kind].append({"id": subject_id, "kind": kind.value, "name": name})
        list_type = (
            PERSON_LIST if kind is SubjectKind.PERSON else rng.choices(unit_lists, weights)[0]
        )
        _, issuer, list_kind, years, pattern, reason = UNIT_LISTS[list_type]
        decided = today - dt.timedelta(days=rng.randint(30, 730))
        created = city_midnight(decided) + dt.timedelta(hours=9, seconds=rng.randint(0, 28_800))
        valid_to = None
        if years is not None:  # a term from the decision, at least a year past today
            valid_to = max(decided + dt.timedelta(days=365 * years), today + dt.timedelta(365))
        lifted_at, lift_kind = None, None
        if n in lifted:
            span = int((now - created).total_seconds()) - 3600
            lifted_at = created + dt.timedelta(seconds=rng.randint(3600, max(3600, span)))
            lift_kind = "REVOKED" if rng.random() < REVOKED_SHARE else "REPAIRED"
        world.sanctions.append(
            {
                "id": f"S{rng.getrandbits(128):032x}",
                "listType": list_type,
                "kind": list_kind,
                "decidedOn": decided,
                "validFrom": decided,
                "validTo": valid_to,
                "status": "ACTIVE",
                "liftKind": lift_kind,
                "liftedAt": lifted_at,
                "jurisdiction": JURISDICTION,
                "recognized": True,
                "documentNo": pattern.format(y=decided.year, n=n + 1),
                "reason": reason,
                "issuerId": issuer,
                "issuerName": issuer,  # only if the department were missing; migrate made it
                "subjectId": subject_id,
                "responsiblePersonIds": [],
                "createdAt": created,
            }
        )
    return world


def batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# -- figures ----------------------------------------------------------------------------


def page_figures(latencies_s: list[float], events: int, seconds: float) -> dict[str, Any]:
    """A whole read of the feed: pages, events, events/s, a page's p50 and p99 in ms."""
    return {
        "pages": len(latencies_s),
        "events": events,
        "seconds": round(seconds, 3),
        "events_per_s": round(events / seconds, 1) if seconds > 0 else None,
        "page_p50_ms": round(percentile(latencies_s, 50) * 1000, 2),
        "page_p99_ms": round(percentile(latencies_s, 99) * 1000, 2),
    }


def pull_summary(stdout: str) -> dict[str, Any]:
    """The numbers of `creditlink exchange pull`'s closing line (api.exchange.pull.describe);
    raises ValueError naming the text when it has none."""
    match = SUMMARY.search(stdout)
    if match is None:
        raise ValueError(f"no pull summary in the pull's output: {stdout[-300:]!r}")
    whole = {k: int(v.replace(",", "")) for k, v in match.groupdict().items() if k != "seconds"}
    return {**whole, "seconds": float(match["seconds"])}


def halves(marks: list[tuple[float, int]], events: int) -> dict[str, float | None]:
    """Events/s over the first and the second half of a pull's events, from its progress
    reports (seconds since the pull started, events applied so far): how much a freshly
    started Neo4j's warm-up weighs on the whole."""
    half = next(((t, n) for t, n in marks if n >= events / 2), None)
    if half is None or not marks or half[0] <= 0 or marks[-1][0] <= half[0]:
        return {"first_half": None, "second_half": None}
    end_t, end_n = marks[-1]
    return {
        "first_half": round(half[1] / half[0], 1),
        "second_half": round((end_n - half[1]) / (end_t - half[0]), 1),
    }


def cpu_spent_s(
    before: dict[str, float | None], after: dict[str, float | None]
) -> dict[str, float | None]:
    """CPU seconds each named process tree spent between two `cpu.snapshot` readings
    (None for one that was gone at either)."""
    out: dict[str, float | None] = {}
    for name, b in before.items():
        a = after.get(name)
        out[name] = None if a is None or b is None else a - b
    return out


def per_thousand_ms(spent_s: dict[str, float | None], events: int) -> dict[str, float | None]:
    """CPU ms per 1,000 events of each named process tree."""
    return {
        name: None if s is None or not events else round(s * 1_000_000 / events, 1)
        for name, s in spent_s.items()
    }


def verdict(value: float | None, target: float, *, at_most: bool) -> str:
    if value is None:
        return "not measured"
    met = value < target if at_most else value >= target
    return "**met**" if met else "not met"


def pull_verdict(seconds: float, events: int) -> str:
    """The pull's verdict: the target is a time for 100k events, so a smaller run has none."""
    if events < PULL_TARGET_EVENTS:
        return f"(the target is for {PULL_TARGET_EVENTS:,} events)"
    return verdict(seconds, PULL_TARGET_S, at_most=True)


def _rate(value: float | None) -> str:
    return "?" if value is None else f"{value:,.0f}"


def markdown(result: dict[str, Any]) -> str:
    events = result["events"]
    lines = [
        f"# Exchange: Jiaxing's feed and Wenzhou's pull, {events:,} events",
        "",
        f"{result['started_at']}, {result['machine']}; load average before the run "
        f"{result['load_before']}. Command: `{result['command']}`",
        "",
        f"Jiaxing: {result['world']['entries']:,} entries ({result['world']['lifts']:,} lifted), "
        f"written in {result['world']['write_s']} s; their {result['world']['logged_events']:,} "
        f"events logged in {result['world']['log_s']} s.",
        "",
        "| row | figure | target | verdict |",
        "|---|---|---|---|",
    ]
    for size, feed in result["feed"].items():
        cpu_ms = feed["cpu_ms_per_1000"]
        lines.append(
            f"| feed, first={int(size):,} | **{feed['events_per_s']:,.0f} events/s** "
            f"({feed['events']:,} events, {feed['pages']} pages in {feed['seconds']:.1f} s); "
            f"page p50 {feed['page_p50_ms']} ms, p99 {feed['page_p99_ms']} ms; CPU per 1,000 "
            f"events: API {cpu_ms['api']} ms, Neo4j {cpu_ms['neo4j']} ms "
            f"| ≥ {FEED_TARGET:,.0f} events/s | {verdict(feed['events_per_s'], FEED_TARGET, at_most=False)} |"
        )
    for size, pull in result["pull"].items():
        cpu_s = pull["cpu_s"]
        lines.append(
            f"| pull of {pull['summary']['events']:,} events, page {int(size):,} | "
            f"**{pull['wall_s']:.1f} s** ({pull['events_per_s']:,.0f} events/s; "
            f"the pull's own {pull['summary']['seconds']} s; first half of the events "
            f"{_rate(pull['halves_events_per_s']['first_half'])}/s, second half "
            f"{_rate(pull['halves_events_per_s']['second_half'])}/s); "
            f"CPU s: puller {cpu_s['puller']}, "
            f"Jiaxing API {cpu_s['jiaxing_api']}, Jiaxing Neo4j {cpu_s['jiaxing_neo4j']}, "
            f"Wenzhou Neo4j {cpu_s['wenzhou_neo4j']} | < {PULL_TARGET_S:.0f} s | "
            f"{pull_verdict(pull['wall_s'], pull['summary']['events'])} |"
        )
        again = pull["again"]
        lines.append(
            f"| the same pull again, page {int(size):,} | {again['wall_s']:.2f} s, "
            f"{again['summary']['events']} events | | |"
        )
    lines += ["", "Wenzhou afterwards (each pull): " + "; ".join(
        f"page {size}: {p['wenzhou']['entries']:,} entries, {p['wenzhou']['events']:,} events, "
        f"{p['summary']['kept']} kept aside, {p['summary']['registered']:,} subjects registered"
        for size, p in result["pull"].items()
    )]  # fmt: skip
    return "\n".join(lines)


# -- running it -------------------------------------------------------------------------


def _creditlink(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"creditlink {' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
    return done


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _write_world(uri: str, auth: tuple[str, str], world: World) -> dict[str, Any]:
    from graph_model import bulk, event_log
    from graph_model.driver import open_graph

    now = dt.datetime.now(dt.UTC)
    async with open_graph(uri, *auth, "neo4j") as graph:
        started = time.perf_counter()
        for kind, rows in world.subjects.items():
            for chunk in batches(rows, BATCH):
                await graph.write(bulk.subject_query(kind), {"rows": chunk, "now": now})
        for chunk in batches(world.sanctions, BATCH):
            written, _ = await bulk.write_sanctions(graph.driver, "neo4j", chunk)
            if written != len(chunk):
                raise SystemExit(f"wrote {written} of {len(chunk)} entries")
        write_s = time.perf_counter() - started
        started = time.perf_counter()
        await event_log.log_unlogged(graph, JURISDICTION)
        log_s = time.perf_counter() - started
        head = await event_log.head(graph)
    return {"write_s": round(write_s, 1), "log_s": round(log_s, 1), "logged_events": head.seq}


def read_feed(url: str, first: int) -> tuple[list[float], int, float]:
    """The whole feed at `first` per page: each page's round trip, events, seconds."""
    import httpx
    import orjson

    from api.exchange.page import FEED_QUERY

    latencies: list[float] = []
    events = 0
    after: str | None = None
    headers = {"Authorization": f"Bearer {PARTNER_KEY}", "Content-Type": "application/json"}
    with httpx.Client(timeout=120.0) as client:
        started = time.perf_counter()
        while True:
            body = orjson.dumps(
                {"query": FEED_QUERY, "variables": {"after": after, "first": first}}
            )
            sent = time.perf_counter()
            response = client.post(f"{url}/graphql", content=body, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"feed page after {after}: HTTP {response.status_code}")
            page = orjson.loads(response.content)
            latencies.append(time.perf_counter() - sent)
            if page.get("errors"):
                raise SystemExit(f"feed page after {after}: {response.text[:500]}")
            feed = page["data"]["sanctionFeed"]
            events += len(feed["events"])
            after = feed["cursor"]
            if not feed["hasMore"]:
                return latencies, events, time.perf_counter() - started


def _timed_pull(
    command: list[str], env: dict[str, str]
) -> tuple[float, str, list[tuple[float, int]]]:
    """`creditlink <command>` with its progress line read as it goes: the wall time, its
    standard output, and (seconds, events so far) at each page applied."""
    marks: list[tuple[float, int]] = []
    errors: list[bytes] = []
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", *command],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    stderr = proc.stderr

    def progress() -> None:
        pending = b""
        while chunk := os.read(stderr.fileno(), 65536):
            errors.append(chunk)
            *lines, pending = (pending + chunk).split(b"\r")
            for line in lines:  # each progress report starts with a carriage return
                found = SUMMARY.search(line.decode(errors="replace"))
                if found is not None:
                    marks.append(
                        (time.perf_counter() - started, int(found["events"].replace(",", "")))
                    )

    reader = threading.Thread(target=progress, daemon=True)
    reader.start()
    stdout = proc.stdout.read().decode()
    proc.wait()
    wall = time.perf_counter() - started
    reader.join()
    if proc.returncode != 0:
        raise SystemExit(f"the pull failed:\n{b''.join(errors).decode(errors='replace')[-3000:]}")
    return wall, stdout, marks


async def _relayed(uri: str, auth: tuple[str, str]) -> dict[str, int]:
    from graph_model.driver import open_graph

    query = (
        f"RETURN COUNT {{ MATCH (s:Sanction {{sourceJurisdiction: '{JURISDICTION}'}}) }} AS entries, "
        f"COUNT {{ MATCH (e:SanctionEvent {{jurisdiction: '{JURISDICTION}'}}) }} AS events"
    )
    async with open_graph(uri, *auth, "neo4j") as graph:
        row = (await graph.read(query))[0]
    return {"entries": int(row["entries"]), "events": int(row["events"])}


def measure_pull(
    page_size: int | None, api_url: str, public_key: str, api_pid: int, jx_pid: int,
    events: int, heap_mb: int, pagecache_mb: int,
) -> dict[str, Any]:  # fmt: skip
    """A fresh Wenzhou, migrated; the pull timed, then again; what Wenzhou holds after."""
    from testkit import free_port
    from testkit.api import serve_environment
    from testkit.neo4j import Neo4jServer, fresh_neo4j

    name = f"wenzhou-{page_size or 'default'}"
    with fresh_neo4j(DATA / name, heap_mb=heap_mb, pagecache_mb=pagecache_mb, stop_timeout=5) as wz:
        server = Neo4jServer.of(wz)
        env = serve_environment(
            server, port=free_port(), keys_file=DATA / "unused.toml", data_dir=DATA / f"{name}-api",
            extra={"CREDITLINK_API_KEYS_FILE": ""},
        )  # fmt: skip
        _creditlink(["migrate"], env)
        command = [
            "exchange", "pull", "--url", f"{api_url}/graphql", "--key", PARTNER_KEY,
            "--jurisdiction", JURISDICTION, "--public-key", public_key,
        ]  # fmt: skip
        if page_size is not None:
            command += ["--page-size", str(page_size)]
        wz_pid = wz.running_pid() or 0
        pids = {"jiaxing_api": api_pid, "jiaxing_neo4j": jx_pid, "wenzhou_neo4j": wz_pid}
        shown = [
            {PARTNER_KEY: "<partner key>", public_key: "<public key>"}.get(a, a) for a in command
        ]
        print(f"$ creditlink {' '.join(shown)}", flush=True)
        out: dict[str, Any] = {"command": ["creditlink", *shown]}
        for run in ("first", "again"):
            before, children = cpu.snapshot(pids), _children_cpu_s()
            wall, stdout, marks = _timed_pull(command, env)
            after, puller = cpu.snapshot(pids), _children_cpu_s() - children
            summary = pull_summary(stdout)
            spent = {
                n: None if s is None else round(s, 1) for n, s in cpu_spent_s(before, after).items()
            }
            figures = {
                "wall_s": round(wall, 2),
                "summary": summary,
                "events_per_s": round(summary["events"] / wall, 1),
                "cpu_s": {"puller": round(puller, 1), **spent},
                "halves_events_per_s": halves(marks, summary["events"]),
            }
            print(f"  {run}: {wall:.1f} s: {stdout.strip()}", flush=True)
            if run == "first":
                out.update(figures)
            else:
                out["again"] = figures
        out["wenzhou"] = asyncio.run(_relayed(server.uri, server.auth))
        expected = {"entries": split_events(events)[0], "events": events}
        if out["wenzhou"] != expected:
            raise SystemExit(f"Wenzhou holds {out['wenzhou']}, not {expected}")
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from api.exchange.pull import DEFAULT_PAGE
    from testkit.api import api_process, serve_environment
    from testkit.keys import write_keys_file
    from testkit.neo4j import Neo4jServer, fresh_neo4j

    started_at = dt.datetime.now().astimezone()
    result: dict[str, Any] = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_before": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "command": " ".join(["python -m bench.exchange", *sys.argv[1:]]),
        "events": args.events,
    }
    shutil.rmtree(DATA, ignore_errors=True)  # nothing of an earlier run: keys, logs, stores
    DATA.mkdir(parents=True)
    keys = write_keys_file(DATA / "keys.toml", KEYS)
    jx_extra = {"CREDITLINK_JURISDICTION": JURISDICTION}
    with fresh_neo4j(DATA / "jiaxing", heap_mb=args.heap_mb, pagecache_mb=args.pagecache_mb,
                     stop_timeout=5) as jx:  # fmt: skip
        server = Neo4jServer.of(jx)
        env = serve_environment(
            server, port=1, keys_file=keys, data_dir=DATA / "jiaxing-api", extra=jx_extra
        )
        _creditlink(["migrate"], env)
        world = jiaxing_world(args.events, args.seed, dt.datetime.now(dt.UTC))
        print(
            f"Jiaxing: writing {len(world.sanctions):,} entries, {world.events:,} events",
            flush=True,
        )
        written = asyncio.run(_write_world(server.uri, server.auth, world))
        if written["logged_events"] != args.events:
            raise SystemExit(f"logged {written['logged_events']} events, not {args.events}")
        entries, lifts = split_events(args.events)
        result["world"] = {"entries": entries, "lifts": lifts, **written}
        print(f"  {written}", flush=True)
        with api_process(
            server, keys_file=keys, data_dir=DATA / "jiaxing-api", log=DATA / "jiaxing-serve.log",
            extra=jx_extra,
        ) as api:  # fmt: skip
            public_key = _creditlink(["exchange", "key"], env).stdout.strip()
            jx_pid = jx.running_pid() or 0
            pids = {"api": api.proc.pid, "neo4j": jx_pid}
            warm = read_feed(api.url, max(FEED_PAGES))
            print(f"feed warm-up: {warm[1]:,} events in {warm[2]:.1f} s", flush=True)
            result["feed_warm_up_s"] = round(warm[2], 2)
            result["feed"] = {}
            for first in FEED_PAGES:
                before = cpu.snapshot(pids)
                latencies, events, seconds = read_feed(api.url, first)
                figures = page_figures(latencies, events, seconds)
                figures["cpu_ms_per_1000"] = per_thousand_ms(
                    cpu_spent_s(before, cpu.snapshot(pids)), events
                )
                result["feed"][str(first)] = figures
                print(f"feed, first={first}: {figures}", flush=True)
            result["pull"] = {}
            for size in (None, 5000):
                result["pull"][str(size or DEFAULT_PAGE)] = measure_pull(
                    size, api.url, public_key, api.proc.pid, jx_pid, args.events,
                    args.heap_mb, args.pagecache_mb,
                )  # fmt: skip
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in Jiaxing's feed")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--heap-mb", type=int, default=1024, help="each Neo4j's heap")
    parser.add_argument("--pagecache-mb", type=int, default=512, help="each Neo4j's page cache")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.events < 1:
        parser.error("--events: give at least 1")
    result = run(args)
    table = markdown(result)
    stem = f"{result['started_at'][:10]}-exchange-{args.events}"
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / f"{stem}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (args.results_dir / f"{stem}.md").write_text(table + "\n")
    print(table)
    print(f"wrote {args.results_dir / stem}.json and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
