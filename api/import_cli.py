"""`creditlink import`: subjects, households, links and sanctions from CSV files.

Every row is validated with the API's rules; a run with any bad row writes nothing and
prints every problem as `file:line: field: reason` (exit status 1). The format is in
docs/csv-import.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from api.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name in ("subjects", "households", "links", "sanctions"):
        parser.add_argument(f"--{name}", type=Path, default=None, metavar="FILE")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--check", action="store_true", help="validate only, write nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from api.instance import instance_catalogue
    from api.settings import SettingsError
    from domain.errors import Conflict
    from graph_model import csv_import
    from graph_model.contact_key import ContactKey, ContactKeyError, load_key
    from graph_model.driver import create_driver
    from rules.issues import CatalogueInvalid

    files = csv_import.ImportFiles(args.subjects, args.households, args.links, args.sanctions)
    for _, path in files.items():
        if not path.is_file():
            print(f"creditlink import: no file {path}", file=sys.stderr)
            return 2
    contact_key: ContactKey | None = None
    if not args.check:  # before validating: a key problem is known without reading the files
        try:
            contact_key = load_key(
                settings.contact_key_file, create=settings.contact_hash_key_file is None
            )
        except ContactKeyError as exc:
            print(f"creditlink import: CREDITLINK_CONTACT_HASH_KEY_FILE: {exc}", file=sys.stderr)
            return 2
    try:
        catalogue = instance_catalogue(settings)
    except (SettingsError, CatalogueInvalid) as exc:
        print(f"creditlink import: {exc}", file=sys.stderr)
        return 2
    driver = create_driver(settings.bolt_uri, *settings.neo4j_auth())
    try:
        started = time.perf_counter()
        resolver = csv_import.database_resolver(driver, settings.neo4j_database)
        report, _ = await csv_import.validate(files, catalogue, resolver=resolver)
        if not report.ok:
            print(report.format(), file=sys.stderr)
            return 1
        rows = ", ".join(f"{k} {v:,}" for k, v in report.rows.items())
        print(f"valid: {rows}", file=sys.stderr)
        if contact_key is None:  # --check
            return 0
        try:
            written = await csv_import.load(
                driver,
                settings.neo4j_database,
                files,
                catalogue,
                report,
                contact_key=contact_key,
                batch_size=args.batch_size,
                progress=not args.quiet,
            )
        except Conflict as exc:  # the database is keyed with another key: nothing written
            print(f"creditlink import: {exc.message}", file=sys.stderr)
            return 2
        elapsed = time.perf_counter() - started
        total = sum(written.values())
        rate = total / max(elapsed, 1e-9)
        print(
            f"imported {total:,} rows in {elapsed:.1f}s ({rate:,.0f} rows/s): "
            + ", ".join(f"{k} {v:,}" for k, v in written.items())
        )
        return 0
    finally:
        await driver.close()


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    if not any(getattr(args, n) for n in ("subjects", "households", "links", "sanctions")):
        print(
            "creditlink import: name at least one of --subjects --households --links --sanctions",
            file=sys.stderr,
        )
        return 2
    if settings.embedded:
        from api.cli import cmd_neo4j_start

        cmd_neo4j_start(settings)
    return asyncio.run(_run(settings, args))
