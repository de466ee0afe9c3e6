"""City consolidation: read and check every unit workbook in a folder, then one row per unit.

`consolidate()` is a pure step: it returns a `Consolidation` and writes nothing. The
city workbook (toolkit.city.workbook), the history store (`store.save_consolidation`)
and the city report are writers that take it.

Files are read and checked in a pool of one process per core of the machine (the
work is CPU-bound Python; the GIL would keep threads on one core). Each worker returns a small plain dict, not
the whole `Submission`, so pickling stays cheap. Nothing is dropped silently:
unreadable or foreign files, files of another period, unknown units and older
duplicate submissions are all kept in the result and listed in the city workbook.
"""
from __future__ import annotations

import hashlib
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
import calendar
import statistics
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from toolkit.check import check_file
from toolkit.city.anomalies import Acceptance, Anomaly, find, hold
from toolkit.city.backend import shown, store_exists
from toolkit.city.store import Store, Stored, rollup
from toolkit.definition import ERROR, WARNING, Form, Unit, checks, load_form
from toolkit.errors import BaocaoError, os_reason
from toolkit.intake import as_text
from toolkit.vnformat import city_date, city_today, from_timestamp, period_year, ratio_percent

DRIFT_CODES = ("thieu-chi-tieu", "ma-khong-xac-dinh")

ST_MISSING, ST_OK, ST_ERRORS, ST_LATE = "chưa nộp", "đã nộp", "có lỗi", "nộp muộn"
OTHER_PERIOD = "Khác kỳ"  # reason of a file of another period, not counted
ROLLED_UP = "Cộng dồn"  # reason of a file of a shorter period added up into a unit's figures
SUPERSEDED = "Bản cũ"  # reason of an older copy replaced by a resubmission (it is not left out)
# The one rule on whose figures count, stated in the city workbook and the city report alike: a file with an
# error may hold a wrong figure, and one wrong figure would move the city's totals and every rank.
COUNT_RULE = ("Số liệu của đơn vị có lỗi không được cộng vào số liệu chung của thành phố, không tính vào tỷ lệ "
              "chung và không xếp hạng cho đến khi đơn vị sửa lỗi, nộp lại; số liệu của đơn vị nộp muộn vẫn "
              "được cộng.")
# The same for a figure that passes every check yet is hard to believe: until it is settled it moves nothing.
# Its whole indicator group goes with it, so a total and its parts always come from the same units; and a unit
# whose figures are in question is held up as an example (ranked, named as meeting a target, drawn) by none.
HOLD_RULE = ("Số liệu bất thường chưa được xử lý (đơn vị nộp lại hoặc Sở Nội vụ xác minh, chấp nhận) không được cộng "
             "và không tính vào tỷ lệ chung, cùng các số liệu cùng nhóm chỉ tiêu của đơn vị để tổng và các phần của "
             "tổng luôn khớp; đơn vị có số liệu đó không được xếp hạng, không được nêu là đạt mục tiêu và không "
             "đưa vào biểu đồ cho đến khi xử lý xong.")


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_STORES: dict[str, Store] = {}
_FORM: Form | None = None  # the form of this run in a worker process (set by read_all)


def _previous_from(store_path: str | None, form: Form, sub):
    if not store_exists(store_path) or not sub.unit_code or not sub.period:
        return None
    store = _STORES.get(store_path)
    if store is None:
        store = _STORES[store_path] = Store(store_path, form, readonly=True)
    return store.previous(sub.unit_code, sub.period, sub.year) if sub.year else None


GONE = "tệp đã bị xóa hoặc chuyển đi trong lúc tổng hợp; chép lại tệp vào thư mục rồi tổng hợp lại"
CHANGING = "tệp bị ghi đè nhiều lần trong lúc tổng hợp; chờ chép xong rồi tổng hợp lại"


