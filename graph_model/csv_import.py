"""Import subjects, households, links and sanctions from CSV files (departments' exports).

The format is documented in docs/csv-import.md. Every row is checked
with the rules the API applies (identifiers, kinds and relations, roles, dates, ratios,
the catalogue's list types, issuers and jurisdictions) and every reference is resolved
against the files and the database. A run with any bad row writes nothing and reports
every bad row as `file:line: field: reason`; a clean run loads through `graph_model.bulk`
in UNWIND batches, two passes over the files so that nothing city-sized is held in memory
beyond the id-to-kind map the references need. Contact hashes arrive as bare sha256
digests (source systems never hold the secret) and are stored keyed
(`graph_model.contact_key`).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import math
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from neo4j import AsyncDriver
from tqdm import tqdm

from domain.districts import normalise_district
from domain.errors import CreditLinkError
from domain.identifiers import (
    SubjectKind,
    validate_any_subject_id,
    validate_resident_id,
    validate_subject_id,
)
from domain.time import utc_now
from domain.vocabulary import RELATION_ENDS, Label, Rel
from graph_model import bulk
from graph_model.contact_key import ContactKey, ensure_keyed
from graph_model.driver import Graph
from graph_model.registry import MAX_NAME, MAX_TEXT, LinkSpec, _check_link_shape, _text
from graph_model.sanctions import Actor, SanctionRequest, validate_request
from rules.models import Catalogue

SUBJECT_COLUMNS = (
    "id", "kind", "name", "district", "industry", "registeredCapital", "establishedOn",
    "status", "birthDate", "phoneHash", "addressHash",
)  # fmt: skip
HOUSEHOLD_COLUMNS = ("id", "district", "address")
LINK_COLUMNS = ("id", "from", "to", "relation", "validFrom", "validTo", "ratio", "role", "source")
SANCTION_COLUMNS = (
    "id", "listType", "subjectId", "issuerId", "decidedOn", "validFrom", "validTo", "status",
    "jurisdiction", "documentNo", "reason", "responsiblePersonIds",
)  # fmt: skip
REQUIRED: dict[str, tuple[str, ...]] = {
    "subjects": ("id", "kind", "name"),
    "households": ("id",),
    "links": ("from", "to", "relation", "validFrom"),
    "sanctions": ("listType", "subjectId", "issuerId", "decidedOn", "documentNo", "reason"),
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "subjects": SUBJECT_COLUMNS,
    "households": HOUSEHOLD_COLUMNS,
    "links": LINK_COLUMNS,
    "sanctions": SANCTION_COLUMNS,
}
UNIT_STATUSES = frozenset({"ACTIVE", "DEREGISTERED"})
SANCTION_STATUSES = frozenset({"ACTIVE", "UNDER_OBJECTION"})
LIST_SEPARATOR = ";"
HOUSEHOLD = "HOUSEHOLD"  # the kind recorded for household ids in the reference map


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


class RowError(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportFiles:
    subjects: Path | None = None
    households: Path | None = None
    links: Path | None = None
    sanctions: Path | None = None

    def items(self) -> list[tuple[str, Path]]:
        order = ("subjects", "households", "links", "sanctions")
        return [(k, p) for k in order if (p := getattr(self, k)) is not None]


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def format(self, limit: int | None = None) -> str:
        shown = sorted(self.problems)
        lines = [str(p) for p in (shown if limit is None else shown[:limit])]
        if limit is not None and len(shown) > limit:
            lines.append(f"... and {len(shown) - limit} more")
        bad_rows = len({(p.file, p.line) for p in self.problems})
        files = sorted({p.file for p in self.problems})
        lines.append(
            f"{bad_rows} bad row(s) in {', '.join(files)}: nothing was written"
            if self.problems
            else "no problems"
        )
        return "\n".join(lines)


# A resolver answers, for ids not defined in the files, which exist in the database and
# with which kind (`HOUSEHOLD` for households).
Resolver = Callable[[set[str], set[str]], Awaitable[dict[str, str]]]


async def no_database(subject_ids: set[str], household_ids: set[str]) -> dict[str, str]:
    return {}


# ------------------------------------------------------------------------------ reading


def read_rows(
    path: Path, what: str, problems: list[Problem] | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) per data row; a header problem goes to `problems` and yields nothing."""
    name = str(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            if problems is not None:
                problems.append(Problem(name, 1, "header", "the file is empty"))
            return
        header = [h.strip() for h in header]
        bad = False
        for column in header:
            if column not in COLUMNS[what]:
                bad = True
                if problems is not None:
                    problems.append(
                        Problem(
                            name,
                            1,
                            column or "header",
                            f"unknown column (allowed: {', '.join(COLUMNS[what])})",
                        )
                    )
        for column in REQUIRED[what]:
            if column not in header:
                bad = True
                if problems is not None:
                    problems.append(Problem(name, 1, column, "required column is missing"))
        if len(set(header)) != len(header):
            bad = True
            if problems is not None:
                problems.append(Problem(name, 1, "header", "a column is named twice"))
        if bad:
            return
        line = 1
        for values in reader:
            start = line + 1
            line = reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            if len(values) != len(header):
                yield start, {"__width__": f"{len(values)} fields, the header has {len(header)}"}
                continue
            yield start, dict(zip(header, values, strict=True))


# ------------------------------------------------------------------------------ row rules


def _reason(exc: CreditLinkError, name: str) -> tuple[str, str]:
    """The (column, reason) of a product validator's error; its 'input.' prefix dropped."""
    column = (exc.field or name).removeprefix("input.")
    message = exc.message
    for prefix in (f"{exc.field}: ", f"{name}: "):
        if exc.field and message.startswith(prefix):
            message = message[len(prefix) :]
            break
    return column, message


_Member = TypeVar("_Member", bound=StrEnum)


class _Row:
    """Collects every problem of one row, column by column."""

    def __init__(self, raw: dict[str, str]) -> None:
        self.raw = raw
        self.problems: list[tuple[str, str]] = []
        if "__width__" in raw:
            self.problems.append(("row", raw["__width__"]))

    def get(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def bad(self, name: str, reason: str) -> None:
        self.problems.append((name, reason))

    def required(self, name: str) -> str | None:
        value = self.get(name)
        if value is None:
            self.bad(name, "required")
        return value

    def member(self, name: str, enum: type[_Member], *, shown: int) -> _Member | None:
        """The required column as one of `enum`'s values (any case); `shown` characters of
        anything else are quoted in the problem."""
        value = self.required(name)
        if value is None:
            return None
        try:
            return enum(value.upper())
        except ValueError:
            self.bad(name, f"{value[:shown]!r} is not one of {', '.join(enum)}")
            return None

    def run(self, name: str, check: Callable[[], Any]) -> Any:
        try:
            return check()
        except CreditLinkError as exc:
            self.problems.append(_reason(exc, name))
            return None

    def date(self, name: str, *, required: bool = False, not_after: dt.date | None = None) -> Any:
        value = self.required(name) if required else self.get(name)
        if value is None:
            return None
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            self.bad(name, f"{value[:30]!r} is not a date (YYYY-MM-DD)")
            return None
        if len(value) != 10:
            self.bad(name, f"{value[:30]!r} is not a date (YYYY-MM-DD)")
            return None
        if not_after is not None and day > not_after:
            self.bad(name, f"{day} is in the future")
            return None
        return day

    def number(self, name: str) -> float | None:
        value = self.get(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            self.bad(name, f"{value[:30]!r} is not a number")
            return None
        if not math.isfinite(number):
            self.bad(name, f"{value[:30]!r} is not a finite number")
            return None
        return number

    def done(self) -> None:
        if self.problems:
            raise RowError(self.problems)


def _sha256_hex(row: _Row, name: str) -> str | None:
    value = row.get(name)
    if value is not None and (
        len(value) != 64 or any(c not in "0123456789abcdef" for c in value.lower())
    ):
        row.bad(name, "a sha256 hex digest has 64 hexadecimal characters")
        return None
    return value.lower() if value else None


def subject_row(raw: dict[str, str], today: dt.date) -> dict[str, Any]:
    """The subject's properties (as `bulk.write_subjects` takes them), or RowError."""
    row = _Row(raw)
    kind = row.member("kind", SubjectKind, shown=30)
    raw_id = row.required("id")
    sid = None
    if raw_id is not None:
        if kind is not None:
            sid = row.run("id", lambda: validate_subject_id(raw_id, kind, field="id"))
        else:
            sid = row.run("id", lambda: validate_any_subject_id(raw_id, field="id"))
    name = row.run("name", lambda: _text(row.raw.get("name"), "name", MAX_NAME, required=True))
    district = row.run(
        "district", lambda: normalise_district(row.get("district"), field="district")
    )
    out: dict[str, Any] = {"id": sid, "kind": kind.value if kind else None, "name": name}
    if district is not None:
        out["district"] = district
    is_person = kind is SubjectKind.PERSON
    unit_only = ("industry", "registeredCapital", "establishedOn", "status")
    for column in unit_only if is_person else ("birthDate",):
        if row.get(column) is not None:
            row.bad(column, f"not a property of a {kind.value if kind else 'subject'}")
    industry = row.run("industry", lambda: _text(row.get("industry"), "industry", MAX_NAME))
    if industry is not None and not is_person:
        out["industry"] = industry
    capital = row.number("registeredCapital")
    if capital is not None and not is_person:
        if capital < 0:
            row.bad("registeredCapital", f"{capital} is negative")
        out["registeredCapital"] = capital
    established = row.date("establishedOn", not_after=today)
    if established is not None and not is_person:
        out["establishedOn"] = established
    status = row.get("status")
    if status is not None and not is_person:
        if status.upper() not in UNIT_STATUSES:
            row.bad("status", f"{status[:30]!r} is not one of {', '.join(sorted(UNIT_STATUSES))}")
        out["status"] = status.upper()
    birth = row.date("birthDate", not_after=today)
    if is_person and sid is not None:
        in_id = dt.date(int(sid[6:10]), int(sid[10:12]), int(sid[12:14]))
        if birth is not None and birth != in_id:
            row.bad("birthDate", f"{birth} differs from the birth date in the resident ID")
        out["birthDate"] = in_id
    for column in ("phoneHash", "addressHash"):
        digest = _sha256_hex(row, column)
        if digest is not None:
            out[column] = digest
    row.done()
    return out


def household_id(value: str | None, name: str = "id") -> str:
    """A household registration number, by the rule `registerHousehold` applies."""
    from domain.errors import BadUserInput

    hid = (value or "").strip()
    if not (1 <= len(hid) <= 40) or not all(c.isalnum() or c in "-_" for c in hid):
        raise BadUserInput(
            f"{name}: a household number is 1-40 letters, digits, '-' or '_'", field=name
        )
    return hid


def household_row(raw: dict[str, str]) -> dict[str, Any]:
    row = _Row(raw)
    hid = row.run("id", lambda: household_id(row.raw.get("id")))
    district = row.run(
        "district", lambda: normalise_district(row.get("district"), field="district")
    )
    address = row.run("address", lambda: _text(row.get("address"), "address", MAX_TEXT))
    row.done()
    return {"id": hid, "district": district, "address": address}


def _stable_id(prefix: str, *parts: object) -> str:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:24]
    return f"{prefix}{digest}"


def link_row(raw: dict[str, str]) -> tuple[Rel, dict[str, Any]]:
    """(relation, the row `bulk.links_statement` takes); endpoint kinds are checked later."""
    row = _Row(raw)
    rel = row.member("relation", Rel, shown=40)
    raw_from = row.required("from")
    src = row.run("from", lambda: validate_any_subject_id(raw_from or "", field="from"))
    raw_to = row.required("to")
    dst = None
    if raw_to is not None and rel is not None:
        if RELATION_ENDS[rel][1] is None:
            dst = row.run("to", lambda: household_id(raw_to, "to"))
        else:
            dst = row.run("to", lambda: validate_any_subject_id(raw_to, field="to"))
    valid_from = row.date("validFrom", required=True)
    valid_to = row.date("validTo")
    ratio = row.number("ratio")
    role = row.get("role")
    role = role.upper() if role else None
    source = row.run("source", lambda: _text(row.get("source"), "source", MAX_NAME)) or "import"
    link_id = row.get("id")
    if link_id is not None and (
        len(link_id) > 80 or not all(c.isalnum() or c in "-_.:" for c in link_id)
    ):
        row.bad("id", "a link id is 1-80 letters, digits or - _ . :")
    if rel is not None and src is not None and dst is not None and valid_from is not None:
        spec = LinkSpec(src, dst, rel, valid_from, valid_to, ratio, role, source)
        row.run("relation", lambda: _check_link_shape(spec))
    row.done()
    assert rel is not None
    out: dict[str, Any] = {
        "id": link_id or _stable_id("IL", src, rel.value, dst, valid_from),
        "src": src,
        "dst": dst,
        "validFrom": valid_from,
        "validTo": valid_to,
        "source": source,
    }
    if rel is Rel.SHAREHOLDER_OF:
        out["ratio"] = ratio
    if role is not None:
        out["role"] = role
    return rel, out


def sanction_row(raw: dict[str, str], catalogue: Catalogue, today: dt.date) -> dict[str, Any]:
    """The row `bulk.write_sanctions` takes, by the rules `imposeSanction` applies."""
    row = _Row(raw)
    for name in REQUIRED["sanctions"]:
        row.required(name)
    decided = row.date("decidedOn", required=True)
    valid_from = row.date("validFrom")
    valid_to = row.date("validTo")
    status = (row.get("status") or "ACTIVE").upper()
    if status not in SANCTION_STATUSES:
        row.bad("status", f"{status[:30]!r} is not one of {', '.join(sorted(SANCTION_STATUSES))}")
    responsible: list[str] = []
    for n, pid in enumerate((row.get("responsiblePersonIds") or "").split(LIST_SEPARATOR)):
        if pid.strip():
            checked = row.run(
                "responsiblePersonIds",
                partial(validate_resident_id, pid, field=f"responsiblePersonIds[{n}]"),
            )
            if checked is not None:
                responsible.append(checked)
    client = row.get("id")
    props: dict[str, Any] | None = None
    if not row.problems and decided is not None:
        request = SanctionRequest(
            client_id=client
            or _stable_id(
                "IS",
                row.get("issuerId"),
                row.get("documentNo"),
                row.get("subjectId"),
                row.get("listType"),
            ),
            list_type=row.get("listType") or "",
            subject_id=row.get("subjectId") or "",
            issuer_id=row.get("issuerId") or "",
            decided_on=decided,
            valid_from=valid_from,
            valid_to=valid_to,
            document_no=row.raw.get("documentNo") or "",
            reason=row.raw.get("reason") or "",
            jurisdiction=row.get("jurisdiction") or catalogue.local_jurisdiction.id,
            responsible_person_ids=tuple(responsible),
        )
        props = row.run(
            "row", lambda: validate_request(catalogue, request, Actor("import", None, True), today)
        )
    row.done()
    assert props is not None
    props["status"] = status
    props["issuerName"] = catalogue.departments[props["issuerId"]].name
    props["responsiblePersonIds"] = list(dict.fromkeys(responsible))
    props["liftKind"] = None
    props["liftedAt"] = None
    return props


# ------------------------------------------------------------------------------ validation


@dataclass
class _Refs:
    """What links and sanctions name, to check once every file has been read."""

    # (file, line, field, id, allowed kinds or None for any subject, HOUSEHOLD for households)
    wanted: list[tuple[str, int, str, str, frozenset[str] | None, str]] = field(
        default_factory=list
    )


def _kinds(kinds: frozenset[SubjectKind]) -> frozenset[str]:
    return frozenset(k.value for k in kinds)


async def validate(
    files: ImportFiles,
    catalogue: Catalogue,
    *,
    resolver: Resolver = no_database,
    today: dt.date | None = None,
) -> tuple[Report, dict[str, str]]:
    """Every problem of every file; and the kind of each id the files define."""
    day = today or dt.datetime.now(dt.UTC).date()
    report = Report()
    defined: dict[str, str] = {}  # id -> kind (HOUSEHOLD for households)
    refs = _Refs()
    for what, path in files.items():
        name = str(path)
        seen: dict[str, int] = {}
        count = 0
        for line, raw in read_rows(path, what, report.problems):
            count += 1
            try:
                if what == "subjects":
                    out = subject_row(raw, day)
                    key = out["id"]
                    if key in defined and defined[key] != out["kind"]:
                        report.problems.append(
                            Problem(name, line, "id", f"defined again with kind {out['kind']}")
                        )
                    defined[key] = out["kind"]
                elif what == "households":
                    out = household_row(raw)
                    key = out["id"]
                    defined.setdefault(key, HOUSEHOLD)
                elif what == "links":
                    rel, out = link_row(raw)
                    key = out["id"]
                    sources, targets = RELATION_ENDS[rel]
                    refs.wanted.append((name, line, "from", out["src"], _kinds(sources), rel))
                    if targets is None:
                        refs.wanted.append((name, line, "to", out["dst"], None, HOUSEHOLD))
                    else:
                        refs.wanted.append((name, line, "to", out["dst"], _kinds(targets), rel))
                else:
                    out = sanction_row(raw, catalogue, day)
                    key = out["id"]
                    refs.wanted.append((name, line, "subjectId", out["subjectId"], None, ""))
                    for pid in out["responsiblePersonIds"]:
                        refs.wanted.append(
                            (name, line, "responsiblePersonIds", pid, frozenset({"PERSON"}), "")
                        )
            except RowError as exc:
                for column, reason in exc.problems:
                    report.problems.append(Problem(name, line, column, reason))
                continue
            if key in seen:
                report.problems.append(
                    Problem(name, line, "id", f"{key} is already on line {seen[key]}")
                )
            else:
                seen[key] = line
        report.rows[what] = count
    await _check_refs(refs, defined, resolver, report)
    return report, defined


async def _check_refs(
    refs: _Refs, defined: dict[str, str], resolver: Resolver, report: Report
) -> None:
    missing_subjects = {
        i for _, _, _, i, _, h in refs.wanted if h != HOUSEHOLD and i not in defined
    }
    missing_households = {
        i for _, _, _, i, _, h in refs.wanted if h == HOUSEHOLD and i not in defined
    }
    found = await resolver(missing_subjects, missing_households) if refs.wanted else {}
    for file, line, column, ref, allowed, rel in refs.wanted:
        kind = defined.get(ref) or found.get(ref)
        if rel == HOUSEHOLD:
            if kind != HOUSEHOLD:
                report.problems.append(
                    Problem(file, line, column, f"no household {ref} in the files or the database")
                )
            continue
        if kind is None or kind == HOUSEHOLD:
            report.problems.append(
                Problem(file, line, column, f"no subject {ref} in the files or the database")
            )
        elif allowed is not None and kind not in allowed:
            if rel:
                end = "start" if column == "from" else "end"
                reason = f"{rel} cannot {end} at a {kind} (allowed: {', '.join(sorted(allowed))})"
            else:
                reason = f"{ref} is a {kind}, not a PERSON"
            report.problems.append(Problem(file, line, column, reason))


SUBJECT_KINDS = (
    f"UNWIND $ids AS id MATCH (s:{Label.SUBJECT.value} {{id: id}}) "
    "RETURN s.id AS id, s.kind AS kind"
)
HOUSEHOLDS = f"UNWIND $ids AS id MATCH (h:{Label.HOUSEHOLD.value} {{id: id}}) RETURN h.id AS id"


def database_resolver(driver: AsyncDriver, database: str, chunk: int = 20_000) -> Resolver:
    async def resolve(subject_ids: set[str], household_ids: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        async with driver.session(database=database, default_access_mode="READ") as session:
            for query, wanted, households in (
                (SUBJECT_KINDS, sorted(subject_ids), False),
                (HOUSEHOLDS, sorted(household_ids), True),
            ):
                for start in range(0, len(wanted), chunk):
                    result = await session.run(query, ids=wanted[start : start + chunk])
                    async for record in result:
                        found[record["id"]] = HOUSEHOLD if households else record["kind"]
        return found

    return resolve


# ------------------------------------------------------------------------------ loading


def _batches(
    files: ImportFiles, catalogue: Catalogue, today: dt.date, size: int
) -> Iterator[tuple[str, Any, list[dict[str, Any]]]]:
    """(what, key, rows) in batches of one kind or relation; rows already validated."""
    for what, path in files.items():
        pending: dict[Any, list[dict[str, Any]]] = {}
        for _, raw in read_rows(path, what):
            if what == "subjects":
                out = subject_row(raw, today)
                key: Any = SubjectKind(out["kind"])
            elif what == "households":
                out, key = household_row(raw), None
            elif what == "links":
                key, out = link_row(raw)
            else:
                out, key = sanction_row(raw, catalogue, today), None
            bucket = pending.setdefault(key, [])
            bucket.append(out)
            if len(bucket) >= size:
                yield what, key, bucket
                pending[key] = []
        for key, rest in pending.items():
            if rest:
                yield what, key, rest


async def _write(
    driver: AsyncDriver,
    database: str,
    contact_key: ContactKey,
    what: str,
    key: Any,
    rows: list[dict[str, Any]],
    now: Any,
) -> None:
    if what == "subjects":
        await bulk.write_subjects(driver, database, key, rows, contact_key=contact_key, now=now)
    elif what == "households":
        await bulk.write_households(driver, database, rows)
    elif what == "links":
        await bulk.write_links(driver, database, key, rows)
    else:
        for row in rows:
            row["createdAt"] = now
        await bulk.write_sanctions(driver, database, rows)


async def _pipeline(
    batches: Iterator[tuple[str, Any, list[dict[str, Any]]]],
) -> AsyncIterator[tuple[str, Any, list[dict[str, Any]]]]:
    """Parse the next batch in a worker thread while the current one is written."""
    loop = asyncio.get_running_loop()
    upcoming = loop.run_in_executor(None, next, batches, None)
    while (item := await upcoming) is not None:
        upcoming = loop.run_in_executor(None, next, batches, None)
        yield item


async def load(
    driver: AsyncDriver,
    database: str,
    files: ImportFiles,
    catalogue: Catalogue,
    report: Report,
    *,
    contact_key: ContactKey,
    batch_size: int = 5000,
    progress: bool = True,
    today: dt.date | None = None,
) -> dict[str, int]:
    """Write validated files (refuses a report with problems); returns rows per file kind.

    Node batches run two at a time; a file kind is finished before the next starts
    (links MATCH the subjects and households written before them). A database whose
    contact hashes are keyed with another key than `contact_key` is refused (`Conflict`)."""
    if not report.ok:
        raise ValueError("refusing to load files with problems")
    await ensure_keyed(Graph(driver, database), contact_key)
    day = today or dt.datetime.now(dt.UTC).date()
    now = utc_now()
    written: dict[str, int] = dict.fromkeys(report.rows, 0)
    total = sum(report.rows.values())
    with tqdm(
        total=total, unit="rows", desc="import", file=sys.stderr, disable=not progress
    ) as bar:
        in_flight: list[asyncio.Task[None]] = []
        current = None
        async for what, key, rows in _pipeline(_batches(files, catalogue, day, batch_size)):
            writers = 2 if what in ("subjects", "households") else 1
            if what != current:
                await asyncio.gather(*in_flight)
                in_flight = []
                current = what
                bar.set_postfix_str(what)
            if len(in_flight) >= writers:
                await in_flight.pop(0)
            in_flight.append(
                asyncio.create_task(_write(driver, database, contact_key, what, key, rows, now))
            )
            written[what] += len(rows)
            bar.update(len(rows))
        await asyncio.gather(*in_flight)
    return written


async def import_files(
    driver: AsyncDriver,
    database: str,
    files: ImportFiles,
    catalogue: Catalogue,
    *,
    contact_key: ContactKey,
    batch_size: int = 5000,
    progress: bool = True,
) -> tuple[Report, dict[str, int] | None]:
    """Validate everything, then load only when no row is bad."""
    report, _ = await validate(files, catalogue, resolver=database_resolver(driver, database))
    if not report.ok:
        return report, None
    written = await load(
        driver,
        database,
        files,
        catalogue,
        report,
        contact_key=contact_key,
        batch_size=batch_size,
        progress=progress,
    )
    return report, written
