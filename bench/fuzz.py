"""Fuzz the whole GraphQL schema with every role, 10,000 operations or more.

    .venv/bin/python bench/fuzz.py                       # 10,000 operations
    .venv/bin/python bench/fuzz.py --operations 30000

The generators are the default suite's (tests/integration/test_fuzz.py): hypothesis-graphql
queries and mutations over the live schema, mostly one root field each, some with many,
one in five with a single schema violation, with ID / Date / DateTime strategies that are
often valid (the ids of a small seeded world, well-formed unknown ones, real dates).

It starts its own embedded Neo4j and the API as shipped (`creditlink serve`, its own
process; see bench/soak.py), seeds the small world, runs the operations role by role
(no key, a PUBLIC key, APPROVAL_SYSTEM, ISSUER, REGULATOR, ADMIN) and prints the count
of outcomes by code: `OK` (no errors), the first error's `extensions.code`, or
`HTTP <status>` when the answer is not JSON. Exits 1 on any INTERNAL_SERVER_ERROR, any
HTTP 5xx or any error without a contract code, printing the first operations that did so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis.errors import NonInteractiveExampleWarning  # noqa: E402
from hypothesis.strategies import SearchStrategy  # noqa: E402

from bench.soak import Stack  # noqa: E402
from tests.integration.fuzzing import against_a_server, operations, outcome, seed_world  # noqa: E402

ROLE_KEYS: dict[str, tuple[str, str | None] | None] = {
    "no key": None,
    "PUBLIC key": ("PUBLIC", None),
    "APPROVAL_SYSTEM": ("APPROVAL_SYSTEM", "wz-public-resources"),
    "ISSUER": ("ISSUER", "wz-intermediate-court"),
    "REGULATOR": ("REGULATOR", None),
    "ADMIN": ("ADMIN", None),
}


def run_role(
    strategy: SearchStrategy[str],
    examples: int,
    client: httpx.Client,
    role: str,
    seen: Counter[str],
    failures: list[str],
) -> None:
    """`examples` generated operations as this role's client; outcomes counted in `seen`."""

    @against_a_server(examples, shrink=False)
    @given(query=strategy)
    def fuzz(query: str) -> None:
        try:
            response = client.post("/graphql", json={"query": query})
        except httpx.HTTPError as exc:
            seen["transport error"] += 1
            failures.append(f"{role}: {exc!r}\n{query}")
            return
        code, problems = outcome(response)
        seen[code] += 1
        if problems and len(failures) < 20:
            failures.append(f"{role}: {problems}\n{query}\n{response.text[:1000]}")

    fuzz()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--operations", type=int, default=10_000, help="in all (default 10,000)")
    parser.add_argument("--roles", default=",".join(ROLE_KEYS), help="comma-separated subset")
    parser.add_argument(
        "--naive-datetimes",
        action="store_true",
        help="also generate DateTimes without an offset (today these can crash the API: "
        "see test_instants_sent_to_neo4j_never_carry_a_named_zone)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data dir afterwards")
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / ".data" / "bench" / f"fuzz-{os.getpid()}"
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", NonInteractiveExampleWarning)

    roles = [r for r in ROLE_KEYS if r in args.roles.split(",")]
    specs = {role: spec for role, spec in ROLE_KEYS.items() if spec is not None}
    stack = Stack(
        args.data_dir, seed="none", heap_mb=768, pagecache_mb=128, keep=args.keep, key_specs=specs
    )
    per_role = -(-args.operations // len(roles))
    by_role: dict[str, Counter[str]] = {}
    failures: list[str] = []
    started = time.monotonic()
    with stack.running():
        admin = httpx.Client(
            base_url=stack.url,
            headers={"Authorization": f"Bearer {stack.keys['ADMIN']}"},
            timeout=60,
        )
        with admin:
            seed_world(
                lambda q, v: admin.post("/graphql", json={"query": q, "variables": v}).json()
            )
        strategy = operations(naive_datetimes=args.naive_datetimes)
        for role in roles:
            key = stack.keys.get(role)
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            seen: Counter[str] = Counter()
            by_role[role] = seen
            role_started = time.monotonic()
            with httpx.Client(base_url=stack.url, headers=headers, timeout=120) as client:
                run_role(strategy, per_role, client, role, seen, failures)
            took = time.monotonic() - role_started
            print(
                f"{role:16s} {sum(seen.values()):6d} operations in {took:6.1f} s: "
                + ", ".join(f"{code} {n}" for code, n in seen.most_common()),
                flush=True,
            )

    totals: Counter[str] = Counter()
    for seen in by_role.values():
        totals.update(seen)
    codes = [code for code, _ in totals.most_common()]
    print(f"\n{'outcome':24s}" + "".join(f"{r:>16s}" for r in by_role) + f"{'total':>9s}")
    for code in codes:
        row = "".join(f"{by_role[r][code]:16d}" for r in by_role)
        print(f"{code:24s}{row}{totals[code]:9d}")
    print(
        f"{'all':24s}"
        + "".join(f"{sum(by_role[r].values()):13d}" for r in by_role)
        + f"{sum(totals.values()):9d}"
    )
    bad = totals["INTERNAL_SERVER_ERROR"] + sum(
        n for c, n in totals.items() if c.startswith("HTTP 5")
    )
    print(
        f"\n{sum(totals.values())} operations in {time.monotonic() - started:.0f} s; "
        f"INTERNAL_SERVER_ERROR {totals['INTERNAL_SERVER_ERROR']}, HTTP 5xx "
        f"{sum(n for c, n in totals.items() if c.startswith('HTTP 5'))}, problems {len(failures)}"
    )
    for failure in failures[:10]:
        print("\n---\n" + failure)
    return 1 if bad or failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