def process_file(job: tuple[str, str | None]) -> dict[str, Any]:
    """Read and check one file (runs in a worker process); a small picklable dict.

    The folder is live (a unit's file may be deleted or replaced while it is read): the file's identity
    is taken before and after reading, and the reading is repeated when it changed in between, so the
    hash, the time received and the figures are always of one and the same file."""
    path_str, store_path = job
    path = Path(path_str)
    form = _FORM or load_form()
    for _ in range(3):
        try:
            before = path.stat()
            digest = file_hash(path)
            report = check_file(path, form, lambda sub: _previous_from(store_path, form, sub))
            after = path.stat()
        except FileNotFoundError:
            return _unread(path, GONE)
        except OSError as exc:
            return _unread(path, f"không đọc được tệp: {os_reason(exc)}")
        if _identity(before) == _identity(after):
            break
    else:
        return _unread(path, CHANGING)
    # the time received is the file's modification time (a copy into the folder keeps it)
    out: dict[str, Any] = {"path": path_str, "name": path.name, "mtime": before.st_mtime,
                           "received": from_timestamp(before.st_mtime), "hash": digest, "refused": None}
    if report.refusal:
        out["refused"] = report.refusal.removeprefix(f"{path_str}: ")
        return out
    sub = report.submission
    values = {c: (v.value, str(v.loc)) for c, v in {**sub.meta, **sub.values}.items()}
    typed = sub.meta.get("MA_DVHC")  # an unknown code is no value, yet the city officer must see what was typed
    out.update(unit=sub.unit_code, unit_typed=as_text(typed.raw) if typed and typed.raw is not None else "",
               unit_name=sub.unit_name, period=sub.period, year=sub.year,
               version=sub.version, window_to=sub.window[1], values=values,
               explained={c: (v.value, str(v.loc)) for c, v in sub.explanations.items()},
               findings=[f.as_dict() for f in report.findings],
               drift=[{"code": p.code, "where": str(p.loc), "message": p.message}
                      for p in sub.problems if p.code in DRIFT_CODES])
    return out


def _identity(st: os.stat_result) -> tuple:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _unread(path: Path, why: str) -> dict[str, Any]:
    """A file that could not be read as one whole file: refused, named, the others go on."""
    return {"path": str(path), "name": path.name, "mtime": None, "received": None, "hash": "", "refused": why}


