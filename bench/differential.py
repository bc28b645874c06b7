"""Differential run: the production check engine against the reference, on many worlds.

    .venv/bin/python bench/differential.py [--worlds 10000] [--seed 0] [--uri bolt://…]

Each world (`tests.reference.worlds.random_world(seed + i)`) is loaded into Neo4j and
every one of its checks is answered by `graph_model.checks.CheckEngine` and by
`tests.reference.engine.ReferenceEngine`; decisions, subjectKnown and the applied
measures (measure, role, sanction, path, suppressed) must be identical. Without `--uri`
an embedded Neo4j is started in a temporary directory and removed afterwards. With
`--uri` the database must be a throwaway one: every world wipes it (all but the schema
record, the departments and the ballast).

Prints the worlds and checks compared, the mismatches (with a shrunk repro of the first,
as JSON) and the elapsed time; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for `tests` and `testkit`

from graph_model import migrations
from graph_model.catalogue_sync import sync_departments
from graph_model.checks import CheckEngine
from graph_model.driver import Graph, create_driver
from rules.loader import load_catalogue
from rules.models import Catalogue
from testkit.neo4j import fresh_neo4j
from tests.reference.engine import World
from tests.reference.worlds import (
    Mismatch,
    differences,
    load_ballast,
    random_world,
    reference_outcomes,
)

Fails = Callable[[World], Awaitable[list[Mismatch]]]


# ------------------------------------------------------------------------------ shrinking


def smaller(world: World) -> Iterator[World]:
    """Every world one part smaller than `world` (one check, sanction, named person, link,
    household or subject fewer, with what hangs off it)."""
    for n in range(len(world.checks)):
        yield dataclasses.replace(world, checks=world.checks[:n] + world.checks[n + 1 :])
    for n in range(len(world.sanctions)):
        yield dataclasses.replace(world, sanctions=world.sanctions[:n] + world.sanctions[n + 1 :])
    for n, sanction in enumerate(world.sanctions):
        if sanction.responsible_person_ids:
            fewer = dataclasses.replace(sanction, responsible_person_ids=())
            sanctions = (*world.sanctions[:n], fewer, *world.sanctions[n + 1 :])
            yield dataclasses.replace(world, sanctions=sanctions)
    for n in range(len(world.links)):
        yield dataclasses.replace(world, links=world.links[:n] + world.links[n + 1 :])
    for household in world.households:
        yield dataclasses.replace(
            world,
            households=tuple(h for h in world.households if h != household),
            links=tuple(ln for ln in world.links if ln.target != household.id),
        )
    for subject in world.subjects:
        gone = subject.id
        yield dataclasses.replace(
            world,
            subjects=tuple(s for s in world.subjects if s.id != gone),
            links=tuple(ln for ln in world.links if gone not in (ln.source, ln.target)),
            sanctions=tuple(
                dataclasses.replace(
                    s,
                    responsible_person_ids=tuple(p for p in s.responsible_person_ids if p != gone),
                )
                for s in world.sanctions
                if s.subject_id != gone
            ),
        )


async def shrink(world: World, fails: Fails) -> World:
    """Greedily drop parts of `world` while the engines still disagree on it."""
    changed = True
    while changed:
        changed = False
        for candidate in smaller(world):
            if candidate.checks and await fails(candidate):
                world, changed = candidate, True
                break
    return world


# ------------------------------------------------------------------------------ the run


async def run(args: argparse.Namespace, uri: str) -> int:
    catalogue: Catalogue = load_catalogue()
    engine = CheckEngine(catalogue)
    driver = create_driver(uri, args.user, args.password)
    graph = Graph(driver, args.database)
    try:
        started = time.perf_counter()
        await migrations.apply_migrations(graph)
        await sync_departments(graph, catalogue)
        await load_ballast(graph, catalogue)

        async def fails(world: World) -> list[Mismatch]:
            return await differences(graph, engine, catalogue, world)

        checks = 0
        decisions: Counter[str] = Counter()
        roles: Counter[str] = Counter()
        bad: list[tuple[int, World, list[Mismatch]]] = []
        for n in range(args.worlds):
            seed = args.seed + n
            world = random_world(seed, catalogue)
            mismatches = await fails(world)
            checks += len(world.checks)
            for outcome in reference_outcomes(catalogue, world):
                decisions[outcome.decision] += 1
                roles.update(row.role for row in outcome.measures)
            if mismatches:
                bad.append((seed, world, mismatches))
                print(f"MISMATCH in world seed={seed} ({len(mismatches)} checks)", flush=True)
            if args.progress and (n + 1) % args.progress == 0:
                elapsed = time.perf_counter() - started
                print(f"  {n + 1} worlds, {checks} checks, {elapsed:.1f}s", flush=True)
        elapsed = time.perf_counter() - started

        print(f"worlds compared: {args.worlds} (seeds {args.seed}..{args.seed + args.worlds - 1})")
        print(f"checks compared: {checks}")
        print("decisions:       " + ", ".join(f"{k} {v}" for k, v in decisions.most_common()))
        print("roles applied:   " + ", ".join(f"{k} {v}" for k, v in roles.most_common()))
        print(f"mismatching worlds: {len(bad)}")
        print(f"elapsed: {elapsed:.1f}s ({args.worlds / elapsed:.1f} worlds/s)")
        if not bad:
            return 0
        seed, world, mismatches = bad[0]
        print(f"\nfirst mismatch: world seed={seed}")
        for mismatch in mismatches:
            print(mismatch.describe())
        minimal = await shrink(world, fails)
        print("\nshrunk repro (the engines still disagree on it):")
        for mismatch in await fails(minimal):
            print(mismatch.describe())
        print(json.dumps(minimal.to_json(), ensure_ascii=False, indent=2))
        return 1
    finally:
        await driver.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", type=int, default=10_000, help="how many worlds")
    parser.add_argument("--seed", type=int, default=0, help="the first world's seed")
    parser.add_argument("--uri", help="a throwaway Neo4j (default: start an embedded one)")
    parser.add_argument("--user", default="neo4j")
    parser.add_argument("--password", default="")
    parser.add_argument("--database", default="neo4j")
    parser.add_argument("--progress", type=int, default=500, help="report every N worlds")
    args = parser.parse_args(argv)
    if args.uri:
        return asyncio.run(run(args, args.uri))
    booted = time.perf_counter()
    data_dir = Path(tempfile.mkdtemp(prefix="creditlink-differential-"))
    with fresh_neo4j(data_dir, heap_mb=1024, pagecache_mb=256) as server:
        print(f"embedded Neo4j on {server.uri} ({time.perf_counter() - booted:.1f}s to boot)")
        args.user, args.password = server.auth
        return asyncio.run(run(args, server.uri))


if __name__ == "__main__":
    sys.exit(main())
