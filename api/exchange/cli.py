"""`creditlink exchange`: pull partners' feeds, show where each stands, manage the key.

Run in this instance's environment, as `make neo4j-start` is: it reaches the same Neo4j
(the embedded one must be running) and uses the same catalogue.

    creditlink exchange pull --url URL --key KEY --jurisdiction J [--public-key K] [--follow]
    creditlink exchange status [--json]
    creditlink exchange key            # this instance's public key, to give partners
    creditlink exchange keygen FILE    # a new private key, for a rotation
    creditlink exchange import FILE --source J

Options missing from `pull` are read from the partner's entry in `CREDITLINK_PARTNERS_FILE`
(docs/exchange.md).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any

import orjson

from api.settings import Settings, SettingsError

PROG = "creditlink exchange"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="exchange_command", required=True)
    pull = sub.add_parser("pull", help="bring a partner's new sanction events in")
    pull.add_argument("--url", help="the partner's /graphql")
    pull.add_argument("--key", help="the PARTNER key the partner issued to this instance")
    pull.add_argument("--jurisdiction", required=True, help="the partner's jurisdiction id")
    pull.add_argument(
        "--public-key",
        action="append",
        default=None,
        metavar="ed25519:BASE64",
        help="the partner's public key (repeat during a rotation)",
    )
    pull.add_argument("--follow", action="store_true", help="keep pulling until stopped")
    pull.add_argument("--interval", type=float, default=10.0, help="seconds between pulls")
    pull.add_argument("--page-size", type=int, default=500, help="events asked per page")
    pull.add_argument("--quiet", action="store_true", help="no progress line")
    pull.add_argument(
        "--from-start",
        action="store_true",
        help="read the partner's feed from its start (after the partner replaced its "
        "database); what was applied before changes nothing",
    )
    show = sub.add_parser("status", help="every source: position, pulls, events kept aside")
    show.add_argument("--json", action="store_true", help="as JSON")
    show.add_argument("--limit", type=int, default=20, help="events kept aside listed")
    sub.add_parser("key", help="print this instance's public key and its id")
    keygen = sub.add_parser("keygen", help="write a new Ed25519 private key to FILE (0600)")
    keygen.add_argument("file", type=Path)
    from api.exchange.list_import import add_arguments as add_import_arguments

    add_import_arguments(sub.add_parser("import", help="import a list file from above"))


def _fail(message: str, status: int = 2) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return status


def _partner_entry(settings: Settings, jurisdiction: str) -> dict[str, Any]:
    path = settings.partners_file
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"CREDITLINK_PARTNERS_FILE: {path}: {exc}") from None
    entries = data.get("partners", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SettingsError(f"CREDITLINK_PARTNERS_FILE: {path}: expected [[partners]] tables")
    for entry in entries:
        if entry.get("jurisdiction") == jurisdiction:
            return dict(entry)
    return {}


def partner_of(settings: Settings, args: argparse.Namespace) -> Any:
    """The partner from the options, completed from the partners file."""
    from api.exchange.pull import Partner
    from api.exchange.signing import PublicKey

    entry = _partner_entry(settings, args.jurisdiction)
    url = args.url or entry.get("url")
    key = args.key or entry.get("key")
    texts = args.public_key or entry.get("public_keys") or []
    if not url:
        raise SettingsError("--url: give the partner's /graphql URL (or url in the partners file)")
    if not key:
        raise SettingsError("--key: give the PARTNER key the partner issued (or key in the file)")
    if not texts:
        raise SettingsError(
            f"--public-key: no public key for {args.jurisdiction}: a pull verifies every page, "
            "so give the partner's key (or public_keys in the partners file)"
        )
    keys = tuple(PublicKey.parse(str(t), where="--public-key") for t in texts)
    return Partner(args.jurisdiction, str(url), str(key), keys)


async def _pull(settings: Settings, args: argparse.Namespace) -> int:
    import httpx

    from api.exchange.pull import PullError, describe, follow, pull
    from api.exchange.signing import SigningKeyError
    from api.instance import instance_catalogue
    from domain.errors import CreditLinkError
    from graph_model.driver import open_graph
    from graph_model.exchange import status
    from rules.issues import CatalogueInvalid

    try:
        partner = partner_of(settings, args)
        catalogue = instance_catalogue(settings)
    except (SettingsError, SigningKeyError, CatalogueInvalid) as exc:
        return _fail(str(exc))
    known = catalogue.jurisdictions.get(partner.jurisdiction)
    if known is None or known.local:
        return _fail(f"--jurisdiction: {partner.jurisdiction!r} is not a partner in this catalogue")
    if not 1 <= args.page_size <= 5000:
        return _fail("--page-size: give 1 to 5000")
    user, password = settings.neo4j_auth()

    def progress(report: Any) -> None:
        if not args.quiet:
            print(f"\r{describe(report)}", end="", file=sys.stderr, flush=True)

    async with (
        open_graph(settings.bolt_uri, user, password, settings.neo4j_database) as graph,
        httpx.AsyncClient(timeout=30.0) as client,
    ):
        if args.from_start:
            await status.reset_position(graph, partner.jurisdiction)
        if not args.follow:
            try:
                report = await pull(
                    graph,
                    catalogue,
                    partner,
                    client=client,
                    page_size=args.page_size,
                    on_page=progress,
                )
            except (PullError, CreditLinkError) as exc:
                if not args.quiet:
                    print(file=sys.stderr)
                return _fail(str(exc), 1)
            if not args.quiet:
                print(file=sys.stderr)
            print(f"{partner.jurisdiction}: {describe(report)}")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def told(outcome: Any) -> None:
            print(f"{partner.jurisdiction}: {describe(outcome)}", flush=True)

        await follow(
            graph,
            catalogue,
            partner,
            client=client,
            interval_s=args.interval,
            page_size=args.page_size,
            stop=stop,
            on_pull=told,
        )
        return 0


async def _status(settings: Settings, args: argparse.Namespace) -> int:
    from domain.errors import CreditLinkError
    from graph_model.driver import open_graph
    from graph_model.exchange import status

    user, password = settings.neo4j_auth()
    try:
        async with open_graph(settings.bolt_uri, user, password, settings.neo4j_database) as graph:
            sources = await status.sources(graph)
            kept = await status.kept_aside(graph, None, args.limit)
    except CreditLinkError as exc:
        return _fail(exc.message, 1)
    if args.json:
        print(orjson.dumps({"sources": sources, "keptAside": kept}, default=str).decode())
        return 0
    if not sources:
        print("no partner pulled and no list imported yet")
    for s in sources:
        print(
            f"{s['id']}: {s.get('applied') or 0:,} events applied, {s['keptAside']:,} kept aside, "
            f"{s['entries']:,} entries here; last pull {s.get('lastPullAt') or 'never'}"
            + (f", last error: {s['lastError']}" if s.get("lastError") else "")
        )
    if kept:
        print("kept aside (newest first):")
        for k in kept:
            print(f"  {k['source']} {k['eventId']} {k['kind']} {k['sanctionId']}: {k['reason']}")
    return 0


def _key(settings: Settings) -> int:
    from api.exchange.signing import SigningKeyError, load_signing_key

    try:
        key = load_signing_key(settings.signing_key_path, create=settings.signing_key_file is None)
    except SigningKeyError as exc:
        return _fail(f"CREDITLINK_SIGNING_KEY_FILE: {exc}")
    print(key.public.text)
    print(f"key id {key.public.key_id} ({settings.signing_key_path})", file=sys.stderr)
    return 0


def _keygen(path: Path) -> int:
    from api.exchange.signing import SigningKey, load_signing_key
    from graph_model.secret_files import create_secret_file

    if path.exists():
        return _fail(f"{path}: exists; a new key never replaces a file")
    create_secret_file(path, SigningKey.generate().pem())
    key = load_signing_key(path, create=False)
    print(key.public.text)
    print(f"key id {key.public.key_id}, private key in {path}", file=sys.stderr)
    return 0


def cmd_exchange(settings: Settings, args: argparse.Namespace) -> int:
    command = args.exchange_command
    if command == "pull":
        return asyncio.run(_pull(settings, args))
    if command == "status":
        return asyncio.run(_status(settings, args))
    if command == "key":
        return _key(settings)
    if command == "keygen":
        return _keygen(args.file)
    from api.exchange.list_import import cmd_import_list

    return cmd_import_list(settings, args)
