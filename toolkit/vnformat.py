"""Vietnamese number, date and text conventions, one rule each, used by every output.

Thousands with ".", decimals with ","; percentages rounded half-up (one rule
everywhere, also in the checker); counts below 10 written "05" in prose; header
dates "ngày 05 tháng 01 năm 2026" with day < 10 and months 1, 2 zero-padded.

One clock: instants are stored aware in UTC and shown, and counted in days, in the city's time. A server may
run in UTC while the city lives in Asia/Ho_Chi_Minh (UTC+7): a Nộp at 23:30 UTC on the deadline is 06:30 the
next day in Hải Phòng, one day late. No writer calls datetime.now() or formats a stored time itself; the page,
the city workbook, the receipt and the reports go through utc_now, city_time, city_date and fmt_time.
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

LOCALE = "vi_VN"
CITY_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HUGE = 10**15  # from here on a float holds no decimals, and no figure of ours is this large


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# What XML 1.0 cannot hold: control characters other than tab, newline and carriage return (Excel stores them
# as _x000B_ and the like), lone surrogates, U+FFFE and U+FFFF. One of them makes a .docx Word refuses to open.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML cannot hold."""
    return NOT_XML.sub("", text)


def char_names(text: str) -> str:
    """The characters of `text` XML cannot hold, as an officer can look them up: "U+000B, U+0001"."""
    return ", ".join(dict.fromkeys(f"U+{ord(ch):04X}" for ch in NOT_XML.findall(text)))


_TONE_PLACEMENT = (("oà", "òa"), ("oá", "óa"), ("oả", "ỏa"), ("oã", "õa"), ("oạ", "ọa"),
                   ("oè", "òe"), ("oé", "óe"), ("oẻ", "ỏe"), ("oẽ", "õe"), ("oẹ", "ọe"),
                   ("uỳ", "ùy"), ("uý", "úy"), ("uỷ", "ủy"), ("uỹ", "ũy"), ("uỵ", "ụy"))


@lru_cache(maxsize=8192)  # the same headers and choice labels are compared in every workbook of a batch
def label_key(text) -> str:
    """Comparison key for labels: NFC, trimmed, case-folded, old and new tone placement alike (Hoà/Hòa)."""
    s = nfc(str(text)).strip().casefold()
    for old, new in _TONE_PLACEMENT:
        if old in s:
            s = s.replace(old, new)
    return s


def clip(text: str, limit: int = 80) -> str:
    """Text quoted in a message, cut to `limit` characters: a 30.000-character cell is not repeated whole."""
    return text if len(text) <= limit else f"{text[:limit - 1]}… ({fmt_number(len(text))} ký tự)"


def round_half_up(x: float, digits: int = 2) -> float:
    """Round like a person does (36,698 -> 36,70), not banker's rounding."""
    if not math.isfinite(x) or abs(x) >= HUGE:  # no decimals left to round (and beyond Decimal's 28 digits)
        return x
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


def fmt_number(x: float | int, max_digits: int = 2, fixed: bool = False) -> str:
    """5892 -> "5.892"; 99.2 -> "99,2"; fixed: 36.698 -> "36,70" (a whole number stays whole).

    Never raises: ∞ and NaN print as words, and a number from 10^15 on (no commune figure, a slip or a
    hostile file) as "1,23 × 10^27", never as a 28-digit string nobody typed."""
    if isinstance(x, float):
        if math.isnan(x):
            return "không xác định"
        if math.isinf(x):
            return "vô cực" if x > 0 else "âm vô cực"
    if abs(x) >= HUGE:
        with localcontext() as ctx:
            ctx.prec = 30
            d = Decimal(repr(x)) if isinstance(x, float) else Decimal(x)
            exponent = d.adjusted()
            return f"{fmt_number(float(d.scaleb(-exponent)), 2, fixed=True)} × 10^{exponent}"
    if isinstance(x, float):
        x = round_half_up(x, max_digits)
        if x.is_integer():
            x = int(x)
    frac = ("0" if fixed and not isinstance(x, int) else "#") * max_digits
    pattern = "#,##0" + ("." + frac if max_digits else "")
    return format_decimal(x, format=pattern, locale=LOCALE)


