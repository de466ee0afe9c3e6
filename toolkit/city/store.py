"""History store of accepted submissions (a SQLite file, or a PostgreSQL database: toolkit.city.backend).

One row per submitted version of a unit's workbook for a period, every value with
the cell it came from, the file hash and the time received. A resubmission with
different content becomes a new version; older versions stay. The same file stored
twice (same hash) is not a new version, so re-running a consolidation is harmless.
Version n is the unit's n-th submission for the period in the order of the time received (the
file's modification time), whatever order the files were stored in.

A Nộp on the city server is different: its receipt (version, time) is written into the unit's
workbook, so `receive` takes both inside the write transaction, appends, and marks the row; a file
stored later by its modification time never moves a receipted version (it goes after the last one).

Several consolidations or server processes may write at once: one write transaction per submission
under the store's write lock (SQLite: the file's, with a WAL journal and a busy timeout; PostgreSQL: a
lock on the unit, period and year), and the version number is computed inside it, so two writers never
take the same number nor leave a gap.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from toolkit.city.backend import Db, data_errors, db_errors, failed, shown, store_failure, store_location
from toolkit.definition import Form, load_form
from toolkit.errors import BaocaoError, log_failure
from toolkit.intake import Loc, Submission, Value
from toolkit.vnformat import parse_time, ratio_percent, stored_time, utc_now


@dataclass
class Stored:
    """One stored version: values are code -> (value, "file!Sheet!Cell")."""

    id: int
    unit: str
    unit_name: str
    period: str
    year: int
    version: int
    file: str
    file_hash: str
    received_at: datetime | None
    errors: int
    warnings: int
    findings: list[dict] = field(default_factory=list)
    values: dict[str, tuple[Any, str]] = field(default_factory=dict)
    sent_by: str | None = None  # a Nộp: "excel" (the button) or "trinh-duyet" (the upload page); None: a folder's
    sent_name: str = ""  # a Nộp: the file's name as the unit knows it (the workbook's in Excel, the browser's)


def _encode(value: Any) -> tuple[str, Any]:
    if isinstance(value, datetime):
        return "d", value.date().isoformat()
    if isinstance(value, date):
        return "d", value.isoformat()
    if isinstance(value, bool) or value is None:
        return "s", None if value is None else str(value)
    if isinstance(value, (int, float)):
        return "n", value
    return "s", str(value)


def _decode(kind: str, value: Any) -> Any:
    if kind == "n" and isinstance(value, str):  # PostgreSQL keeps the untyped column as text
        return float(value) if any(c in value for c in ".eEna") else int(value)
    return date.fromisoformat(value) if kind == "d" and value else value


class Store:
    def __init__(self, path: Path | str, form: Form | None = None, readonly: bool = False):
        self.path = store_location(path)
        self.form = form or load_form()
        self.db = Db(self.path, readonly)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, kind, exc, trace) -> None:
        self.close()
        if failed(exc):  # the store, not the caller: said in Vietnamese, naming the store
            raise self.db.failure(exc) from None

    def add(self, unit: str, unit_name: str, period: str, year: int, values: dict[str, tuple[Any, str]],
            file: str, file_hash: str, received_at: datetime | None, findings: list[dict] = (),
            form_version: str | None = None) -> tuple[int, bool]:
        """Store one submission; (version, True) when new, (existing version, False) when already stored."""
        key = (unit, period, year)
        with self.db.write(_lock(key)) as db:
            row = self._same(key, file_hash)
            if row:
                return row[0], False
            # Versions follow the time received, not the order of writing: a file received earlier but
            # stored later (a concurrent run, a late copy) takes its place and later versions move up one,
            # except receipted ones (a unit holds their number), which only a later position can follow.
            received = stored_time(received_at) if received_at else ""
            by_time = db.execute("SELECT COUNT(*) + 1 FROM submission WHERE unit=? AND period=? AND year=? "
                                 "AND COALESCE(received_at, '') <= ?", (*key, received)).fetchone()[0]
            receipted = db.execute("SELECT COALESCE(MAX(version), 0) FROM submission WHERE unit=? AND period=? "
                                   "AND year=? AND receipt=1", key).fetchone()[0]
            version = max(by_time, receipted + 1)
            db.execute("UPDATE submission SET version = -(version + 1) WHERE unit=? AND period=? AND year=? "
                       "AND version >= ?", (*key, version))  # negative first: UNIQUE holds at every row
            db.execute("UPDATE submission SET version = -version WHERE unit=? AND period=? AND year=? "
                       "AND version < 0", key)
            self._insert(key, version, unit_name, values, file, file_hash, received_at, findings, form_version)
            return version, True

    def receive(self, unit: str, unit_name: str, period: str, year: int, values: dict[str, tuple[Any, str]],
                file: str, file_hash: str, findings: list[dict] = (),
                form_version: str | None = None, sent: tuple[str, str] = ("", "")) -> tuple[int, datetime, bool]:
        """Store one submission received now (a Nộp): (version, time received, new). The version and the
        time are taken inside the write transaction, so receipts are 1..N in the order they were given
        and each equals what is stored; the same content again gets the receipt already given. `sent`: how it
        came and the file's name as the unit knows it (`Stored.sent_by`, `Stored.sent_name`)."""
        key = (unit, period, year)
        with self.db.write(_lock(key)) as db:
            row = self._same(key, file_hash)
            if row:  # its number is now in a receipt too: later files must not move it
                db.execute("UPDATE submission SET receipt=1 WHERE unit=? AND period=? AND year=? AND version=?",
                           (*key, row[0]))
                return row[0], parse_time(row[1]), False
            received = utc_now()
            version = db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM submission WHERE unit=? AND period=? "
                                 "AND year=?", key).fetchone()[0]
            self._insert(key, version, unit_name, values, file, file_hash, received, findings, form_version,
                         receipt=True, sent=sent)
            return version, received, True

    def _same(self, key: tuple[str, str, int], file_hash: str) -> tuple[int, str] | None:
        return self.db.execute("SELECT version, COALESCE(received_at, stored_at) FROM submission WHERE unit=? AND "
                               "period=? AND year=? AND file_hash=?", (*key, file_hash)).fetchone()

    def _insert(self, key: tuple[str, str, int], version: int, unit_name: str, values: dict[str, tuple[Any, str]],
                file: str, file_hash: str, received_at: datetime | None, findings: list[dict],
                form_version: str | None, receipt: bool = False, sent: tuple[str, str] = ("", "")) -> None:
        errors = sum(f["severity"] == "error" for f in findings)
        sid = self.db.execute(
            "INSERT INTO submission (unit, unit_name, period, year, version, form_id, form_version, "
            "file, file_hash, received_at, stored_at, errors, warnings, findings, receipt, sent_by, sent_name) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (key[0], unit_name, key[1], key[2], version, self.form.form_id, form_version or self.form.version,
             file, file_hash, stored_time(received_at) if received_at else None, stored_time(utc_now()), errors,
             len(findings) - errors,
             json.dumps(list(findings), ensure_ascii=False, default=str), int(receipt), sent[0] or None,
             sent[1] or None)).fetchone()[0]
        rows = [(sid, code, *_encode(v), cell) for code, (v, cell) in values.items()]
        if self.db.pg:  # its value column is text: numbers as text, read back by their kind
            rows = [(s, c, k, self.db.number(x) if k == "n" else x, cell) for s, c, k, x, cell in rows]
        self.db.insert("value", ("submission_id", "code", "kind", "value", "cell"), rows)

    def _load(self, row: tuple) -> Stored:
        (sid, unit, name, period, year, version, file, fhash, received, errors, warnings, findings, sent_by,
         sent_name) = row
        s = Stored(sid, unit, name or "", period, year, version, file or "", fhash,
                   parse_time(received) if received else None, errors, warnings,
                   json.loads(findings or "[]"), sent_by=sent_by or None, sent_name=sent_name or "")
        for code, kind, value, cell in self.db.execute(
                "SELECT code, kind, value, cell FROM value WHERE submission_id=?", (sid,)):
            s.values[code] = (_decode(kind, value), cell or "")
        return s

    @property
    def _cols(self) -> str:
        """The columns a version is loaded from (NULL for those an older store, read as it is, lacks)."""
        return ("id, unit, unit_name, period, year, version, file, file_hash, received_at, errors, warnings, "
                "findings, " + ", ".join("NULL" if c in self.db.lacks else c for c in ("sent_by", "sent_name")))

    def versions(self, unit: str, period: str, year: int) -> list[Stored]:
        """Every stored version, oldest first."""
        rows = self.db.execute(f"SELECT {self._cols} FROM submission WHERE unit=? AND period=? AND year=? "
                               "ORDER BY version", (unit, self.form.period(period).label, year)).fetchall()
        return [self._load(r) for r in rows]

    def latest(self, unit: str, period: str, year: int) -> Stored | None:
        """The newest version: latest time received, then highest version number."""
        row = self.db.execute(f"SELECT {self._cols} FROM submission WHERE unit=? AND period=? AND year=? "
                              # no time received: the oldest, on both backends (PostgreSQL sorts NULL first)
                              "ORDER BY COALESCE(received_at, '') DESC, version DESC LIMIT 1",
                              (unit, self.form.period(period).label, year)).fetchone()
        return self._load(row) if row else None

    def units(self, period: str, year: int) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT unit FROM submission WHERE period=? AND year=? ORDER BY unit",
            (self.form.period(period).label, year))]

    def history(self, unit: str) -> list[Stored]:
        """The newest version of each period the unit has stored, any period and year (none in a store that
        holds only keys so far)."""
        try:
            keys = self.db.execute("SELECT DISTINCT period, year FROM submission WHERE unit=?", (unit,)).fetchall()
        except db_errors() as exc:
            raise BaocaoError("không đọc được kho dữ liệu (không phải kho của baocao hoặc bị hỏng)",
                              path=shown(self.path), detail=shown(str(exc))) from None
        return [s for s in (self.latest(unit, p, y) for p, y in keys) if s is not None]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM submission").fetchone()[0]

    def hashes(self, period: str, year: int) -> dict[tuple[str, str], int]:
        """(unit, file hash) -> version of every stored version of the period."""
        return {(u, h): v for u, h, v in self.db.execute(
            "SELECT unit, file_hash, version FROM submission WHERE period=? AND year=?", (period, year))}

    def attempt(self, unit: str, period: str, year: int, errors: int, warnings: int) -> None:
        """A Nộp refused for the workbook's errors (the city's page shows "có lỗi")."""
        with self.db.write():
            self.db.execute("INSERT INTO submit_attempt VALUES (?,?,?,?,?,?)",
                            (unit, period, year, stored_time(utc_now()), errors, warnings))

    def attempts(self, period: str, year: int) -> dict[str, tuple[datetime, int, int]]:
        """unit -> (time, errors, warnings) of its latest refused Nộp for the period."""
        rows = self.db.execute("SELECT a.unit, a.at, a.errors, a.warnings FROM submit_attempt a WHERE period=? "
                               "AND year=? AND at = (SELECT MAX(at) FROM submit_attempt b WHERE b.unit=a.unit AND "
                               "b.period=a.period AND b.year=a.year)", (period, year)).fetchall()
        return {u: (parse_time(at), e, w) for u, at, e, w in rows}

    def rollup(self, unit: str, period: str, year: int) -> Stored | None:
        """The unit's figures for a long period from its newest stored shorter periods."""
        parts = self.form.period(period).rollup
        return rollup(self.form, period, year, [self.latest(unit, p, year) for p in parts]) if parts else None

    def previous(self, unit: str, period: str, year: int) -> Submission | None:
        """The unit's previous-period submission (for the checker's cross-period rules)."""
        for code, offset in self.form.period(period).previous:
            stored = self.latest(unit, code, year + offset)
            if stored is not None:
                return self.as_submission(stored)
        return None

    def as_submission(self, stored: Stored) -> Submission:
        """A stored version as a `Submission` (values keep their Sheet!Cell)."""
        meta_codes = {f.code for f in self.form.metadata}
        sub = Submission(path=Path(stored.file), form_id=self.form.form_id, version=self.form.version)
        for code, (v, cell) in stored.values.items():
            sheet, _, a1 = cell.rpartition("!")
            target = sub.meta if code in meta_codes else sub.values
            target[code] = Value(code, v, Loc(sheet.split("!")[-1], a1))
        return sub


