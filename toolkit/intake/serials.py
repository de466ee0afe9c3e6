"""Excel day numbers that calamine cannot show as Excel does.

calamine turns a date-formatted number into a date or a time of day, and two numbers come out wrong: a negative
one (Excel shows «########») becomes a time of day (−1 reads as 00:00), and 60 — Excel's 29/02/1900, a day that
never was (Excel keeps Lotus 1-2-3's leap year 1900) — reads as 28/02/1900, as 59 does. For those two lookalikes
only, the number the file holds is read from the sheet's XML, so a message can say what the cell holds.
"""
from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time
from typing import Any

CHUNK = 1 << 16
_END = b"</sheetData>"
_VALUE = re.compile(rb"<v>([^<]*)</v>")


class Feb29of1900(str):
    """The cell holds 60 with a date format: Excel shows 29/02/1900."""


FEB29_1900 = Feb29of1900("29/02/1900")


def lookalike(value: Any) -> bool:
    """Whether calamine's value may stand for a number it cannot show (a time of day, or 28/02/1900)."""
    return isinstance(value, time) or (isinstance(value, date) and not isinstance(value, datetime)
                                       and (value.year, value.month, value.day) == (1900, 2, 28))


def true_value(zf: zipfile.ZipFile, part: str, ref: str, value: Any) -> Any:
    """What Excel shows for the cell `ref` of the sheet `part` when calamine gave `value`: the negative number,
    FEB29_1900, or `value` itself."""
    number = _number(zf, part, ref)
    if number is None:
        return value
    if number < 0:
        return int(number) if number.is_integer() else number
    if number == 60:
        return FEB29_1900
    return value


def _number(zf: zipfile.ZipFile, part: str, ref: str) -> float | None:
    """The number stored in cell `ref`, read up to the end of the sheet's data (where calamine stops too)."""
    cell = re.compile(rb'<c r="' + re.escape(ref.encode()) + rb'"[^>]*?(?:/>|>(.*?)</c>)', re.S)
    tail = b""
    with zf.open(part) as fh:
        while chunk := fh.read(CHUNK):
            text = tail + chunk
            end = text.find(_END)
            if end >= 0:
                text = text[:end]
            found = cell.search(text)
            if found:
                v = _VALUE.search(found.group(1) or b"")
                try:
                    return float(v.group(1)) if v else None
                except ValueError:
                    return None
            if end >= 0:
                return None
            tail = text[-4096:]
    return None
