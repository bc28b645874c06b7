"""A national list file of any size, and the time `creditlink exchange import` takes on it.

    .venv/bin/python bench/list_file.py --lines 1000000 --write .data/bench/national-1M.jsonl
    .venv/bin/python bench/list_file.py --lines 1000000 --measure

`--write FILE` writes the file only. `--measure` writes it (to `--write`, else a temporary
file), starts an embedded Neo4j on a fresh data dir (`.data/bench/list-import`), applies the
migrations with `creditlink migrate`, then times `creditlink exchange import FILE --source
national` as a process, as an operator runs it, and runs it a second time (every line is
found applied before: the idempotent rerun); it prints both commands' output, their wall
time, the CPU time of the command's process and of Neo4j meanwhile (on a shared box the
CPU times say what the import costs, the wall time also what the neighbours did), and
what the graph holds afterwards.

The file is deterministic for a `--seed` (docs/list-format.md, version 1): valid ids of
every kind (credit codes of enterprises, individual businesses and public institutions,
resident IDs; no `subjectKind`, so the import infers each from the id), the national
lists Wenzhou recognises, about one subject in ten on a second list, and after the
impositions about one line in ten a lift or a revocation of an entry imposed earlier in the
file.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness.cpu import read_stat  # noqa: E402
from domain.identifiers import USCC_CHARSET, make_resident_id, make_uscc  # noqa: E402

SOURCE = "national"
GENERATED_AT = dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DECIDED_FROM = dt.date(2021, 1, 1).toordinal()
DECIDED_TO = dt.date(2025, 12, 31).toordinal()
# Zhejiang's counties the subjects are registered in (GB/T 2260), with their city
AREAS = {
    "330302": "温州", "330303": "温州", "330304": "温州", "330305": "温州", "330324": "温州",
    "330381": "温州", "330382": "温州", "330102": "杭州", "330106": "杭州", "330203": "宁波",
    "330402": "嘉兴", "330502": "湖州", "330602": "绍兴", "330702": "金华", "330802": "衢州",
    "331002": "台州",
}  # fmt: skip
AREA_CODES = tuple(AREAS)
COURTS = {
    "330302": ("浙0302", "温州市鹿城区人民法院"),
    "330303": ("浙0303", "温州市龙湾区人民法院"),
    "330304": ("浙0304", "温州市瓯海区人民法院"),
    "330381": ("浙0381", "瑞安市人民法院"),
    "330382": ("浙0382", "乐清市人民法院"),
    "330102": ("浙0102", "杭州市上城区人民法院"),
    "330203": ("浙0203", "宁波市海曙区人民法院"),
    "330402": ("浙0402", "嘉兴市南湖区人民法院"),
}
# list type: (weight for organisations, authority, document number pattern, reason)
ORG_LISTS: dict[str, tuple[int, str, str, str]] = {
    "DISHONEST_JUDGMENT_DEBTOR": (60, "", "", "有履行能力而拒不履行生效法律文书确定的义务"),
    "MAJOR_TAX_VIOLATION": (
        10,
        "国家税务总局浙江省税务局稽查局",
        "浙税稽罚〔{y}〕{n}号",
        "虚开增值税专用发票",
    ),
    "SAMR_SERIOUS_ILLEGAL": (
        10,
        "浙江省市场监督管理局",
        "浙市监罚〔{y}〕{n}号",
        "提交虚假材料取得公司登记，情节严重",
    ),
    "GOV_PROCUREMENT_BAD_RECORD": (
        5,
        "浙江省财政厅",
        "浙财采监〔{y}〕{n}号",
        "提供虚假材料谋取中标",
    ),
    "SOCIAL_INSURANCE_DISHONEST": (
        5,
        "浙江省人力资源和社会保障厅",
        "浙人社罚〔{y}〕{n}号",
        "骗取社会保险基金支出",
    ),
    "WAGE_ARREARS_DISHONEST": (
        5,
        "浙江省人力资源和社会保障厅",
        "浙人社欠〔{y}〕{n}号",
        "拒不支付劳动报酬，数额较大",
    ),
    "ENV_SERIOUS_DISHONEST": (
        5,
        "浙江省生态环境厅",
        "浙环罚〔{y}〕{n}号",
        "篡改、伪造自动监测数据",
    ),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
FIRMS = ("贸易", "鞋业", "电气", "阀门", "服饰", "机械", "建设", "眼镜", "包装", "五金")


class Ids:
    """Distinct valid ids: a counter spelled in the credit code's charset, and resident IDs
    by birth day and sequence number."""

    def __init__(self) -> None:
        self.org = 0
        self.person = 0

    def uscc(self, type_code: str, area: str) -> str:
        self.org += 1
        n, digits = self.org, []
        for _ in range(7):
            n, d = divmod(n, len(USCC_CHARSET))
            digits.append(USCC_CHARSET[d])
        return make_uscc(type_code, area, "M" + "".join(reversed(digits)))

    def resident(self, area: str) -> str:
        self.person += 1
        day, seq = divmod(self.person, 1000)
        birth = dt.date.fromordinal(dt.date(1950, 1, 1).toordinal() + day % 18_000)
        return make_resident_id(area, birth, seq)


def _subject(rng: random.Random, ids: Ids) -> tuple[str, str, bool]:
    """(id, name, is an organisation)."""
    area = rng.choice(AREA_CODES)
    roll = rng.random()
    if roll < 0.38:
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        return ids.resident(area), name, False
    city = AREAS[area]
    if roll < 0.93:
        return ids.uscc("91", area), f"{city}{rng.choice(FIRMS)}有限公司{ids.org}", True
    if roll < 0.98:
        return ids.uscc("92", area), f"{city}某{rng.choice(FIRMS)}经营部{ids.org}", True
    return ids.uscc("12", area), f"{city}某事业中心{ids.org}", True


def _entry(rng: random.Random, subject: tuple[str, str, bool], n: int) -> dict[str, Any]:
    subject_id, name, organisation = subject
    decided = dt.date.fromordinal(rng.randint(DECIDED_FROM, DECIDED_TO))
    lists = list(ORG_LISTS) if organisation else ["DISHONEST_JUDGMENT_DEBTOR"]
    weights = [ORG_LISTS[t][0] for t in lists]
    list_type = rng.choices(lists, weights)[0]
    _, authority, pattern, reason = ORG_LISTS[list_type]
    if list_type == "DISHONEST_JUDGMENT_DEBTOR":
        code, authority = COURTS[rng.choice(list(COURTS))]
        case_no = f"（{decided.year}）{code}执{n}号"
    else:
        case_no = pattern.format(y=decided.year, n=n)
    line: dict[str, Any] = {
        "action": "impose",
        "listType": list_type,
        "caseNo": case_no,
        "authority": authority,
        "name": name,
        "id": subject_id,
        "decidedOn": decided.isoformat(),
        "reason": reason,
    }
    if rng.random() < 0.7:  # 纳入期限二年 (法释〔2017〕7号 第二条) or the list's own term
        years = 2 if list_type == "DISHONEST_JUDGMENT_DEBTOR" else 3
        line["validTo"] = decided.replace(year=decided.year + years, day=min(decided.day, 28))
        line["validTo"] = line["validTo"].isoformat()
    return line


def lines(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """The header, then `count` entry lines."""
    rng = random.Random(seed)
    ids = Ids()
    yield {
        "format": "creditlink-list",
        "version": 1,
        "source": SOURCE,
        "generatedAt": GENERATED_AT.isoformat(),
    }
    recent: list[dict[str, Any]] = []  # impositions a later lift or revocation may name
    subject: tuple[str, str, bool] | None = None
    for n in range(1, count + 1):
        if recent and rng.random() < 0.1:
            imposed = recent.pop(rng.randrange(len(recent)))
            decided = dt.datetime.fromisoformat(imposed["decidedOn"] + "T09:00:00+08:00")
            span = int((GENERATED_AT - decided).total_seconds())
            lifted = decided + dt.timedelta(seconds=rng.randint(86_400, max(86_401, span)))
            action = "lift" if rng.random() < 0.8 else "revoke"
            yield {**imposed, "action": action, "liftedAt": min(lifted, GENERATED_AT).isoformat()}
            continue
        if subject is None or rng.random() >= 0.1:  # one in ten: the last subject again
            subject = _subject(rng, ids)
        line = _entry(rng, subject, n)
        if len(recent) < 10_000:
            recent.append(line)
        else:
            recent[rng.randrange(len(recent))] = line
        yield line


def write(path: Path, count: int, seed: int) -> float:
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for line in lines(count, seed):
            out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    return time.perf_counter() - started


@dataclass(frozen=True)
class Took:
    wall_s: float
    client_cpu_s: float  # the creditlink process
    neo4j_cpu_s: float  # the Neo4j server meanwhile

    def __str__(self) -> str:
        return (
            f"{self.wall_s:.1f} s (CPU: creditlink {self.client_cpu_s:.1f} s, "
            f"Neo4j {self.neo4j_cpu_s:.1f} s)"
        )


def _cpu_s(pid: int | None) -> float:
    stat = read_stat(pid) if pid is not None else None
    return stat.own_s if stat is not None else 0.0


def _run(
    args: list[str], env: dict[str, str], neo4j_pid: int | None = None
) -> tuple[Took, subprocess.CompletedProcess[str]]:
    """`creditlink ARGS` as a process: its wall time, its CPU time and Neo4j's (CPU time
    says what the work costs whatever the neighbours on a shared box do)."""
    started, children, server = time.perf_counter(), _children_cpu_s(), _cpu_s(neo4j_pid)
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = Took(
        time.perf_counter() - started,
        _children_cpu_s() - children,
        _cpu_s(neo4j_pid) - server,
    )
    return took, done


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _counts(uri: str, user: str, password: str) -> dict[str, int]:
    from graph_model.driver import open_graph

    query = (
        "MATCH (s:Sanction) WITH count(s) AS sanctions, "
        "count(CASE WHEN s.liftedAt IS NOT NULL THEN 1 END) AS lifted "
        "MATCH (p:Subject) WITH sanctions, lifted, count(p) AS subjects "
        "MATCH (e:SanctionEvent) RETURN sanctions, lifted, subjects, count(e) AS events"
    )
    async with open_graph(uri, user, password, "neo4j") as graph:
        return dict((await graph.read(query))[0])


def measure(path: Path, heap_mb: int, pagecache_mb: int, batch_size: int) -> None:
    from testkit import free_port
    from testkit.api import serve_environment
    from testkit.neo4j import Neo4jServer, fresh_neo4j

    data = ROOT / ".data" / "bench" / "list-import"
    with fresh_neo4j(data / "neo4j", heap_mb=heap_mb, pagecache_mb=pagecache_mb) as neo4j:
        server = Neo4jServer.of(neo4j)
        env = serve_environment(
            server,
            port=free_port(),
            keys_file=data / "unused.toml",
            data_dir=data / "api",
            extra={"CREDITLINK_API_KEYS_FILE": ""},
        )
        took, done = _run(["migrate"], env)
        if done.returncode != 0:
            raise SystemExit(f"migrate failed: {done.stderr}")
        command = [
            "exchange",
            "import",
            str(path),
            "--source",
            SOURCE,
            "--batch-size",
            str(batch_size),
            "--quiet",
        ]
        print(f"$ creditlink {' '.join(command)}", flush=True)
        for run in ("first", "again"):
            took, done = _run(command, env, neo4j.running_pid())
            print(f"{run}: exit {done.returncode} in {took}")
            print("  " + (done.stdout.strip() or done.stderr.strip()[-2000:]), flush=True)
            if done.returncode != 0:
                print(done.stderr[-4000:], file=sys.stderr)
                raise SystemExit(1)
        counts = asyncio.run(_counts(server.uri, server.user, server.password))
        print("the graph: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260110)
    parser.add_argument("--write", type=Path, default=None, metavar="FILE")
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--heap-mb", type=int, default=2048)
    parser.add_argument("--pagecache-mb", type=int, default=1024)
    args = parser.parse_args()
    if args.write is None and not args.measure:
        parser.error("give --write FILE, --measure, or both")
    with tempfile.TemporaryDirectory(prefix="list-file-") as scratch:
        path = args.write or Path(scratch) / f"{SOURCE}-{args.lines}.jsonl"
        took = write(path, args.lines, args.seed)
        size = os.path.getsize(path)
        print(f"wrote {path}: {args.lines:,} lines, {size / 2**20:,.0f} MiB in {took:.1f} s")
        if args.measure:
            measure(path, args.heap_mb, args.pagecache_mb, args.batch_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
