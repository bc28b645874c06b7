"""`creditlink`: serve the API, run the embedded Neo4j, migrate, seed, check the rules."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from api.settings import PROJECT_ROOT, Settings, SettingsError

if TYPE_CHECKING:
    from api.auth import DemoKey
    from graph_model.contact_key import ContactKey
    from rules.models import Catalogue


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"creditlink: bad setting: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _embedded(settings: Settings):  # type: ignore[no-untyped-def]
    from graph_model.runtime.embedded import EmbeddedNeo4j

    return EmbeddedNeo4j(
        settings.data_dir, settings.bolt_port, settings.neo4j_heap_mb, settings.neo4j_pagecache_mb
    )


def cmd_neo4j_start(settings: Settings) -> int:
    if not settings.embedded:
        print("NEO4J_URI is set: nothing to start", file=sys.stderr)
        return 0
    neo4j = _embedded(settings)
    pid = neo4j.start()
    print(f"Neo4j running (pid {pid}) at {neo4j.uri}, data in {settings.data_dir}")
    print(f"Neo4j user neo4j, password in {settings.data_dir / 'neo4j-password'}")
    return 0


def cmd_neo4j_stop(settings: Settings) -> int:
    neo4j = _embedded(settings)
    print("Neo4j stopped" if neo4j.stop() else f"no Neo4j running on {settings.data_dir}")
    return 0


def _catalogue(settings: Settings) -> Catalogue:
    """The instance's catalogue, or a clear message and exit status 2: a catalogue that is
    not CREDITLINK_JURISDICTION's own is refused before anything touches the database."""
    from api.instance import instance_catalogue
    from api.settings import variable
    from rules.issues import CatalogueInvalid

    try:
        return instance_catalogue(settings)
    except SettingsError as exc:
        print(f"creditlink: bad setting: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except CatalogueInvalid as exc:
        print(
            f"creditlink: cannot run as {variable('jurisdiction')}={settings.jurisdiction} "
            f"with the catalogue in {settings.catalogue_dir}: {exc}",
            file=sys.stderr,
        )
        raise SystemExit(2) from None


# The demo world is Wenzhou's: its issuers, districts and partner cities are Wenzhou's.
DEMO_JURISDICTION = "wenzhou"


async def _prepare(settings: Settings, seed: str) -> None:
    from domain.errors import Conflict
    from graph_model import contact_key as contacts
    from graph_model import migrations, registry
    from graph_model.catalogue_sync import sync_departments
    from graph_model.driver import open_graph

    catalogue = _catalogue(settings)
    if seed == "demo" and settings.jurisdiction != DEMO_JURISDICTION:
        print(f"no demo world for {settings.jurisdiction}: the database starts empty")
        seed = "none"
    user, password = settings.neo4j_auth()
    async with open_graph(settings.bolt_uri, user, password, settings.neo4j_database) as graph:
        applied = await migrations.apply_migrations(graph)
        if applied:
            print(f"applied migrations {applied}")
        await sync_departments(graph, catalogue)
        load_demo = False
        if seed == "demo":
            load_demo = not await registry.holds_subjects(graph)
            if not load_demo:
                print("database holds data: demo world not loaded")
        # The key is needed to write contacts, or to key a store from before keying (its
        # bare digests, once); an API sharing an already keyed database needs none.
        state = await contacts.marker(graph)
        if load_demo or state is None or not state.complete:
            key = _contact_key(settings)
            try:
                rekeyed = await contacts.ensure_keyed(graph, key)
            except Conflict as exc:
                print(f"creditlink: {exc.message}", file=sys.stderr)
                raise SystemExit(2) from None
            if rekeyed:
                print(f"keyed the contact hashes of {rekeyed} subjects (stored as bare sha256)")
            if load_demo:
                from seeds.demo import demo_world
                from seeds.loader import load_world

                counts = await load_world(
                    graph.driver, graph.database, demo_world(), contact_key=key
                )
                print("loaded the demo world: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _contact_key(settings: Settings) -> ContactKey:
    """The contact hash key: the configured file, or the data dir's (made on first use)."""
    from graph_model.contact_key import ContactKeyError, load_key

    try:
        return load_key(settings.contact_key_file, create=settings.contact_hash_key_file is None)
    except ContactKeyError as exc:
        print(f"creditlink: bad setting: CREDITLINK_CONTACT_HASH_KEY_FILE: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _print_demo_keys(settings: Settings, generated: list[DemoKey]) -> None:
    """The demo keys themselves on stdout once, when just generated; their place otherwise."""
    if generated:
        print(
            f"Demo API keys, generated now and shown once (also in {settings.demo_keys_text_file}):"
        )
        for demo in generated:
            print(f"  {demo.name:<30} {demo.role.value:<16} {demo.key}")
    elif settings.api_keys_file is None:
        print(f"Demo API keys (one per role): {settings.demo_keys_text_file}")


def cmd_serve(settings: Settings) -> int:
    from api.app import create_app, ensure_demo_keys
    from api.auth import KeysFileError
    from api.draining import DrainingServer
    from api.exchange.signing import SigningKeyError
    from api.logging_setup import configure_logging
    from api.server import server_config

    # another jurisdiction's catalogue is refused before Neo4j starts
    catalogue = _catalogue(settings)
    if settings.embedded:
        cmd_neo4j_start(settings)
    asyncio.run(_prepare(settings, settings.seed))
    generated = ensure_demo_keys(settings, catalogue)
    try:
        app = create_app(settings)
    except KeysFileError as exc:
        print(f"creditlink: bad API keys file: {exc}", file=sys.stderr)
        if settings.api_keys_file is None:
            print(f"(delete {settings.keys_file} to generate new demo keys)", file=sys.stderr)
        return 2
    except SigningKeyError as exc:
        print(f"creditlink: bad setting: CREDITLINK_SIGNING_KEY_FILE: {exc}", file=sys.stderr)
        return 2
    print(f"GraphQL: http://{settings.host}:{settings.port}/graphql")
    print(f"Console: http://{settings.host}:{settings.port}/console")
    _print_demo_keys(settings, generated)
    sys.stdout.flush()
    configure_logging(settings.log_level)
    if settings.workers > 1:
        from api.workers import run_workers

        del app  # each worker builds its own; this one only proved the settings good
        return run_workers(settings)
    # Everything alive now (modules, the schema, the catalogue) lives as long as the
    # process: frozen, the cyclic GC's full collections no longer walk it, so their pauses
    # stay short on the request path (docs/adr/0005-gc-freeze-at-start.md).
    gc.collect()
    gc.freeze()
    server = DrainingServer(server_config(app, settings))
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: a second Ctrl-C ends it
        server.run()
    return 0 if server.started else 3  # uvicorn.run's status for a server that never started


def cmd_migrate(settings: Settings) -> int:
    asyncio.run(_prepare(settings, "none"))
    return 0


def cmd_seed(settings: Settings) -> int:
    asyncio.run(_prepare(settings, "demo"))
    return 0


def cmd_export_schema(check: bool) -> int:
    from api.schema import schema_sdl

    path = PROJECT_ROOT / "schema.graphql"
    sdl = schema_sdl()
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != sdl:
            print("schema.graphql is out of date: run `creditlink export-schema`", file=sys.stderr)
            return 1
        print("schema.graphql is current")
        return 0
    path.write_text(sdl, encoding="utf-8")
    print(f"wrote {path}")
    return 0


def cmd_settings(markdown: bool, write: str | None) -> int:
    """Every setting from its one definition (api/settings.py); `--write` puts the Markdown
    table between the markers in a file (the README's Configuration)."""
    from api.settings import markdown_table, reference, with_table

    if write is not None:
        path = Path(write)
        try:
            before = path.read_text(encoding="utf-8")
            after = with_table(before)
        except (OSError, ValueError) as exc:
            print(f"creditlink settings: {path}: {exc}", file=sys.stderr)
            return 1
        if after == before:
            print(f"{path}: the settings table is current")
        else:
            path.write_text(after, encoding="utf-8")
            print(f"{path}: wrote the settings table")
        return 0
    if markdown:
        print(markdown_table(), end="")
        return 0
    for name, default, accepted, meaning in reference():
        print(f"{name} (default {default}; {accepted}): {meaning}".replace("`", ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="creditlink", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="start Neo4j if embedded, migrate, seed, serve the API")
    sub.add_parser("neo4j-start", help="start the embedded Neo4j for this data dir")
    sub.add_parser("neo4j-stop", help="stop the embedded Neo4j for this data dir")
    sub.add_parser("migrate", help="apply pending schema migrations")
    sub.add_parser("seed", help="load the demo world when the database is empty")
    export = sub.add_parser("export-schema", help="write schema.graphql from the code")
    export.add_argument("--check", action="store_true", help="fail when the file has drifted")
    listing = sub.add_parser("settings", help="every CREDITLINK_*/NEO4J_* variable, its default")
    listing.add_argument("--markdown", action="store_true", help="as the README's table")
    listing.add_argument("--write", metavar="FILE", help="replace the table in FILE (README.md)")
    rules = sub.add_parser("rules", help="the rules catalogue")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_sub.add_parser("check", help="validate a catalogue directory")
    check.add_argument("directory", nargs="?", default=None)
    check.add_argument(
        "--jurisdiction",
        default=None,
        help="the catalogue must be this jurisdiction's own (and, without DIRECTORY, its "
        "packaged one); default: Wenzhou's packaged catalogue, not checked against any",
    )
    from api.import_cli import add_arguments, cmd_import

    add_arguments(sub.add_parser("import", help="import subjects, links, sanctions from CSV"))
    from api.exchange.cli import add_arguments as add_exchange_arguments
    from api.exchange.cli import cmd_exchange

    add_exchange_arguments(
        sub.add_parser("exchange", help="pull partners' feeds, import lists, the signing key")
    )
    args = parser.parse_args(argv)

    if args.command == "rules":
        from rules.cli import main_check

        return main_check(args.directory, jurisdiction=args.jurisdiction)
    if args.command == "export-schema":
        return cmd_export_schema(args.check)
    if args.command == "settings":
        return cmd_settings(args.markdown, args.write)
    settings = _settings()
    from graph_model.runtime.embedded import EmbeddedNeo4jError

    commands = {
        "serve": cmd_serve,
        "neo4j-start": cmd_neo4j_start,
        "neo4j-stop": cmd_neo4j_stop,
        "migrate": cmd_migrate,
        "seed": cmd_seed,
    }
    try:
        if args.command == "import":
            return cmd_import(settings, args)
        if args.command == "exchange":
            return cmd_exchange(settings, args)
        return commands[args.command](settings)
    except EmbeddedNeo4jError as exc:  # e.g. its password file: the message names it
        print(f"creditlink: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
