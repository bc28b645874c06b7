"""Write a generated world to Neo4j through the bulk queries in `graph_model.bulk`.

Phases run in dependency order (subjects, households, memberships, links, sanctions),
each finishing before the next starts, because relationship writes MATCH nodes written
earlier. Within a phase batches are independent, so two writers share them while the
next batch is generated in a worker thread (generation is CPU-bound Python; the writers
mostly wait on the server). Every query MERGEs on `id`, so a re-run rewrites the same
nodes and relationships instead of adding copies. The world's rows carry bare contact
digests (the generator knows no secret); `contact_key` keys them as they are written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from neo4j import AsyncDriver
from tqdm import tqdm

from domain.errors import NotFound
from domain.identifiers import SubjectKind
from domain.vocabulary import KIND_LABEL, Label, Rel, SystemRel
from graph_model import bulk
from graph_model.contact_key import ContactKey, ensure_keyed
from graph_model.driver import Graph
from seeds.generator import COUNT_KEYS, SUBJECT_RELS, World, batched
from seeds.rows import HouseholdRow, LinkRow, SanctionRow, SubjectRow

WRITERS = 2


@dataclass(frozen=True, slots=True)
class _Job:
    rows: int
    run: Callable[[], Awaitable[dict[str, int]]]  # writes the batch; returns counts by key


async def load_world(
    driver: AsyncDriver,
    database: str,
    world: World,
    *,
    contact_key: ContactKey,
    batch_size: int = 5000,
    progress: bool = True,
) -> dict[str, int]:
    """Write `world` to `database`; returns what was written, keyed like `World.counts()`.

    Refuses (`Conflict`) a database whose contact hashes are keyed with another key."""
    await ensure_keyed(Graph(driver, database), contact_key)
    written: Counter[str] = Counter(dict.fromkeys(COUNT_KEYS, 0))
    issuers: set[str] = set()  # Department nodes merged
    # counts() costs a pass over the world's plan: worth it only for a progress bar
    total = sum(world.counts()[k] for k in _ROW_KEYS) if progress else None
    phases: list[tuple[str, Iterator[_Job], int]] = [
        ("subjects", _subject_jobs(driver, database, world, batch_size, contact_key), WRITERS),
        ("households", _household_jobs(driver, database, world, batch_size), WRITERS),
        ("memberships", _link_jobs(driver, database, world, batch_size, members=True), WRITERS),
        ("links", _link_jobs(driver, database, world, batch_size, members=False), WRITERS),
        # one writer: concurrent batches would contend for the few Department nodes
        ("sanctions", _sanction_jobs(driver, database, world, batch_size, issuers), 1),
    ]
    with tqdm(total=total, unit="rows", file=sys.stderr, disable=not progress, desc="load") as bar:
        for name, jobs, writers in phases:
            bar.set_postfix_str(name)
            await _drain(jobs, writers, written, bar)
    written[Label.SUBJECT.value] = sum(written[label.value] for label in KIND_LABEL.values())
    written[Label.DEPARTMENT.value] = len(issuers)
    return dict(written)


# Keys that count generated rows (for the progress total); edges riding on a sanction row
# (ISSUED, AGAINST, RESPONSIBLE_PERSON) are not rows of their own.
_ROW_KEYS = (
    *(label.value for label in KIND_LABEL.values()),
    Label.HOUSEHOLD.value,
    *(rel.value for rel in Rel),
    Label.SANCTION.value,
)


async def _drain(jobs: Iterator[_Job], writers: int, written: Counter[str], bar: tqdm[Any]) -> None:
    """Run one phase's jobs with `writers` concurrent writers; the first error cancels all."""
    queue: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=writers * 2)

    async def write() -> None:
        while (job := await queue.get()) is not None:
            written.update(await job.run())
            bar.update(job.rows)

    async def produce() -> None:
        while (job := await asyncio.to_thread(next, jobs, None)) is not None:
            await queue.put(job)
        for _ in range(writers):
            await queue.put(None)

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(produce())
            for _ in range(writers):
                group.create_task(write())
    except BaseExceptionGroup as errors:
        # callers expect the CreditLinkError (or bug) itself, not a group of one
        first: BaseException = errors
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None


def _checked(what: str, expected: int, got: int) -> int:
    if got != expected:
        raise NotFound(
            f"{what}: wrote {got} of {expected} rows; the others name an endpoint "
            "that is not in the database"
        )
    return got


