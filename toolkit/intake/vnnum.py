"""Numbers typed as text the Vietnamese way: "." groups thousands, "," marks decimals.

`parse_number` reads what is unambiguous and refuses the rest with a reason;
it never guesses. "1.234" is 1234 (Vietnamese grouping), "0.500" is 0.5 (no
number is written with a thousands group after a leading zero), "99,2" is 99.2,
"99,2%" is 99.2 in a percent field, "1,234" in a count field is refused since
it may be an English-style thousands separator.
"""
from __future__ import annotations

import re

from toolkit.vnformat import clip

_SPACES = re.compile(r"[\s\u00a0\u202f]")
_INT = re.compile(r"^[+-]?\d+$")
# 1.234 / 1.234,5; a group never follows a leading zero, so "0.500" is half, not five hundred
_VN_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?$")
_VN_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")  # 99,2
_DOT_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")  # 99.2 (cannot be grouping: group is not 3 digits)
_EN_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3}){2,}(\.\d+)?$")  # 1,234,567 (two groups: unambiguous)


class NumberError(ValueError):
    """The text is not a number we can read without guessing; the message is Vietnamese."""


def parse_number(text: str, percent: bool = False) -> float | int:
    """Parse Vietnamese-formatted number text; raise NumberError with the reason."""
    s = _SPACES.sub("", text)
    text = clip(text)  # as quoted in the messages below
    if s.endswith("%"):
        if not percent:
            raise NumberError(f"«{text}» có dấu %, nhưng chỉ tiêu này không phải tỷ lệ phần trăm")
        s = s[:-1]
    if not s:
        raise NumberError(f"«{text}» không phải là số")
    if _INT.match(s):
        return int(s)
    if _VN_GROUPED.match(s):
        whole, _, frac = s.partition(",")
        whole = whole.replace(".", "")
        return float(f"{whole}.{frac}") if frac else int(whole)
    if _VN_DECIMAL.match(s):
        if re.match(r"^[+-]?[1-9]\d{0,2},\d{3}$", s) and not percent:
            raise NumberError(
                f"«{text}» không rõ nghĩa: có thể là {s.replace(',', '.')} (nghìn) hoặc số thập phân; "
                "hãy nhập số không có dấu phân cách nghìn")
        return float(s.replace(",", "."))
    if _DOT_DECIMAL.match(s):
        return float(s)
    if _EN_GROUPED.match(s):
        whole, _, frac = s.partition(".")
        whole = whole.replace(",", "")
        return float(f"{whole}.{frac}") if frac else int(whole)
    raise NumberError(f"«{text}» không phải là số hợp lệ")
