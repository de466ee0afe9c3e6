"""A filled intake workbook as typed values, each keeping the Sheet!Cell it came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Loc:
    """Where a value sits in the workbook, as the user sees it in Excel."""

    sheet: str
    cell: str  # A1 style, e.g. "E12"

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}"


def cell_name(row: int, col: int) -> str:
    """A1 name of a zero-based cell (here so that reading needs no writer library)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


@dataclass(frozen=True)
class Value:
    code: str
    value: Any  # int | float | date | str | None; None when empty or unreadable
    loc: Loc
    raw: Any = None  # what the cell held, when it differs from `value`


@dataclass(frozen=True)
class Problem:
    """Something the reader could not take at face value (becomes a checker finding)."""

    code: str  # kebab-case, e.g. "so-khong-hop-le"
    loc: Loc
    message: str
    field: str = ""


@dataclass
class Row:
    """One row of a list table: column code -> Value."""

    number: int  # 1-based position in the table
    loc: Loc  # first cell of the row
    cells: dict[str, Value] = field(default_factory=dict)

    def get(self, code: str) -> Any:
        v = self.cells.get(code)
        return v.value if v else None


@dataclass
class Submission:
    path: Path
    form_id: str
    version: str
    meta: dict[str, Value] = field(default_factory=dict)
    values: dict[str, Value] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    # the unit's «Giải trình» of a figure (the text at its cell): why an unusual value is true
    explanations: dict[str, Value] = field(default_factory=dict)
    lists: dict[str, list[Row]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # set for one report by toolkit.reports.scope: "trên" of "trên 450 tin bài", a note printed beside a figure
    qualifiers: dict[str, str] = field(default_factory=dict)
    remarks: dict[str, str] = field(default_factory=dict)

    def get(self, code: str) -> Any:
        """The value of an indicator or metadata field, None when empty."""
        v = self.values.get(code) or self.meta.get(code)
        return v.value if v else None

    def loc(self, code: str) -> Loc | None:
        v = self.values.get(code) or self.meta.get(code)
        return v.loc if v else None

    @property
    def unit_code(self) -> str | None:
        return self.get("MA_DVHC")

    @property
    def unit_name(self) -> str | None:
        return self.get("TEN_DON_VI")

    @property
    def period(self) -> str | None:
        return self.get("KY_BAO_CAO")

    @property
    def year(self) -> int | None:
        return self.get("NAM_BAO_CAO")

    @property
    def window(self) -> tuple[date | None, date | None]:
        return self.get("TU_NGAY"), self.get("DEN_NGAY")

    def texts(self, block: str) -> list[str]:
        """Paragraphs of a text block of the Nội dung sheet, by block code (e.g. "TON_TAI")."""
        from toolkit.definition import load_form

        label = next(c.label for c in load_form().choices["muc_noi_dung"] if c.code == block)
        return [r.get("noi_dung") for r in self.lists.get("noi_dung", [])
                if r.get("muc") == label and r.get("noi_dung")]
