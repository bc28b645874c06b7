"""`python -m seeds`: generate a world (and time it), or load one into Neo4j.

python -m seeds generate --subjects 100000 [--link-history]
python -m seeds load --uri bolt://127.0.0.1:7791 --subjects 100000
python -m seeds load --uri bolt://127.0.0.1:7791 --demo
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from graph_model.contact_key import KEY_FILE_NAME, ContactKey, ContactKeyError, load_key
from graph_model.driver import create_driver
from seeds.demo import demo_world
from seeds.generator import SUBJECT_RELS, World, WorldSpec, generate
from seeds.loader import load_world
from seeds.spec import DEFAULT_SEED


def _world(args: argparse.Namespace) -> World:
    if args.demo:
        return demo_world()
    return generate(WorldSpec(args.subjects, seed=args.seed, link_history=args.link_history))


def _generate(world: World, batch_size: int) -> int:
    """Every row the loader would write, made and dropped; returns how many."""
    rows = sum(len(b) for _, b in world.subject_batches(batch_size))
    rows += sum(1 for _ in world.households()) + sum(1 for _ in world.memberships())
    rows += sum(len(b) for _, b in world.link_batches(batch_size))
    return rows + sum(1 for _ in world.sanctions())


def _contact_key(args: argparse.Namespace) -> ContactKey:
    """The key `creditlink` would use: the configured file, or the data dir's (made if absent)."""
    if args.contact_key_file:
        return load_key(Path(args.contact_key_file), create=False)
    from api.settings import Settings

    settings = Settings.from_env()
    return load_key(settings.contact_key_file, create=settings.contact_hash_key_file is None)


async def _load(args: argparse.Namespace, world: World, contact_key: ContactKey) -> dict[str, int]:
    driver = create_driver(args.uri, args.user, os.environ.get("NEO4J_PASSWORD", ""))
    try:
        return await load_world(
            driver,
            args.database,
            world,
            contact_key=contact_key,
            batch_size=args.batch_size,
            progress=not args.quiet,
        )
    finally:
        await driver.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seeds", description=__doc__)
    parser.add_argument("command", choices=("generate", "load"))
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--demo", action="store_true", help="the demo world instead")
    parser.add_argument(
        "--link-history",
        action="store_true",
        help="ended ties too: past household registrations, former officers and holders",
    )
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--uri", default=os.environ.get("NEO4J_URI"), help="or NEO4J_URI")
    parser.add_argument("--user", default=os.environ.get("NEO4J_USER", "neo4j"))
    parser.add_argument("--database", default=os.environ.get("NEO4J_DATABASE", "neo4j"))
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--contact-key-file",
        default=None,
        help="or CREDITLINK_CONTACT_HASH_KEY_FILE; default <CREDITLINK_DATA_DIR>/" + KEY_FILE_NAME,
    )
    args = parser.parse_args(argv)
    if args.command == "load" and not args.uri:
        parser.error("load needs --uri (or NEO4J_URI)")
    world = _world(args)
    started = time.perf_counter()
    if args.command == "generate":
        rows = _generate(world, args.batch_size)
        elapsed = time.perf_counter() - started
        print(f"generated {rows:,} rows in {elapsed:.1f}s: {rows / elapsed:,.0f} rows/s")
        return 0
    try:
        contact_key = _contact_key(args)
    except (ContactKeyError, ValueError) as exc:  # ValueError: api.settings.SettingsError
        parser.error(str(exc))
    written = asyncio.run(_load(args, world, contact_key))
    elapsed = time.perf_counter() - started
    rows = sum(written[k] for k in ("Subject", "Household", "Sanction", "MEMBER_OF"))
    rows += sum(written[r.value] for r in SUBJECT_RELS)
    print(f"loaded {rows:,} rows in {elapsed:.1f}s: {rows / elapsed:,.0f} rows/s", file=sys.stderr)
    for key, value in written.items():
        print(f"{key}\t{value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