@dataclass
class UnitRow:
    """One of the 114 units in the consolidation."""

    unit: Unit
    status: str = ST_MISSING
    file: str = ""
    path: str = ""
    received: datetime | None = None
    file_hash: str = ""
    deadline: date | None = None
    late: bool = False
    errors: int = 0
    warnings: int = 0
    values: dict[str, tuple[Any, str]] = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    note: str = ""
    rolled_from: list[str] = field(default_factory=list)  # SHA-256 of the shorter periods' files rolled up
    days_late: int = 0  # days after the deadline on the city's calendar: received late, or not in yet (overdue)
    held: dict[str, str] = field(default_factory=dict)  # code -> why it is held out until settled (HOLD_RULE)
    explained: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (the unit's «Giải trình», cell)

    def value(self, code: str) -> Any:
        return self.values.get(code, (None, ""))[0]

    def counted_value(self, code: str) -> float | None:
        """The figure as the city counts it: a number of a counted unit, not held out; else None."""
        v = self.value(code)
        if not self.counted or code in self.held or isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        return v

    @property
    def counted(self) -> bool:
        """Whether the unit's figures enter the city's totals and ranks (COUNT_RULE)."""
        return self.status in (ST_OK, ST_LATE)


@dataclass(frozen=True)
class OverUnits:
    """A figure that does not add up across units (units: mean | median): its value over the counted units
    that report it, and how many of them reach 100% (a percentage) or the city's target."""

    value: float
    units: int
    full: int  # units at 100% (a percentage), else 0
    kind: str  # mean | median


@dataclass(frozen=True)
class RatioBase:
    """A city ratio with the base it is computed on: the counted units that report both of its counts."""

    num: float
    den: float
    units: int
    rate: float | None


@dataclass
class Consolidation:
    form: Form
    period: str  # label
    year: int
    rows: list[UnitRow]
    files: list[dict]  # every file read, in path order
    excluded: list[tuple[str, str]]  # (file, Vietnamese reason): refused, other period, duplicate, ...
    drift: list[tuple[str, str, str]]  # (file, where, message)
    totals: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None  # the consolidated folder: file names are shown relative to it
    inferred: bool = False  # the period was not given but taken from the files
    anomalies: list[Anomaly] = field(default_factory=list)  # bất thường: logic, history (with a store), peers
    settled: list[tuple[Anomaly, str]] = field(default_factory=list)  # accepted anomalies, with who accepted why
    accepted: list[Acceptance] = field(default_factory=list)  # what the city officer accepted (tong_hop.xlsm)
    deadline: date | None = None  # the period's deadline for every unit (None: a topical period, per unit)
    today: date | None = None  # the city's day units not in yet are overdue against

    @property
    def inferred_note(self) -> str:
        """What the user is told when the period was taken from the files."""
        if not self.inferred:
            return ""
        n = self.periods()[(self.period, self.year)]
        return (f"Kỳ báo cáo lấy theo các phiếu: {period_year(self.period, self.year)} ({n} phiếu); muốn kỳ khác "
                "thì ghi --ky và --nam.")

    def relative(self, path: str) -> str:
        """A file as the city officer knows it: relative to the consolidated folder."""
        if not path or self.folder is None:
            return path
        prefix = f"{self.folder}{os.sep}"  # the paths were listed under this folder as given
        return path[len(prefix):].replace(os.sep, "/") if path.startswith(prefix) else path

    def ranks(self, code: str) -> dict[str, int]:
        """Competition ranking (1, 2, 2, 4), highest first, of the units compared on `code`."""
        vals = sorted(((r.counted_value(code), r.unit.code) for r in self.comparable(code)), reverse=True)
        ranks: dict[str, int] = {}
        for i, (v, unit) in enumerate(vals):
            ranks[unit] = i + 1 if i == 0 or v != vals[i - 1][0] else ranks[vals[i - 1][1]]
        return ranks

    def extremes(self, code: str, n: int = 10) -> tuple[list[UnitRow], list[UnitRow]]:
        """The `n` highest and the `n` lowest units on `code` (each list best first), without overlap."""
        got = sorted(self.comparable(code), key=lambda r: (-r.counted_value(code), r.unit.code))
        top = got[:n]
        return top, got[max(len(top), len(got) - n):]

    def ratio_base(self, code: str) -> RatioBase | None:
        """The city's `code` (a ratio indicator) with its numerator, denominator and units, as `city_totals`
        computes it."""
        return ratio_base(self.form, self.rows, code)

    def meeting(self, code: str) -> list[UnitRow]:
        """The counted units whose `code` reaches the city's target for it (form.yaml › city_report › targets)."""
        target = self.form.city_report.get("targets", {}).get(code)
        return [r for r in self.comparable(code) if target is not None and r.counted_value(code) >= target]

    def comparable(self, code: str) -> list[UnitRow]:
        """The units compared with one another on `code` (ranked, named as meeting a target, drawn): counted, with
        the figure, and no figure of theirs held out (HOLD_RULE)."""
        return [r for r in self.rows if not r.held and r.counted_value(code) is not None]

    def over_units(self, code: str) -> OverUnits | None:
        """A figure that does not add up (units: mean | median) over the counted units reporting it."""
        return over_units(self.form, self.rows, code)

    def anomaly_state(self, a: Anomaly) -> str:
        """Where an anomaly stands, as the «Bất thường» sheet and the city's page say it: who accepted it, or why
        it is not counted yet (a «Giải trình» alone settles nothing: the city officer accepts it or not)."""
        who = next((who for x, who in self.settled if (x.unit, x.code) == (a.unit, a.code)), None)
        if who:
            return who
        row = next((r for r in self.rows if r.unit.code == a.unit), None)
        if row is not None and not row.counted:
            return "Không cộng: đơn vị có lỗi"
        if a.explanation:
            return "Chưa xử lý: đơn vị đã giải trình, chờ Sở Nội vụ xác minh; không cộng, không xếp hạng"
        return "Chưa xử lý: đơn vị chưa giải trình; không cộng, không xếp hạng"

    def settled_anomaly(self, a: Anomaly) -> bool:
        return any((x.unit, x.code) == (a.unit, a.code) for x, _ in self.settled)

    @property
    def held(self) -> list[UnitRow]:
        """The counted units with figures held out until settled (HOLD_RULE)."""
        return [r for r in self.rows if r.counted and r.held]

    @property
    def counted(self) -> int:
        return sum(r.counted for r in self.rows)

    @property
    def on_time(self) -> int:
        return self.received - self.late

    @property
    def expected(self) -> int:
        return len(self.rows)

    @property
    def received(self) -> int:
        return sum(r.status != ST_MISSING for r in self.rows)

    @property
    def received_rate(self) -> float | None:
        """Per cent of the units that sent a file of the period."""
        return ratio_percent(self.received, self.expected)

    @property
    def valid(self) -> int:
        return sum(r.status != ST_MISSING and r.errors == 0 for r in self.rows)

    @property
    def late(self) -> int:
        return sum(r.late for r in self.rows)

    @property
    def has_errors(self) -> bool:
        return any(r.errors for r in self.rows) or any(f["refused"] for f in self.files)

    @property
    def left_out(self) -> list[tuple[str, str]]:
        """Files that are in no unit row (an older copy replaced by a resubmission, a quarter added up into
        a longer period are not left out)."""
        return [(f, why) for f, why in self.excluded if not why.startswith((SUPERSEDED, ROLLED_UP))]

    def other_period(self) -> tuple[list[str], list[str]]:
        """Files of another period: (those added up into a unit's figures, those not counted at all)."""
        return ([f for f, why in self.excluded if why.startswith(ROLLED_UP)],
                [f for f, why in self.excluded if why.startswith(OTHER_PERIOD)])

    def periods(self) -> Counter:
        """(period label, year) -> how many readable files carry it."""
        return period_counts(self.files)

    def require_usable(self) -> None:
        """Refuse, in Vietnamese with a hint, a consolidation that holds no unit's figures."""
        if self.received:
            return
        if not self.files:
            why = "thư mục không có tệp .xlsx/.xlsm nào"
        elif not (common := self.periods().most_common(1)):
            why = f"không đọc được tệp nào trong {len(self.files)} tệp của thư mục"
        else:
            (label, year), count = common[0]
            why = (f"không có phiếu nào của kỳ {period_year(self.period, self.year)}; {count}/{len(self.files)} tệp "
                   f"là của kỳ {period_year(label, year)}: có thể cần --ky {self.form.period(label).code} --nam {year}")
        raise BaocaoError(f"không có gì để tổng hợp: {why}", path=str(self.folder))


def list_workbooks(folder: Path) -> list[Path]:
    """Every .xlsx/.xlsm under `folder`; left out: Excel's "~$" lock files, our own unfinished outputs
    (".~name…", see toolkit.atomic) and other hidden files (macOS "._name"). os.walk skips a sub-folder
    removed while it is listed (rglob would raise)."""
    return sorted(Path(top) / name for top, _, files in os.walk(folder) for name in files
                  if Path(name).suffix.lower() in (".xlsx", ".xlsm") and not name.startswith(("~$", "."))
                  and (Path(top) / name).is_file())


def period_counts(results: list[dict]) -> Counter:
    return Counter((r["period"], r["year"]) for r in results if not r["refused"] and r["period"] and r["year"])


def _init_worker(form: Form) -> None:
    global _FORM
    _FORM = form


def cores() -> int:
    """The CPU cores this process may run on: the default number of reading processes."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def read_all(paths: list[Path], store_path: str | None = None, workers: int | None = None, form: Form | None = None,
             progress: Callable[[int], None] | None = None) -> list[dict]:
    """process_file over every path, in path order, in `workers` processes (default: one per core);
    `progress(n)` after each n files done.

    A pool pays off from about 8 files. Its workers are forked after the form and its
    compiled rules are loaded here, so they start with both instead of building them again.
    """
    form = form or load_form()
    workers = workers or cores()
    checks(form)
    jobs = [(str(p), store_path) for p in paths]
    done: list[dict] = []
    if len(jobs) < 8 or workers < 2:
        _init_worker(form)
        for job in jobs:
            done.append(process_file(job))
            if progress:
                progress(1)
        return done
    # ~4 chunks per worker: few pickling round-trips, yet an even finish on both cores
    chunk = max(1, min(64, len(jobs) // (workers * 4)))
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(form,)) as pool:
        for res in pool.map(process_file, jobs, chunksize=chunk):
            done.append(res)
            if progress:
                progress(1)
    return done


def ratio_base(form: Form, rows: list[UnitRow], code: str) -> RatioBase | None:
    """A ratio indicator over the counted units that report both its numerator and its denominator, so a
    unit with a missing denominator does not inflate the city rate; None when no unit reports both."""
    num, den = form.indicator(code).ratio
    pairs = [(r.counted_value(num), r.counted_value(den)) for r in rows if code not in r.held
             and r.counted_value(num) is not None and r.counted_value(den) is not None]
    if not pairs:
        return None
    top, bottom = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    return RatioBase(top, bottom, len(pairs), ratio_percent(top, bottom))


def over_units(form: Form, rows: list[UnitRow], code: str) -> OverUnits | None:
    """The mean or median of `code` over the counted units reporting it (units: mean | median), None when
    none does or the figure adds up."""
    ind = form.indicator(code)
    if ind.units not in ("mean", "median"):
        return None
    vals = [v for r in rows if (v := r.counted_value(code)) is not None]
    if not vals:
        return None
    value = statistics.fmean(vals) if ind.units == "mean" else statistics.median(vals)
    full = sum(v >= 100 for v in vals) if ind.type == "percent" else 0
    return OverUnits(value, len(vals), full, ind.units)


def city_totals(form: Form, rows: list[UnitRow]) -> dict[str, Any]:
    """Sums of the counted units (COUNT_RULE), without the figures held out (HOLD_RULE), for sum indicators;
    ratios recomputed from summed counts (`ratio_base`). A figure that does not add up (mean, median, none) has
    no city total: `over_units` states it per unit."""
    totals: dict[str, Any] = {}
    for ind in form.indicators:
        if ind.units == "sum" and ind.numeric:
            vals = [v for r in rows if (v := r.counted_value(ind.code)) is not None]
            totals[ind.code] = sum(vals) if vals else None
    for ind in form.indicators:
        if ind.units == "ratio" and ind.ratio:
            base = ratio_base(form, rows, ind.code)
            totals[ind.code] = base.rate if base else None
    return totals


def period_deadline(form: Form, label: str, year: int, override: date | None = None) -> date | None:
    """The one deadline of a period for every unit, submitted or not: `override` (--han), else the period's
    closing day (form.yaml closing_day of its last month) plus deadline_days; None for a period without months
    (chuyên đề)."""
    if override:
        return override
    months = form.period(label).months
    if not months:
        return None
    day = min(form.closing_day, calendar.monthrange(year, months[1])[1])
    return date(year, months[1], day) + timedelta(days=form.deadline_days)


def unit_deadline(form: Form, window_to: date | None, period_due: date | None) -> date | None:
    """A unit's deadline: the period's; a topical period's counts from the unit's own data window."""
    if period_due:
        return period_due
    return window_to + timedelta(days=form.deadline_days) if isinstance(window_to, date) else None


def consolidate(folder: Path | str, ky: str | None, nam: int | None, deadline: date | None = None,
                store: Path | str | None = None, workers: int | None = None, form: Form | None = None,
                progress: Callable[[int], None] | None = None, accepted: list[Acceptance] = (),
                today: date | None = None) -> Consolidation:
    """Read, check and consolidate every workbook under `folder` for period `ky` of year `nam`; writes nothing.

    Without `ky` or `nam`, the period (or year) is the one most readable files of known units carry
    (`Consolidation.inferred` says so, for the caller to tell the user).

    A unit with no file of its own for a long period (6 tháng, 9 tháng, năm) is rolled
    up from its shorter periods: the files of this folder first, then, with `store`,
    the versions kept there. The store (read only here) also gives the checker each
    unit's previous period. `deadline` (--han) replaces the period's own; `accepted` are the anomalies the
    city officer accepted; `today` (the city's, by default) is what units not in yet are overdue against.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BaocaoError("thư mục không tồn tại hoặc không phải thư mục", path=str(folder))
    form = form or load_form()
    known_store = str(store) if store_exists(store) else None
    results = read_all(list_workbooks(folder), known_store, workers, form, progress)
    inferred = not ky or not nam
    label, year = (form.period(ky).label if ky else None), (int(nam) if nam else None)
    if inferred:
        label, year = _most_common_period(form, results, folder, label, year)
    result = _assemble(form, label, year, results, period_deadline(form, label, year, deadline))
    result.folder, result.inferred = folder, inferred
    own = _newest(results, year)
    db = Store(known_store, form, readonly=True) if known_store else None
    try:
        def latest(unit: str, part: str) -> Stored | None:
            found = own.get((unit, form.period(part).label))
            return found or (db.latest(unit, part, year) if db else None)

        _fill_rollups(result, latest)
        result.anomalies = find(result, db)
    finally:
        if db:
            db.close()
    _name_rolled_files(result)
    _finish(result, accepted, today)
    return result


def _finish(result: Consolidation, accepted: list[Acceptance], today: date | None) -> None:
    """What every consolidation ends with: units not in yet overdue against `today`, the anomalies held out
    until settled, then the totals without them."""
    today = result.today = today or city_today()
    for row in result.rows:
        if row.status == ST_MISSING and row.deadline and today > row.deadline:
            row.days_late = (today - row.deadline).days
    result.accepted = list(accepted)
    result.settled = hold(result, result.accepted)
    result.totals = city_totals(result.form, result.rows)


def regional(res: Consolidation, form: Form) -> Consolidation:
    """The consolidation of one province (`form` names its units) out of a national one, without reading
    a file again: its units, the files of its units, its totals."""
    units = {u.code for u in form.units}
    files = [f for f in res.files if not f["refused"] and f["unit"] in units]
    part = _assemble(form, res.period, res.year, files, res.deadline)
    part.folder = res.folder
    part.anomalies = [a for a in res.anomalies if a.unit in units]
    part.today = res.today
    overdue = {r.unit.code: r.days_late for r in res.rows}  # against the national run's day
    for row in part.rows:
        row.days_late = overdue.get(row.unit.code, row.days_late)
    part.accepted = res.accepted
    part.settled = hold(part, part.accepted)
    part.totals = city_totals(form, part.rows)
    return part


def cells_with(findings: list[dict], severity: str) -> int:
    """How many cells carry a finding of `severity`: two rules failing on one typed cell count once."""
    return len({(f.get("file"), f.get("sheet"), f.get("cell")) if f.get("cell") else id(f)
                for f in findings if f["severity"] == severity})


def _most_common_period(form: Form, results: list[dict], folder: Path, label: str | None = None,
                        year: int | None = None) -> tuple[str, int]:
    """The (period, year) most workbooks of known units are of, within the period or year given; the later on a tie."""
    known = {u.code for u in form.units}
    counts = {k: n for k, n in period_counts([r for r in results if not r["refused"] and r["unit"] in known]).items()
              if (label is None or k[0] == label) and (year is None or k[1] == year)}
    if not counts:
        raise BaocaoError("không xác định được kỳ báo cáo: không có phiếu đọc được nào"
                          + (" của kỳ đã chọn" if label or year else "") + "; hãy ghi rõ --ky và --nam",
                          path=str(folder))
    order = [p.label for p in form.periods]
    return max(counts, key=lambda k: (counts[k], k[1], order.index(k[0]) if k[0] in order else -1))


def _as_stored(res: dict) -> Stored:
    findings = res["findings"]
    return Stored(0, res["unit"], res["unit_name"] or "", res["period"], res["year"], 0, res["name"], res["hash"],
                  res["received"], cells_with(findings, ERROR), cells_with(findings, WARNING), findings,
                  res["values"], res["explained"])


def _newest(results: list[dict], year: int) -> dict[tuple[str, str], Stored]:
    """This run's newest readable file per (unit, period label) of `year`: the parts of a roll-up."""
    best: dict[tuple[str, str], dict] = {}
    for res in results:
        if res["refused"] or not res["unit"] or res["year"] != year:
            continue
        key = (res["unit"], res["period"])
        if key not in best or (res["mtime"], res["path"]) > (best[key]["mtime"], best[key]["path"]):
            best[key] = res
    return {k: _as_stored(r) for k, r in best.items()}


def _assemble(form: Form, label: str, year: int, results: list[dict], due: date | None) -> Consolidation:
    rows = {u.code: UnitRow(u, deadline=due) for u in form.units}
    excluded: list[tuple[str, str]] = []
    drift: list[tuple[str, str, str]] = []
    chosen: dict[str, dict] = {}
    copies: dict[str, int] = {}
    for res in results:
        name = res["path"]
        if res["refused"]:
            excluded.append((name, f"Không đọc được: {res['refused']}"))
            drift.append((name, "", res["refused"]))
            continue
        drift += [(name, d["where"], d["message"]) for d in res["drift"]]
        if res["period"] != label or res["year"] != year:
            excluded.append((name, f"{OTHER_PERIOD}: {res['period'] or 'không rõ kỳ'} năm {res['year'] or '?'}"))
            continue
        if res["unit"] not in rows:
            excluded.append((name, f"Mã đơn vị «{res['unit'] or res.get('unit_typed') or 'trống'}» không thuộc "
                                   f"danh sách {len(rows)} đơn vị"))
            continue
        best = chosen.get(res["unit"])
        copies[res["unit"]] = copies.get(res["unit"], 0) + 1
        if best is None or (res["mtime"], res["path"]) > (best["mtime"], best["path"]):
            if best is not None:
                excluded.append((best["path"], f"{SUPERSEDED}: đơn vị đã nộp lại tệp mới hơn {res['name']}"))
            chosen[res["unit"]] = res
        else:
            excluded.append((name, f"{SUPERSEDED}: đơn vị đã nộp lại tệp mới hơn {best['name']}"))
    for code, res in chosen.items():
        row = rows[code]
        row.file, row.path, row.received, row.file_hash = res["name"], res["path"], res["received"], res["hash"]
        row.values, row.findings, row.explained = res["values"], res["findings"], res["explained"]
        row.errors, row.warnings = cells_with(row.findings, ERROR), cells_with(row.findings, WARNING)
        row.deadline = unit_deadline(form, res["window_to"], due)
        if copies[code] > 1:
            row.note = f"Nộp {copies[code]} tệp cho kỳ này, dùng tệp mới nhất"
        _set_status(row)
    return Consolidation(form, label, year, list(rows.values()), results, excluded, drift, deadline=due)


def _set_status(row: UnitRow) -> None:
    """Late is counted on the city's calendar: 23:30 UTC on the deadline is the next day in Hải Phòng."""
    got = city_date(row.received) if row.received else None
    row.late = bool(row.deadline and got and got > row.deadline)
    row.days_late = (got - row.deadline).days if row.late else 0
    row.status = ST_ERRORS if row.errors else (ST_LATE if row.late else ST_OK)


def _fill_row(row: UnitRow, stored: Stored, form: Form, due: date | None, note: str = "") -> None:
    row.file, row.path, row.received, row.file_hash = stored.file, stored.file, stored.received_at, stored.file_hash
    row.values, row.findings, row.explained = stored.values, stored.findings, stored.explained
    row.errors, row.warnings = cells_with(row.findings, ERROR), cells_with(row.findings, WARNING)
    row.deadline = unit_deadline(form, stored.values.get("DEN_NGAY", (None,))[0], due)
    row.note = note
    _set_status(row)


def _fill_rollups(result: Consolidation, latest) -> None:
    """Roll up each unit with no file for a long period from `latest(unit, part)` of every part."""
    form = result.form
    parts = form.period(result.period).rollup
    if not parts:
        return
    for row in result.rows:
        if row.status != ST_MISSING:
            continue
        comps = [latest(row.unit.code, p) for p in parts]
        rolled = rollup(form, result.period, result.year, comps)
        if rolled is not None:
            _fill_row(row, rolled, form, result.deadline, "Cộng dồn từ các quý (không có tệp riêng cho kỳ này)")
            row.rolled_from = [c.file_hash for c in comps]


def _name_rolled_files(result: Consolidation) -> None:
    """A file of a shorter period that a roll-up added up is said to be so, not "of another period"."""
    into = {h: r for r in result.rows for h in r.rolled_from}
    hashes = {f["path"]: f["hash"] for f in result.files}
    for i, (path, why) in enumerate(result.excluded):
        row = into.get(hashes.get(path))
        if why.startswith(OTHER_PERIOD) and row is not None:
            result.excluded[i] = (path, f"{ROLLED_UP} vào số liệu {period_year(result.period, result.year)} của "
                                        f"{row.unit.name} ({why.split(': ', 1)[1]})")


def consolidate_store(store: Path | str, ky: str, nam: int, deadline: date | None = None,
                      form: Form | None = None, accepted: list[Acceptance] = (),
                      today: date | None = None) -> Consolidation:
    """The same consolidation from the store alone (the newest version of each unit, or a roll-up)."""
    if not store_exists(store):
        raise BaocaoError("kho dữ liệu không tồn tại", path=shown(store))
    form = form or load_form()
    label, year = form.period(ky).label, int(nam)
    due = period_deadline(form, label, year, deadline)
    result = Consolidation(form, label, year, [UnitRow(u, deadline=due) for u in form.units], [], [], [],
                           deadline=due)
    with Store(store, form, readonly=True) as db:
        for row in result.rows:
            stored = db.latest(row.unit.code, label, year)
            if stored is not None:
                _fill_row(row, stored, form, due)
        _fill_rollups(result, lambda unit, part: db.latest(unit, part, year))
        result.anomalies = find(result, db)
    _finish(result, accepted, today)
    return result


def source_ref(row: UnitRow, code: str) -> str:
    """Where a consolidated value came from, as file!Sheet!Cell (roll-ups name every part)."""
    value, cell = row.values.get(code, (None, ""))
    if value is None:
        return ""
    if " + " in cell or cell.startswith("=") or ".xls" in cell:
        return cell
    return f"{row.file}!{cell}" if cell else row.file

