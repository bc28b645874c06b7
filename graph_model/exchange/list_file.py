"""A list file from the provincial or national platform (docs/list-format.md), read line by
line and checked: each line without the database, then what only the database can tell.

JSON Lines in UTF-8: line 1 is the header (format, version, source, generatedAt), every
other line one change of one entry (impose, lift, revoke) with the national lists' fields.
Each line is checked on its own (JSON, fields, types, dates, the id's check character, the
list type, the kind the id implies, the text rule), then by the rule a feed's events are
applied by (`graph_model.exchange.apply.refusal`), so a line this module lets through is
never kept aside; the scanner also holds the file's order (a lift or revocation follows
its imposition, or names an entry the database must already hold: `pending`). `check`
then asks the database, in chunks of ids, whether those entries were imported before and
whether a subject is registered here with another kind. Any problem refuses the file
whole, before anything is written (`list_load` writes a file found good).

An entry's id at the source is a digest of (listType, caseNo, id), so every file that
names the entry again reaches the same relayed sanction; a line's event id is a digest of
its content, so the same line is the same event however often it is imported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from domain.errors import BadUserInput, InvalidId
from domain.identifiers import (
    SubjectKind,
    is_resident_id,
    kind_of_valid_id,
    validate_any_subject_id,
    validate_subject_id,
    validate_uscc,
)
from domain.text import clean_text
from domain.time import city_date, city_midnight, utc_now
from domain.vocabulary import Label
from graph_model.driver import Graph
from graph_model.exchange.apply import Incoming, local_id, refusal
from rules.models import Catalogue

FORMAT = "creditlink-list"
VERSIONS = (1,)
MAX_LINE_BYTES = 64 * 1024
# how far ahead of this clock a file's generatedAt may be: the platforms' clocks differ
CLOCK_SKEW = dt.timedelta(minutes=5)
# the file's action, as the feed names the same change
ACTIONS = {"impose": "IMPOSED", "lift": "LIFTED", "revoke": "REVOKED"}
STATUS = {"impose": "ACTIVE", "lift": "REPAIRED", "revoke": "REVOKED"}
HEADER_FIELDS = frozenset({"format", "version", "source", "generatedAt"})
ENTRY_FIELDS = frozenset(
    {
        "action",
        "listType",
        "caseNo",
        "authority",
        "name",
        "id",
        "subjectKind",
        "decidedOn",
        "validFrom",
        "validTo",
        "reason",
        "liftedAt",
    }
)
MAX_CASE_NO = 100
MAX_AUTHORITY = 200
MAX_NAME = 200
MAX_REASON = 2000
# a field's name in lower case: the hint for a field spelled in another case
_CASE_FOLDED = {name.lower(): name for name in HEADER_FIELDS | ENTRY_FIELDS}
# the problems a report keeps to print (all of them are counted)
KEPT_PROBLEMS = 10_000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# ids per read when checking against the database
CHECK_CHUNK = 20_000

KNOWN_ENTRIES = f"UNWIND $ids AS id MATCH (s:{Label.SANCTION.value} {{id: id}}) RETURN s.id AS id"
SUBJECT_KINDS = (
    f"UNWIND $ids AS id MATCH (p:{Label.SUBJECT.value} {{id: id}}) "
    "RETURN p.id AS id, p.kind AS kind"
)
# the feed's field names in the per-event rule's reasons, as this format names them
_FEED_FIELD = {
    "sanction.id": "caseNo",
    "documentNo": "caseNo",
    "issuer": "authority",
    "subjectName": "name",
    "subjectId": "id",
    "decidedOn, validFrom": "decidedOn",
    "jurisdiction": "source",
    "kind": "action",
    "status": "action",
}


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    reason: str


@dataclass(frozen=True)
class Header:
    version: int
    source: str
    generated_at: dt.datetime


@dataclass(frozen=True)
class Line:
    """A valid entry line: its change as a feed event of the source."""

    number: int
    action: str
    entry_id: str  # at the source; here it is local_id(source, entry_id)
    event: Incoming
    subject_id: str
    subject_kind: SubjectKind
    # an all-digit id valid as a resident ID and as a credit code, whose kind the line chose
    ambiguous: bool


class BadLine(Exception):
    def __init__(self, problems: list[tuple[str, str]], entry_id: str | None = None) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in problems))
        self.problems = problems
        self.entry_id = entry_id  # when listType, caseNo and id were good enough to key it


def entry_id(list_type: str, case_no: str, subject_id: str) -> str:
    """The entry's id at the source: `L` and 24 hex digits of sha256 over its key. The case
    number is compared in NFKC without spaces, so `（2025）浙03执1号` and `(2025)浙03执1号`
    are one case."""
    key = "".join(unicodedata.normalize("NFKC", case_no).split())
    digest = hashlib.sha256(f"{list_type}\x1f{key}\x1f{subject_id}".encode()).hexdigest()
    return f"L{digest[:24]}"


def event_id(content: dict[str, Any]) -> str:
    """The line's event id: `F` and 32 hex digits of sha256 over its checked content
    (keys sorted), so one line is one event however it is spaced or ordered."""
    canonical = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return f"F{hashlib.sha256(canonical).hexdigest()[:32]}"


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the line end), from 1; a last line without a newline
    counts, an empty end of file does not. A line longer than MAX_LINE_BYTES comes cut
    just past the limit (and is refused as too long): a file without newlines is never
    read into memory whole."""
    with path.open("rb") as handle:
        number = 0
        while raw := handle.readline(MAX_LINE_BYTES + 2):
            number += 1
            if not raw.endswith(b"\n") and len(raw) == MAX_LINE_BYTES + 2:
                while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
            yield number, raw.rstrip(b"\n").rstrip(b"\r")


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    if len(raw) > MAX_LINE_BYTES:
        raise BadLine([("line", f"longer than {MAX_LINE_BYTES} bytes")])
    if not raw.strip():
        raise BadLine([("line", f"empty: every line is one JSON object ({what})")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadLine([("line", f"not UTF-8 (byte {exc.start + 1})")]) from None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadLine([("line", f"not JSON: {exc.msg} at column {exc.colno}")]) from None
    if not isinstance(value, dict):
        raise BadLine([("line", f"not a JSON object ({what})")])
    return value


def _shown(value: Any) -> str:
    """A value of the file in a message: clipped, quoted, control characters escaped."""
    shown = repr(value[:40] if isinstance(value, str) else value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _unknown(obj: dict[str, Any], known: frozenset[str], problems: list[tuple[str, str]]) -> None:
    for key in obj:
        if key not in known:
            hint = _CASE_FOLDED.get(key.lower())
            problems.append(
                (_shown(key), "unknown field" + (f"; did you mean {hint}?" if hint else ""))
            )


def _instant(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("missing" if value is None else "must be a string")
    try:
        at = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{_shown(value)} is not an ISO 8601 instant") from None
    if at.tzinfo is None:
        raise ValueError(f"{_shown(value)} has no offset (Z or +08:00)")
    return at.astimezone(dt.UTC)


def parse_header(raw: bytes, source: str) -> Header:
    """Line 1. BadLine names every problem; a header of another source is refused."""
    obj = _json_object(raw, "the header")
    if "action" in obj and "format" not in obj:
        raise BadLine(
            [("header", f'line 1 must be the header {{"format": "{FORMAT}", ...}}, not an entry')]
        )
    problems: list[tuple[str, str]] = []
    _unknown(obj, HEADER_FIELDS, problems)
    if obj.get("format") != FORMAT:
        problems.append(("format", f"{_shown(obj.get('format'))}, not {FORMAT!r}"))
    version = obj.get("version")
    if isinstance(version, bool) or version not in VERSIONS:
        supported = ", ".join(str(v) for v in VERSIONS)
        problems.append(
            ("version", f"{_shown(version)} is not a version this CreditLink reads ({supported})")
        )
    if obj.get("source") != source:
        problems.append(("source", f"the header says {_shown(obj.get('source'))}, not {source}"))
    try:
        generated = _instant(obj.get("generatedAt"))
    except ValueError as exc:
        problems.append(("generatedAt", str(exc)))
    else:
        if generated > utc_now() + CLOCK_SKEW:
            problems.append(("generatedAt", f"{generated.isoformat()} is in the future"))
    if problems:
        raise BadLine(problems)
    assert isinstance(version, int)
    return Header(version, source, generated)


class _Fields:
    """One entry line's fields, checked one by one; problems gathered, never raised early."""

    def __init__(self, obj: dict[str, Any]) -> None:
        self.obj = obj
        self.problems: list[tuple[str, str]] = []

    def bad(self, name: str, reason: str) -> None:
        self.problems.append((name, reason))

    def text(self, name: str, limit: int, *, multiline: bool = False) -> str | None:
        value = self.obj.get(name)
        if value is None:
            self.bad(name, "missing")
            return None
        if not isinstance(value, str):
            self.bad(name, "must be a string")
            return None
        value = value.strip()
        if not value:
            self.bad(name, "empty")
            return None
        if len(value) > limit:
            self.bad(name, f"longer than {limit} characters")
            return None
        if value.isprintable():
            # no character of the categories Other and Separator but the space, so none the
            # text rule refuses: what the rule would return is its NFC (a million names are
            # read in seconds rather than a minute)
            return unicodedata.normalize("NFC", value)
        try:
            return clean_text(value, name, multiline=multiline)
        except BadUserInput as exc:
            self.bad(name, _reason(exc.message, name))
            return None

    def date(self, name: str, *, required: bool) -> dt.date | None:
        value = self.obj.get(name)
        if value is None:
            if required:
                self.bad(name, "missing")
            return None
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.bad(name, f"{_shown(value)} is not a date (YYYY-MM-DD)")
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.bad(name, f"{_shown(value)} is not a date")
            return None

    def instant(self, name: str) -> dt.datetime | None:
        try:
            return _instant(self.obj.get(name))
        except ValueError as exc:
            self.bad(name, str(exc))
            return None

    def choice(self, name: str, allowed: list[str]) -> str | None:
        value = self.obj.get(name)
        if isinstance(value, str) and value in allowed:
            return value
        self.bad(
            name, "missing" if value is None else f"{_shown(value)}: one of {', '.join(allowed)}"
        )
        return None


def _reason(message: str, name: str) -> str:
    return message.removeprefix(f"{name}: ")


def _subject(f: _Fields) -> tuple[str, SubjectKind, bool] | None:
    """The id, its kind (given, or implied by the id) and whether the id is ambiguous."""
    raw_kind = f.obj.get("subjectKind")
    given: SubjectKind | None = None
    if raw_kind is not None:
        if not isinstance(raw_kind, str) or raw_kind not in SubjectKind.__members__:
            kinds = ", ".join(SubjectKind)
            f.bad("subjectKind", f"{_shown(raw_kind)}: one of {kinds}, or leave it out")
            return None
        given = SubjectKind(raw_kind)
    raw = f.obj.get("id")
    if not isinstance(raw, str):
        f.bad("id", "missing" if raw is None else "must be a string")
        return None
    try:
        subject_id = validate_any_subject_id(raw, field="id")
    except InvalidId as exc:
        f.bad("id", _reason(exc.message, "id"))
        return None
    person = is_resident_id(subject_id)
    implied = SubjectKind.PERSON if person else kind_of_valid_id(subject_id)
    ambiguous = person and _valid_uscc(subject_id)
    if given is None:
        if implied is None:
            f.bad(
                "subjectKind",
                f"missing, and the id's type code {subject_id[:2]} implies no subject kind",
            )
            return None
        return subject_id, implied, ambiguous
    if given is implied:
        return subject_id, given, ambiguous
    try:
        return validate_subject_id(subject_id, given, field="id"), given, ambiguous
    except InvalidId as exc:
        what = "a resident ID" if person else f"a credit code of type {subject_id[:2]}"
        f.bad(
            "subjectKind",
            f"{given.value} does not fit the id ({what}): {_reason(exc.message, 'id')}",
        )
        return None


def _valid_uscc(value: str) -> bool:
    try:
        validate_uscc(value)
    except InvalidId:
        return False
    return True


def parse_line(
    raw: bytes, number: int, header: Header, catalogue: Catalogue, *, gate: bool = True
) -> Line:
    """An entry line, checked; BadLine names each problem (and the entry, when it can).
    `gate=False` leaves out the per-event rule, for a reading that `apply_events` follows
    in the same process: it asks the same rule of every event."""
    obj = _json_object(raw, "one entry change")
    f = _Fields(obj)
    _unknown(obj, ENTRY_FIELDS, f.problems)
    action = f.choice("action", list(ACTIONS))
    list_type = obj.get("listType")
    if list_type is None:
        f.bad("listType", "missing")
    elif not isinstance(list_type, str) or list_type not in catalogue.list_types:
        f.bad("listType", f"{_shown(list_type)} is not a list type of this catalogue")
    case_no = f.text("caseNo", MAX_CASE_NO)
    authority = f.text("authority", MAX_AUTHORITY)
    name = f.text("name", MAX_NAME)
    subject = _subject(f)
    decided = f.date("decidedOn", required=True)
    start = f.date("validFrom", required=False) or decided
    end = f.date("validTo", required=False)
    reason = f.text("reason", MAX_REASON, multiline=True)
    lifted_at: dt.datetime | None = None
    if action == "impose":
        if obj.get("liftedAt") is not None:
            f.bad("liftedAt", "only a lift or revoke line carries it")
    elif action is not None:
        lifted_at = f.instant("liftedAt")
    if decided is not None and decided > city_date(header.generated_at):
        f.bad("decidedOn", f"{decided} is after the file was generated")
    if start is not None and end is not None and end <= start:
        f.bad("validTo", f"{end} is not after validFrom {start}")
    if lifted_at is not None:
        if decided is not None and lifted_at < city_midnight(decided):
            f.bad("liftedAt", f"{lifted_at.isoformat()} is before decidedOn {decided}")
        if lifted_at > header.generated_at:
            f.bad("liftedAt", f"{lifted_at.isoformat()} is after the file was generated")
    key = None
    if isinstance(list_type, str) and list_type in catalogue.list_types and case_no and subject:
        key = entry_id(list_type, case_no, subject[0])
    if f.problems:
        raise BadLine(f.problems, key)
    # every field is checked by now; the asserts tell mypy so
    assert action and key and case_no and authority and name and subject and reason
    assert decided is not None and start is not None and isinstance(list_type, str)
    subject_id, kind, ambiguous = subject
    content = {
        "action": action,
        "listType": list_type,
        "caseNo": case_no,
        "authority": authority,
        "name": name,
        "id": subject_id,
        "subjectKind": kind.value,
        "decidedOn": decided,
        "validFrom": start,
        "validTo": end,
        "reason": reason,
        "liftedAt": lifted_at,
    }
    sanction = {
        "id": key,
        "listType": list_type,
        "subjectId": subject_id,
        "subjectKind": kind.value,
        "subjectName": name,
        "issuer": authority,
        "jurisdiction": header.source,
        "decidedOn": decided,
        "validFrom": start,
        "validTo": end,
        "status": STATUS[action],
        "documentNo": case_no,
        "reason": reason,
        "liftedAt": lifted_at,
    }
    # an imposition takes effect at the source from the city's start of its decision day
    at = lifted_at if lifted_at is not None else city_midnight(decided)
    event = Incoming(event_id(content), ACTIONS[action], at, sanction)
    refused = refusal(event, header.source, catalogue) if gate else None
    if refused is not None:
        named, _, why = refused.partition(": ")
        raise BadLine([(_FEED_FIELD.get(named, named), why or refused)], key)
    return Line(number, action, key, event, subject_id, kind, ambiguous)


@dataclass
class Report:
    """What a check of a file found: the lines read, every problem (the first
    KEPT_PROBLEMS kept to print, all counted)."""

    path: str
    header: Header | None = None
    lines: int = 0  # entry lines, the header not counted
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    bad_lines: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, line: int, name: str, reason: str) -> None:
        self.problem_count += 1
        self.bad_lines.add(line)
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(Problem(line, name, reason))

    def format(self, limit: int = 200) -> str:
        """`FILE:LINE: field: reason`, by line, at most `limit` of them, then the count."""
        # by line; a line's problems in the order its fields were checked
        shown = sorted(self.problems, key=lambda p: p.line)[:limit]
        out = [f"{self.path}:{p.line}: {p.field}: {p.reason}" for p in shown]
        if self.problem_count > len(shown):
            out.append(f"... and {self.problem_count - len(shown):,} more problem(s)")
        out.append(f"{len(self.bad_lines):,} bad line(s) in {self.path}: nothing was written")
        return "\n".join(out)


@dataclass
class Scanner:
    """The pass over a file without the database: every line parsed and checked, problems
    into `report`, the file's order kept. `lines()` yields the valid entry lines."""

    path: Path
    source: str
    catalogue: Catalogue
    # the per-event rule on every line (see parse_line)
    gate: bool = True
    report: Report = field(init=False)
    # local ids of entries a lift or revocation names with no imposition before it in the
    # file, with those lines: the database must hold them
    pending: dict[str, list[int]] = field(default_factory=dict)
    _imposed: set[str] = field(default_factory=set)
    # the kind each ambiguous id was given, and where: one id is one subject
    _ambiguous: dict[str, tuple[SubjectKind, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.report = Report(str(self.path))

    def lines(self, on_bytes: Callable[[int], object] | None = None) -> Iterator[Line]:
        """Every valid entry line, in order; nothing past a bad header (the lines cannot
        be read without it). `on_bytes` hears how many bytes each line took."""
        report = self.report
        header: Header | None = None
        unreported = 0
        for number, raw in read_lines(self.path):
            unreported += len(raw) + 1
            if on_bytes is not None and number % 10_000 == 0:
                on_bytes(unreported)
                unreported = 0
            if number == 1:
                try:
                    header = report.header = parse_header(
                        raw.removeprefix(b"\xef\xbb\xbf"), self.source
                    )
                except BadLine as bad:
                    for name, reason in bad.problems:
                        report.add(1, name, reason)
                    return
                continue
            assert header is not None
            report.lines += 1
            try:
                line = parse_line(raw, number, header, self.catalogue, gate=self.gate)
            except BadLine as bad:
                for name, reason in bad.problems:
                    report.add(number, name, reason)
                if bad.entry_id is not None:
                    self._order(number, bad.entry_id, self._action_of(raw))
                continue
            if line.ambiguous and not self._same_kind(line):
                continue
            self._order(number, line.entry_id, line.action)
            yield line
        if on_bytes is not None:
            on_bytes(unreported)
        if header is None:
            report.add(1, "header", f"the file is empty: line 1 must be the header ({FORMAT})")

    def _same_kind(self, line: Line) -> bool:
        first = self._ambiguous.setdefault(line.subject_id, (line.subject_kind, line.number))
        if first[0] is line.subject_kind:
            return True
        self.report.add(
            line.number,
            "subjectKind",
            f"{line.subject_kind.value}, but line {first[1]} gave {first[0].value} for this id",
        )
        return False

    def _order(self, number: int, entry: str, action: str | None) -> None:
        sid = local_id(self.source, entry)
        if action == "impose":
            self._imposed.add(sid)
        elif action in ACTIONS and sid not in self._imposed:
            self.pending.setdefault(sid, []).append(number)

    @staticmethod
    def _action_of(raw: bytes) -> str | None:
        try:
            action = orjson.loads(raw).get("action")
        except (orjson.JSONDecodeError, AttributeError):
            return None
        return action if isinstance(action, str) else None


@dataclass(frozen=True)
class Stamp:
    """What the file was when it was checked: a file that changed since is not loaded."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Stamp:
        stat = os.stat(path)
        return cls(stat.st_size, stat.st_mtime_ns)


@dataclass
class Checked:
    report: Report
    stamp: Stamp


async def check(
    graph: Graph,
    path: Path,
    source: str,
    catalogue: Catalogue,
    *,
    on_bytes: Callable[[int], object] | None = None,
) -> Checked:
    """Every problem of the file at `path` from `source`; nothing is written."""
    stamp = Stamp.of(path)
    # the database answers before the file is read, not after a million lines
    await graph.read(KNOWN_ENTRIES, {"ids": []}, name="listImport.entries")
    scanner = Scanner(path, source, catalogue)
    report = scanner.report
    subjects: dict[str, tuple[str, list[int]]] = {}
    for line in scanner.lines(on_bytes):
        lines = subjects.setdefault(line.subject_id, (line.subject_kind.value, []))[1]
        lines.append(line.number)
        if len(subjects) >= CHECK_CHUNK:
            await _check_subjects(graph, subjects, report)
            subjects = {}
    if subjects:
        await _check_subjects(graph, subjects, report)
    await _check_pending(graph, scanner.pending, report)
    return Checked(report, stamp)


async def _check_subjects(
    graph: Graph, subjects: dict[str, tuple[str, list[int]]], report: Report
) -> None:
    rows = await graph.read(SUBJECT_KINDS, {"ids": list(subjects)}, name="listImport.subjects")
    for row in rows:
        kind, lines = subjects[row["id"]]
        if row["kind"] != kind:
            for number in lines:
                report.add(number, "id", f"registered here as {row['kind']}, not {kind}")


async def _check_pending(graph: Graph, pending: dict[str, list[int]], report: Report) -> None:
    ids = list(pending)
    for start in range(0, len(ids), CHECK_CHUNK):
        chunk = ids[start : start + CHECK_CHUNK]
        rows = await graph.read(KNOWN_ENTRIES, {"ids": chunk}, name="listImport.entries")
        known = {row["id"] for row in rows}
        for sid in chunk:
            if sid not in known:
                for number in pending[sid]:
                    report.add(
                        number,
                        "action",
                        "lifts or revokes an entry neither imposed earlier in this file "
                        "nor imported before",
                    )