async def _subjects(
    driver: AsyncDriver,
    database: str,
    now: dt.datetime,
    contact_key: ContactKey,
    kind: SubjectKind,
    rows: list[SubjectRow],
) -> dict[str, int]:
    label = KIND_LABEL[kind].value
    got = await bulk.write_subjects(driver, database, kind, rows, contact_key=contact_key, now=now)
    return {label: _checked(label, len(rows), got)}


async def _households(
    driver: AsyncDriver, database: str, rows: list[HouseholdRow]
) -> dict[str, int]:
    got = await bulk.write_households(driver, database, rows)
    return {Label.HOUSEHOLD.value: _checked(Label.HOUSEHOLD.value, len(rows), got)}


async def _links(
    driver: AsyncDriver, database: str, transactions: list[list[tuple[Rel, list[LinkRow]]]]
) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for groups in transactions:  # one after another: they share their blocks' nodes
        statements = [bulk.links_statement(rel, rows) for rel, rows in groups]
        written = await bulk.run_write(driver, database, statements)
        for (rel, rows), got in zip(groups, written, strict=True):
            counts[rel.value] += _checked(rel.value, len(rows), got)
    return dict(counts)


async def _sanctions(
    driver: AsyncDriver, database: str, issuers: set[str], rows: list[SanctionRow]
) -> dict[str, int]:
    sanctions, responsible = await bulk.write_sanctions(driver, database, rows)
    issuers.update(r["issuerId"] for r in rows)
    _checked(Label.SANCTION.value, len(rows), sanctions)
    named = sum(len(set(r["responsiblePersonIds"])) for r in rows)
    _checked(SystemRel.RESPONSIBLE_PERSON.value, named, responsible)
    return {
        Label.SANCTION.value: sanctions,
        SystemRel.ISSUED.value: sanctions,
        SystemRel.AGAINST.value: sanctions,
        SystemRel.RESPONSIBLE_PERSON.value: responsible,
    }


def _subject_jobs(
    driver: AsyncDriver, database: str, world: World, size: int, contact_key: ContactKey
) -> Iterator[_Job]:
    now = dt.datetime.now(dt.UTC)  # one createdAt/updatedAt for the whole load
    for kind, rows in world.subject_batches(size):
        yield _Job(len(rows), partial(_subjects, driver, database, now, contact_key, kind, rows))


def _household_jobs(driver: AsyncDriver, database: str, world: World, size: int) -> Iterator[_Job]:
    for rows in batched(world.households(), size):
        yield _Job(len(rows), partial(_households, driver, database, rows))


def _link_jobs(
    driver: AsyncDriver, database: str, world: World, size: int, *, members: bool
) -> Iterator[_Job]:
    """Jobs of whole blocks' links (at least `size` rows, small blocks pooled).

    Links never cross blocks, so two jobs never touch the same node and concurrent
    writers cannot deadlock on relationship locks, as batches cut by type would.
    A job writes its links in transactions of at most `size` rows, in turn.
    """
    rels = (Rel.MEMBER_OF,) if members else SUBJECT_RELS
    pending: dict[Rel, list[LinkRow]] = {}
    rows = 0
    for block in world.blocks():
        for rel in rels:
            links = block.links(rel)
            pending.setdefault(rel, []).extend(links)
            rows += len(links)
        if rows >= size:
            yield _link_job(driver, database, pending, rows, size)
            pending, rows = {}, 0
    if rows:
        yield _link_job(driver, database, pending, rows, size)


def _link_job(
    driver: AsyncDriver, database: str, pending: dict[Rel, list[LinkRow]], rows: int, size: int
) -> _Job:
    transactions: list[list[tuple[Rel, list[LinkRow]]]] = [[]]
    room = size
    for rel, links in pending.items():
        start = 0
        while start < len(links):
            if room == 0:
                transactions.append([])
                room = size
            part = links[start : start + room]
            transactions[-1].append((rel, part))
            start += len(part)
            room -= len(part)
    return _Job(rows, partial(_links, driver, database, transactions))


def _sanction_jobs(
    driver: AsyncDriver, database: str, world: World, size: int, issuers: set[str]
) -> Iterator[_Job]:
    for rows in batched(world.sanctions(), size):
        yield _Job(len(rows), partial(_sanctions, driver, database, issuers, rows))
