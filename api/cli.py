"""`creditlink`: serve the API, run the embedded Neo4j, migrate, seed, check the rules."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys

from api.settings import PROJECT_ROOT, Settings, SettingsError


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
    return 0


def cmd_neo4j_stop(settings: Settings) -> int:
    neo4j = _embedded(settings)
    print("Neo4j stopped" if neo4j.stop() else f"no Neo4j running on {settings.data_dir}")
    return 0


async def _prepare(settings: Settings, seed: str) -> None:
    from graph_model import migrations
    from graph_model.catalogue_sync import sync_departments
    from graph_model.driver import open_graph
    from rules.loader import load_catalogue

    catalogue = load_catalogue()
    async with open_graph(
        settings.bolt_uri, settings.neo4j_user, settings.neo4j_password, settings.neo4j_database
    ) as graph:
        applied = await migrations.apply_migrations(graph)
        if applied:
            print(f"applied migrations {applied}")
        await sync_departments(graph, catalogue)
        if seed == "demo":
            from seeds.demo import demo_world
            from seeds.loader import load_world

            rows = await graph.read("MATCH (s:Subject) RETURN count(s) > 0 AS seeded")
            if rows[0]["seeded"]:
                print("database holds data: demo world not loaded")
            else:
                counts = await load_world(graph.driver, graph.database, demo_world())
                print("loaded the demo world: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def cmd_serve(settings: Settings) -> int:
    import uvicorn

    from api.app import create_app
    from api.logging_setup import configure_logging

    if settings.embedded:
        cmd_neo4j_start(settings)
    asyncio.run(_prepare(settings, settings.seed))
    app = create_app(settings)
    print(f"GraphQL: http://{settings.host}:{settings.port}/graphql")
    print(f"Console: http://{settings.host}:{settings.port}/console")
    if settings.api_keys_file is None:
        print(f"Demo API keys (one per role): {settings.keys_file}")
    sys.stdout.flush()
    configure_logging(settings.log_level)
    # Everything alive now (modules, the schema, the catalogue) lives as long as the
    # process: frozen, the cyclic GC's full collections no longer walk it on the request
    # path. Measured: open-loop p99 at 350 checks/s 21-57 -> 9-20 ms (bench/README.md).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        ws="websockets-sansio",
        loop="uvloop",
        http="httptools",
        # the API answers its callers directly (loopback by default); trusting
        # X-Forwarded-* would let any caller claim an address, and costs CPU per request
        proxy_headers=False,
        server_header=False,
    )
    return 0


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
    rules = sub.add_parser("rules", help="the rules catalogue")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_sub.add_parser("check", help="validate a catalogue directory")
    check.add_argument("directory", nargs="?", default=None)
    sub.add_parser("bench", help="the scale-and-speed benchmark (bench/README.md)", add_help=False)
    from api.import_cli import add_arguments, cmd_import

    add_arguments(sub.add_parser("import", help="import subjects, links, sanctions from CSV"))
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        from api.bench_cli import main_bench

        return main_bench(argv[1:])
    args = parser.parse_args(argv)

    if args.command == "rules":
        from rules.cli import main_check

        return main_check(args.directory)
    if args.command == "export-schema":
        return cmd_export_schema(args.check)
    settings = _settings()
    if args.command == "import":
        return cmd_import(settings, args)
    commands = {
        "serve": cmd_serve,
        "neo4j-start": cmd_neo4j_start,
        "neo4j-stop": cmd_neo4j_stop,
        "migrate": cmd_migrate,
        "seed": cmd_seed,
    }
    return commands[args.command](settings)


if __name__ == "__main__":
    raise SystemExit(main())