def _lock(key: tuple[str, str, int]) -> str:
    """What a write numbers, as the name of its lock: one unit's versions of one period."""
    return "\x1f".join(map(str, key))


def rollup(form: Form, period: str, year: int, comps: list[Stored | None]) -> Stored | None:
    """A unit's figures for a long period from its shorter periods (6T = Q1 + Q2), in period order.

    Each indicator follows its `periods` aggregation: sum adds, latest takes the
    last component (a stock at the end), first the first one (an opening balance),
    ratio is recomputed from the rolled-up counts, none stays empty. None when a
    component period is missing: a partial roll-up would understate the period.
    """
    if not comps or any(c is None for c in comps):
        return None
    label = form.period(period).label
    values: dict[str, tuple[Any, str]] = {}
    for ind in form.indicators:
        present = [(c, c.values[ind.code]) for c in comps if c.values.get(ind.code, (None,))[0] is not None]
        # a sum over only some quarters would understate the period: all or nothing
        if ind.periods == "sum" and ind.numeric and len(present) == len(comps):
            values[ind.code] = (sum(v for _, (v, _) in present),
                                " + ".join(f"{c.file}!{cell}" for c, (_, cell) in present))
        elif ind.periods == "latest":
            v, cell = comps[-1].values.get(ind.code, (None, ""))
            values[ind.code] = (v, f"{comps[-1].file}!{cell}" if v is not None else "")
        elif ind.periods == "first":
            v, cell = comps[0].values.get(ind.code, (None, ""))
            values[ind.code] = (v, f"{comps[0].file}!{cell}" if v is not None else "")
    for ind in form.indicators:
        if ind.ratio and ind.periods == "ratio":
            num, den = (values.get(c, (None, ""))[0] for c in ind.ratio)
            pct = ratio_percent(num, den)
            if pct is not None:
                values[ind.code] = (pct, f"= {ind.ratio[0]} / {ind.ratio[1]} (tính lại)")
    first, last = comps[0], comps[-1]
    for code in ("MA_DVHC", "TEN_DON_VI"):
        if code in last.values:
            values[code] = last.values[code]
    values["KY_BAO_CAO"] = (label, "")
    values["NAM_BAO_CAO"] = (year, "")
    values["TU_NGAY"] = first.values.get("TU_NGAY", (None, ""))
    values["DEN_NGAY"] = last.values.get("DEN_NGAY", (None, ""))
    findings = [f for c in comps for f in c.findings]
    received = max((c.received_at for c in comps if c.received_at), default=None)
    return Stored(0, last.unit, last.unit_name, label, year, 0,
                  " + ".join(c.file for c in comps), "+".join(c.file_hash[:12] for c in comps),
                  received, sum(c.errors for c in comps), sum(c.warnings for c in comps), findings, values)


