"""Row heights for wrapped text, so that a printed workbook has no line on top of another.

Neither Excel nor LibreOffice grows a row for wrapped text a program wrote: a long hint or paragraph keeps
the default 15 pt and its second line prints over the next row. `FittedSheet` notes every wrapped text as it is
written and `fit_rows` sets each row tall enough for its longest one, measured against its column (or merged
columns) with Times New Roman's character widths, rounded up so that a row is never too short.
"""
from __future__ import annotations

import unicodedata

from xlsxwriter.worksheet import Worksheet

DEFAULT_WIDTH_PX = 64  # a column whose width was never set (8.43 characters)
PADDING_PX = 8  # what Excel and LibreOffice leave between a cell's borders and its text
LINE = 1.2  # line height in ems: Times New Roman (Liberation Serif in LibreOffice) with leading
# Advance widths in ems of Times New Roman; a letter with diacritics is as wide as its base letter.
_EM = {**dict.fromkeys("iljtf.,;:'!|()[]/ ", 0.3), **dict.fromkeys("rsI-", 0.4), **dict.fromkeys("mMW", 0.9),
       **dict.fromkeys("wADGHKNOQRUVXY«»%&", 0.75)}
_LOWER, _UPPER, _OTHER = 0.5, 0.68, 0.55
_BOLD = 1.08


def _em(ch: str) -> float:
    base = unicodedata.normalize("NFD", ch.replace("đ", "d").replace("Đ", "D"))[:1] or ch
    if base in _EM:
        return _EM[base]
    return _LOWER if base.islower() or base.isdigit() else _UPPER if base.isupper() else _OTHER


def text_lines(text: str, width_px: float, size: float, bold: bool = False) -> int:
    """How many lines `text` wraps to in a cell `width_px` wide, at `size` points (greedy, by words)."""
    room = max(width_px - PADDING_PX, 1) / (size * 96 / 72 * (_BOLD if bold else 1.0))  # in ems
    count = 0
    for paragraph in str(text).split("\n"):
        used, count = 0.0, count + 1
        for word in paragraph.split(" "):
            w = sum(_em(c) for c in word)
            gap = _em(" ") if used else 0.0
            if used and used + gap + w > room:
                count, used, gap = count + 1, 0.0, 0.0
            while w > room:  # a word longer than the line breaks inside itself
                count, w = count + 1, w - room
            used += gap + w
    return count


class FittedSheet(Worksheet):
    """A worksheet that remembers its wrapped texts, to size their rows once every column is set."""

    def __init__(self):
        super().__init__()
        self._wrapped: list[tuple[int, int, str, float, bool]] = []

    def _write_string(self, row, col, string, cell_format=None):
        self.shows(row, col, string, cell_format)
        return super()._write_string(row, col, string, cell_format)

    def shows(self, row: int, col: int, text: str, cell_format) -> None:
        """Note a text the cell shows: written, or the cached result of its formula."""
        if cell_format is not None and cell_format.text_wrap and text:
            self._wrapped.append((row, col, text, cell_format.font_size, bool(cell_format.bold)))

    def fit_rows(self) -> None:
        """Make each row holding wrapped text tall enough for all its lines (rows are never made shorter)."""
        spans = {(m[0], m[1]): range(m[1], m[3] + 1) for m in self.merge if m[0] == m[2]}
        need: dict[int, float] = {}
        for row, col, text, size, bold in self._wrapped:
            width = sum(self._width_px(c) for c in spans.get((row, col), (col,)))
            lines = text_lines(text, width, size, bold)
            if lines > 1:
                need[row] = max(need.get(row, 0.0), lines * size * LINE + 3)
        for row, points in sorted(need.items()):
            info = self.row_info.get(row)
            px = int(points * 4 / 3 + 0.5)
            if info is None or info.height is None or info.height < px:
                self.set_row_pixels(row, px, info.row_format if info else None)

    def _width_px(self, col: int) -> int:
        info = self.col_info.get(col)
        return info.width if info is not None and info.width is not None else DEFAULT_WIDTH_PX