def fmt_count(n: int) -> str:
    """A count in prose: 05, 13, 5.892."""
    return f"{n:02d}" if 0 <= n < 10 else fmt_number(n)


def fmt_percent(x: float, digits: int = 2, fixed: bool = False) -> str:
    """A typed 99.2 -> "99,2%"; a computed 36.698 (fixed) -> "36,70%"; 100.0 -> "100%"."""
    return fmt_number(x, digits, fixed) + "%"


def ratio_percent(num: float, den: float, digits: int = 2) -> float | None:
    """num/den as a percentage rounded half-up; None when the denominator is 0 or missing."""
    if num is None or not den:
        return None
    return round_half_up(100 * num / den, digits)


def fmt_money(x: float) -> str:
    """Triệu đồng: 99385 -> "99.385 triệu đồng"."""
    return fmt_number(x, 3) + " triệu đồng"


def fmt_date(d: date) -> str:
    """Prose date by NĐ 30/2020's rule, as the seeds write it in running text too: a leading zero for days below
    10 and for months 1 and 2 only ("09/01/2026", "05/3/2020", "31/5/2026")."""
    return f"{d.day:02d}/{_month(d)}/{d.year}"


def read_date(text: str) -> date | None:
    """A date as a person types it (20/12/2026) or as a browser's date field sends it (2026-12-20); None when the
    text is neither."""
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            pass
    return None


def _month(d: date) -> str:
    return f"{d.month:02d}" if d.month < 3 else str(d.month)


def fmt_date_header(d: date, place: str = "") -> str:
    """Header date per NĐ 30/2020: "Nghi Dương, ngày 05 tháng 01 năm 2026"."""
    text = f"ngày {d.day:02d} tháng {_month(d)} năm {d.year}"
    return f"{place}, {text}" if place else text


def period_year(period: str | None, year: int | str | None) -> str:
    """ "Quý I năm 2026"; "6 tháng đầu năm 2026" (a label ending in "năm" takes the year directly)."""
    label = (period or "").strip()
    return f"{label} {year}" if label.casefold().endswith("năm") else f"{label} năm {year}"


def fmt_value(v: Any, kind: str, unit: str = "") -> str:
    """A value with its unit for tables and messages."""
    if v is None:
        return ""
    if isinstance(v, date):
        return fmt_date(v)
    if kind == "percent":
        return fmt_percent(v)
    if kind == "money":
        return fmt_money(v)
    if isinstance(v, (int, float)):
        return f"{fmt_number(v)} {unit}".strip()
    return str(v)


def utc_now() -> datetime:
    """This instant, aware in UTC, to the second (what the store keeps)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def from_timestamp(seconds: float) -> datetime:
    """A file's modification time as an aware instant."""
    return datetime.fromtimestamp(seconds, timezone.utc)


def aware(moment: datetime) -> datetime:
    """`moment` with its zone; a naive one is taken as UTC (every store is migrated to UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def stored_time(moment: datetime) -> str:
    """An instant as the store writes it: ISO 8601 in UTC with its offset, so texts sort as the instants do."""
    return aware(moment).astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_time(text: str) -> datetime:
    """An instant the store holds (ISO 8601), aware."""
    return aware(datetime.fromisoformat(text))


def city_time(moment: datetime) -> datetime:
    """An instant as the city's clock shows it."""
    return aware(moment).astimezone(CITY_TZ)


def city_wall(moment: datetime) -> datetime:
    """The city's clock time without a zone, for a spreadsheet cell (Excel holds no zones)."""
    return city_time(moment).replace(tzinfo=None)


def city_date(moment: datetime) -> date:
    """The day on the city's calendar an instant falls on (what a deadline is counted in)."""
    return city_time(moment).date()


def city_today() -> date:
    """Today on the city's calendar."""
    return datetime.now(CITY_TZ).date()


def fmt_time(moment: datetime, seconds: bool = False) -> str:
    """ "06:30 08/12/2026" in the city's time: the one way a page, workbook, receipt or report writes a time."""
    return city_time(moment).strftime("%H:%M:%S %d/%m/%Y" if seconds else "%H:%M %d/%m/%Y")