def save_consolidation(path: Path | str, res) -> tuple[int, list[tuple[str, str]]]:
    """The store writer: every readable file of a known unit that the consolidation `res` read
    (any period: they feed later roll-ups). Returns the number of new versions and the files that
    could not be stored, with the reason; each file is its own transaction, so the store stays whole."""
    known = {u.code for u in res.form.units}
    new, failed, broken = 0, [], None
    with Store(path, res.form) as db:
        for f in res.files:
            if f["refused"] or f["unit"] not in known or not f["period"] or not f["year"]:
                continue
            if broken:  # the store failed: the files left are said with its reason, not each tried (and waited)
                failed.append((f["path"], broken))
                continue
            try:
                new += db.add(f["unit"], f["unit_name"] or "", f["period"], f["year"], f["values"], f["name"],
                              f["hash"], f["received"], f["findings"], f["version"])[1]
            except data_errors() as exc:
                log_failure(exc, f"store {f['path']}")
                failed.append((f["path"], "có giá trị kho dữ liệu không chứa được (chi tiết trong nhật ký)"))
            except db_errors() as exc:  # the store's disk, not the file: full, read-only, locked too long, gone
                log_failure(exc, f"store {f['path']}")
                broken = store_failure(exc, "kho dữ liệu không ghi được (chi tiết trong nhật ký)")
                failed.append((f["path"], broken))
    return new, failed
