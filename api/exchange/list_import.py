"""`creditlink exchange import FILE --source J`: a list file from the provincial or national
platform (docs/list-format.md).

The whole file is checked first, against the database too; a file with any bad line is
refused whole, every problem printed as `FILE:LINE: field: reason` (exit status 1), and
nothing is written. A good file is applied in batches of `--batch-size` lines, one
transaction each; a run cut off half-way leaves whole batches, and running it again
completes it (a line applied before is not applied again).

Exit status: 0 done, 1 the file refused or the import failed, 2 a usage or settings error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from api.settings import Settings

if TYPE_CHECKING:
    from rules.models import Catalogue

PROG = "creditlink exchange import"
MAX_BATCH = 50_000
SHOWN_PROBLEMS = 200


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the list file (JSON Lines, docs/list-format.md)")
    parser.add_argument(
        "--source",
        required=True,
        help="the jurisdiction the file comes from (a non-local one of the catalogue)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=5000, help="lines applied per transaction"
    )
    parser.add_argument("--check", action="store_true", help="check the file, write nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _fail(message: str, status: int = 2) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return status


def cmd_import_list(settings: Settings, args: argparse.Namespace) -> int:
    from api.instance import instance_catalogue
    from api.settings import SettingsError
    from rules.issues import CatalogueInvalid

    try:
        catalogue = instance_catalogue(settings)
    except (SettingsError, CatalogueInvalid) as exc:
        return _fail(str(exc))
    known = catalogue.jurisdictions.get(args.source)
    if known is None or known.local:
        sources = ", ".join(sorted(j.id for j in catalogue.jurisdictions.values() if not j.local))
        return _fail(
            f"--source: {args.source[:40]!r} is not a source in this catalogue (one of: {sources})"
        )
    if not 1 <= args.batch_size <= MAX_BATCH:
        return _fail(f"--batch-size: give 1 to {MAX_BATCH:,}")
    if not args.file.is_file():
        return _fail(f"{args.file}: no such file")
    return asyncio.run(_run(settings, args, catalogue))


async def _run(settings: Settings, args: argparse.Namespace, catalogue: Catalogue) -> int:
    from tqdm import tqdm

    from domain.errors import CreditLinkError
    from graph_model.driver import open_graph
    from graph_model.exchange import list_file, list_load

    path: Path = args.file
    started = time.perf_counter()
    user, password = settings.neo4j_auth()
    async with open_graph(settings.bolt_uri, user, password, settings.neo4j_database) as graph:
        try:
            with tqdm(
                total=path.stat().st_size,
                unit="B",
                unit_scale=True,
                desc="check",
                file=sys.stderr,
                disable=args.quiet,
            ) as bar:
                checked = await list_file.check(
                    graph, path, args.source, catalogue, on_bytes=bar.update
                )
        except (CreditLinkError, OSError) as exc:
            return _fail(getattr(exc, "message", None) or str(exc), 1)
        report = checked.report
        if not report.ok:
            print(report.format(SHOWN_PROBLEMS), file=sys.stderr)
            return 1
        assert report.header is not None
        print(
            f"{path}: {report.lines:,} lines from {args.source}, format version "
            f"{report.header.version}, generated {report.header.generated_at.isoformat()}: valid",
            file=sys.stderr,
        )
        if args.check:
            return 0
        try:
            with tqdm(
                total=report.lines, unit="lines", desc="import", file=sys.stderr, disable=args.quiet
            ) as bar:
                loaded = await list_load.load(
                    graph,
                    path,
                    args.source,
                    catalogue,
                    checked,
                    batch_size=args.batch_size,
                    on_batch=bar.update,
                )
        except (CreditLinkError, OSError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            return _fail(f"{message} (whole batches are written; run it again to complete)", 1)
    elapsed = time.perf_counter() - started
    rate = loaded.lines / max(elapsed, 1e-9)
    print(
        f"imported {loaded.lines:,} lines in {elapsed:.1f} s ({rate:,.0f} lines/s): "
        f"{loaded.applied:,} applied, {loaded.registered:,} subjects registered, "
        f"{loaded.already:,} applied before"
    )
    for kept in loaded.kept_aside:  # a file checked good keeps nothing aside, but say so
        print(f"kept aside: {kept['sanctionId']}: {kept['reason']}", file=sys.stderr)
    return 1 if loaded.kept_aside else 0
