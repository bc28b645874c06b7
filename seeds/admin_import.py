"""The fastest load of a generated world: CSVs from the generator's blocks, then
`neo4j-admin database import full` run from the Maven artifacts in target/lib.

    python -m seeds.admin_import --subjects 1000000 --home .data/x/neo4j [--link-history]

Blocks are independent, so `workers` processes write them in parallel (worker w takes
blocks w, w + workers, ...), each to its own files; the import tool reads every worker's
file of a kind as one input. The store is written to `<home>/data/databases/neo4j`, where
the embedded launcher (`DatabaseManagementServiceBuilder(home)`) finds it; migrations
(constraints, indexes) are applied afterwards by whoever starts the database. Contact
hashes are written keyed, with the record of their key (`graph_model.contact_key`), by
default the one in the data dir that holds `home`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.vocabulary import KIND_LABEL, Label, Rel, SystemRel
from graph_model.contact_key import (
    KEY_FILE_NAME,
    ContactKey,
    ContactKeyError,
    load_key,
    marker_properties,
)
from graph_model.runtime.embedded import JAR, LIB, _java
from seeds.generator import SUBJECT_RELS, World, WorldSpec, generate
from seeds.rows import SanctionRow
from seeds.spec import DEFAULT_SEED, KIND_ORDER

SUBJECT_HEADER = (
    "id:ID(Subject)", ":LABEL", "kind", "name", "district", "phoneHash", "addressHash",
    "birthDate:date", "industry", "registeredCapital:double", "establishedOn:date", "status",
    "createdAt:datetime", "updatedAt:datetime",
)  # fmt: skip
HOUSEHOLD_HEADER = ("id:ID(Household)", "district", "address")
MEMBER_HEADER = (
    ":START_ID(Subject)", ":END_ID(Household)", "id", "validFrom:date", "validTo:date", "source",
    "role",
)  # fmt: skip
LINK_HEADER = (
    ":START_ID(Subject)", ":END_ID(Subject)", ":TYPE", "id", "validFrom:date", "validTo:date",
    "source", "ratio:double", "role",
)  # fmt: skip
SANCTION_HEADER = (
    "id:ID(Sanction)", "listType", "kind", "decidedOn:date", "validFrom:date", "validTo:date",
    "status", "liftKind", "liftedAt:datetime", "jurisdiction", "recognized:boolean",
    "documentNo", "reason", "issuerId", "subjectId", "createdAt:datetime",
)  # fmt: skip
DEPARTMENT_HEADER = ("id:ID(Department)", "name")
CONTACT_KEY_HEADER = ("id:ID(ContactKey)", "fingerprint", "complete:boolean")
ISSUED_HEADER = (":START_ID(Department)", ":END_ID(Sanction)")
AGAINST_HEADER = (":START_ID(Sanction)", ":END_ID(Subject)")
RESPONSIBLE_HEADER = (":START_ID(Sanction)", ":END_ID(Subject)")

# what each worker writes: (file stem, header); nodes first, then relationships
NODE_FILES: dict[str, tuple[str, ...]] = {
    "subjects": SUBJECT_HEADER,
    "households": HOUSEHOLD_HEADER,
    "sanctions": SANCTION_HEADER,
}
REL_FILES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "memberships": (MEMBER_HEADER, Rel.MEMBER_OF.value),
    "links": (LINK_HEADER, None),  # the type is a column
    "issued": (ISSUED_HEADER, SystemRel.ISSUED.value),
    "against": (AGAINST_HEADER, SystemRel.AGAINST.value),
    "responsible": (RESPONSIBLE_HEADER, SystemRel.RESPONSIBLE_PERSON.value),
}
NODE_LABELS = {
    "subjects": None,  # per row (:LABEL column)
    "households": Label.HOUSEHOLD.value,
    "sanctions": Label.SANCTION.value,
}


@dataclass(frozen=True)
class ImportReport:
    counts: dict[str, int]
    seconds: dict[str, float]
    peak_rss_mb: float | None
    csv_mb: float


def _value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return v


# set before the pool forks; each worker reads its blocks and keys contacts with the key
_WORLD: World | None = None
_CONTACT_KEY: ContactKey | None = None


def _write_part(task: tuple[int, int, str, str]) -> tuple[Counter[str], dict[str, str]]:
    worker, workers, directory, now = task
    world = _WORLD
    contact_key = _CONTACT_KEY
    assert world is not None and contact_key is not None
    keyed = contact_key.keyed
    out = Path(directory)
    counts: Counter[str] = Counter()
    departments: dict[str, str] = {}
    files = {stem: (out / f"{stem}-{worker:02d}.csv").open("w", newline="", encoding="utf-8")
             for stem in (*NODE_FILES, *REL_FILES)}  # fmt: skip
    writers = {stem: csv.writer(f) for stem, f in files.items()}
    try:
        for index in range(worker, world.block_count, workers):
            block = world.block(index)
            for kind in KIND_ORDER:
                label = f"{Label.SUBJECT.value};{KIND_LABEL[kind].value}"
                rows = block.subjects(kind)
                counts[KIND_LABEL[kind].value] += len(rows)
                w = writers["subjects"]
                for r in rows:
                    phone, address = r.get("phoneHash"), r.get("addressHash")
                    w.writerow(
                        [r["id"], label, r["kind"], r["name"], r["district"],
                         phone and keyed(phone), address and keyed(address),
                         _value(r.get("birthDate")), r.get("industry"),
                         r.get("registeredCapital"), _value(r.get("establishedOn")),
                         r.get("status"), now, now]
                    )  # fmt: skip
            households = block.households()
            counts[Label.HOUSEHOLD.value] += len(households)
            writers["households"].writerows(
                [h["id"], h["district"], h["address"]] for h in households
            )
            members = block.memberships()
            counts[Rel.MEMBER_OF.value] += len(members)
            writers["memberships"].writerows(
                [m["src"], m["dst"], m["id"], _value(m["validFrom"]), _value(m["validTo"]),
                 m["source"], m.get("role")]
                for m in members
            )  # fmt: skip
            for rel in SUBJECT_RELS:
                links = block.links(rel)
                counts[rel.value] += len(links)
                writers["links"].writerows(
                    [x["src"], x["dst"], rel.value, x["id"], _value(x["validFrom"]),
                     _value(x["validTo"]), x["source"], x.get("ratio"), x.get("role")]
                    for x in links
                )  # fmt: skip
            _write_sanctions(block.sanctions(), writers, counts, departments)
        if worker == 0:
            _write_sanctions(world.patch.extra_sanctions, writers, counts, departments)
    finally:
        for f in files.values():
            f.close()
    return counts, departments


def _write_sanctions(
    rows: Iterable[SanctionRow],
    writers: dict[str, Any],
    counts: Counter[str],
    departments: dict[str, str],
) -> None:
    for s in rows:
        counts[Label.SANCTION.value] += 1
        counts[SystemRel.ISSUED.value] += 1
        counts[SystemRel.AGAINST.value] += 1
        departments.setdefault(s["issuerId"], s["issuerName"])
        writers["sanctions"].writerow(
            [s["id"], s["listType"], s["kind"], _value(s["decidedOn"]), _value(s["validFrom"]),
             _value(s["validTo"]), s["status"], s["liftKind"], _value(s["liftedAt"]),
             s["jurisdiction"], _value(s["recognized"]), s["documentNo"], s["reason"],
             s["issuerId"], s["subjectId"], _value(s["createdAt"])]
        )  # fmt: skip
        writers["issued"].writerow([s["issuerId"], s["id"]])
        writers["against"].writerow([s["id"], s["subjectId"]])
        for person in dict.fromkeys(s["responsiblePersonIds"]):
            counts[SystemRel.RESPONSIBLE_PERSON.value] += 1
            writers["responsible"].writerow([s["id"], person])


def write_csvs(
    world: World, directory: Path, *, contact_key: ContactKey, workers: int = 2
) -> tuple[dict[str, int], dict[str, str]]:
    """Every record of `world` as neo4j-admin CSV parts in `directory`, contact hashes keyed
    with `contact_key`; returns the counts (keyed like `World.counts()`) and the departments
    (id -> name) that issued sanctions."""
    global _WORLD, _CONTACT_KEY
    directory.mkdir(parents=True, exist_ok=True)
    for stem, header in NODE_FILES.items():
        _header(directory / f"{stem}-header.csv", header)
    for stem, (header, _) in REL_FILES.items():
        _header(directory / f"{stem}-header.csv", header)
    now = dt.datetime.now(dt.UTC).isoformat()
    tasks = [(w, workers, str(directory), now) for w in range(workers)]
    _WORLD, _CONTACT_KEY = world, contact_key
    try:
        if workers == 1:
            results = [_write_part(tasks[0])]
        else:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                results = pool.map(_write_part, tasks)
    finally:
        _WORLD, _CONTACT_KEY = None, None
    counts: Counter[str] = Counter()
    departments: dict[str, str] = {}
    for part, deps in results:
        counts.update(part)
        departments.update(deps)
    with (directory / "departments.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(DEPARTMENT_HEADER)
        w.writerows(sorted(departments.items()))
    # without this record a later writer would take the keyed hashes for bare ones
    marker = marker_properties(contact_key)
    with (directory / "contact-key.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(CONTACT_KEY_HEADER)
        w.writerow([marker["id"], marker["fingerprint"], _value(marker["complete"])])
    counts[Label.SUBJECT.value] = sum(counts[KIND_LABEL[k].value] for k in KIND_ORDER)
    counts[Label.DEPARTMENT.value] = len(departments)
    return dict(counts), departments


def _header(path: Path, header: tuple[str, ...]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(header)


def admin_command(home: Path, directory: Path, workers: int) -> list[str]:
    def group(stem: str) -> str:
        parts = sorted(str(p) for p in directory.glob(f"{stem}-[0-9][0-9].csv"))
        return ",".join([str(directory / f"{stem}-header.csv"), *parts])

    args = [
        _java(),
        "-Xms1g",
        "-Xmx2g",
        "-cp",
        f"{JAR}{os.pathsep}{LIB}/*",
        "org.neo4j.cli.AdminTool",
        "database",
        "import",
        "full",
        "neo4j",  # the database, before the file options (they take several values each)
        "--overwrite-destination=true",
        "--high-parallel-io=on",
        # the default, 90% of RAM, is unkind to a shared box; the city needs about 3 GiB
        "--max-off-heap-memory=6G",
        f"--threads={max(2, workers)}",
        f"--report-file={directory / 'import.report'}",
    ]
    for stem, label in NODE_LABELS.items():
        args.append(f"--nodes={label + '=' if label else ''}{group(stem)}")
    args.append(f"--nodes={Label.DEPARTMENT.value}={directory / 'departments.csv'}")
    args.append(f"--nodes={Label.CONTACT_KEY.value}={directory / 'contact-key.csv'}")
    for stem, (_, rel_type) in REL_FILES.items():
        args.append(f"--relationships={rel_type + '=' if rel_type else ''}{group(stem)}")
    return args


def run_admin_import(
    home: Path, directory: Path, *, workers: int = 2, log: Callable[[str], None] = print
) -> float | None:
    """Run the import tool into `home`; returns its peak RSS in MB (polled from /proc)."""
    (home / "conf").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")}
    log_path = directory / "neo4j-admin.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            admin_command(home, directory, workers),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, proc_memory_mb(proc.pid, "VmHWM") or 0.0)
            time.sleep(0.5)
    if proc.returncode != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"neo4j-admin import failed ({proc.returncode}):\n{tail}")
    log(f"neo4j-admin import done; its log is {log_path}")
    return round(peak, 1) if peak else None


def proc_memory_mb(pid: int, field: str) -> float | None:
    """A process's memory figure from /proc (`VmHWM` its peak, `VmRSS` now), in MiB; None
    once the process is gone, or where there is no /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def import_world(
    world: World,
    home: Path,
    *,
    contact_key: ContactKey,
    workers: int | None = None,
    csv_dir: Path | None = None,
    keep_csv: bool = False,
    log: Callable[[str], None] = print,
) -> ImportReport:
    """Write `world` as CSVs and import them into an empty store under `home`."""
    n = workers or max(1, os.cpu_count() or 1)
    directory = csv_dir or home.parent / "import-csv"
    shutil.rmtree(directory, ignore_errors=True)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    counts, _ = write_csvs(world, directory, contact_key=contact_key, workers=n)
    seconds["generate+csv"] = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in directory.glob("*.csv")) / 1024 / 1024
    log(f"wrote {size:,.0f} MB of CSV in {seconds['generate+csv']:,.1f}s ({n} workers)")
    t0 = time.perf_counter()
    peak = run_admin_import(home, directory, workers=n, log=log)
    seconds["neo4j-admin import"] = time.perf_counter() - t0
    if not keep_csv:
        shutil.rmtree(directory, ignore_errors=True)
    return ImportReport(counts, seconds, peak, round(size, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seeds.admin_import", description=__doc__)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--home", type=Path, required=True, help="the embedded store's home")
    parser.add_argument(
        "--contact-key-file",
        type=Path,
        default=None,
        help=f"the contact hash key (default: {KEY_FILE_NAME} beside --home, made if absent)",
    )
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep-csv", action="store_true")
    parser.add_argument("--link-history", action="store_true", help="ended ties too")
    args = parser.parse_args(argv)
    home = args.home.resolve()
    configured = args.contact_key_file
    key_path = configured if configured is not None else home.parent / KEY_FILE_NAME
    try:
        contact_key = load_key(key_path, create=configured is None)
    except ContactKeyError as exc:
        parser.error(str(exc))
    started = time.perf_counter()
    report = import_world(
        generate(WorldSpec(args.subjects, seed=args.seed, link_history=args.link_history)),
        home,
        contact_key=contact_key,
        workers=args.workers,
        keep_csv=args.keep_csv,
    )
    print(f"done in {time.perf_counter() - started:,.1f}s: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
