"""The worksheet class of every sheet holding formulas: classic functions written as they are, and a column of
formulas that are row-translations of one another stored as one shared formula.

A list sheet carries a row check per row: the same formula filled down, a kilobyte or more of text each.
Excel stores a filled-down formula once (`<f t="shared" ref="AA5:AA73" si="0">…</f>` in the first cell,
`<f t="shared" si="0"/>` in the others) and so does `write_column` here: every reader of the sheet (calamine,
the intake scan) then parses one formula instead of hundreds. XlsxWriter has no shared formulas; the sheet
writes their cells itself. A run is shared only when each formula is, token for token, the first one moved
down (`moved`): a formula that is not such a translation is written in full.
"""
from __future__ import annotations

import re

from xlsxwriter.utility import xl_rowcol_to_cell

from toolkit.excel.fit import FittedSheet

# The functions of the generated formulas: all in Excel 2010, none needing XlsxWriter's "_xlfn." prefix.
CLASSIC = {"IF", "AND", "OR", "NOT", "ISNUMBER", "ISERROR", "ISNA", "N", "ABS", "ROUND", "INT", "MOD", "TEXT",
           "DAY", "MONTH", "YEAR", "DATE", "LEN", "MID", "LEFT", "RIGHT", "TRIM", "FIND", "SEARCH", "EXACT",
           "INDEX", "MATCH", "SUMPRODUCT", "SUM", "SUMIF", "COUNT", "COUNTIF", "LARGE", "MAX", "MIN", "ROW",
           "HYPERLINK"}
_FUNCTION = re.compile(r"([A-Z][A-Z0-9.]*)\(")
# Outside string literals and quoted sheet names: an A1 reference (not part of a name, a number such as 1E9 or
# a function such as LOG10). What Excel is reported to refuse in a shared formula, and what this module does
# not translate, is never shared: a whole-column or whole-row range with a relative part (D:D, 4:4), a
# reference to another sheet, a structured reference (Table[Column]).
_QUOTED = re.compile(r"\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*'")
_CELL = re.compile(r"(?<![A-Za-z0-9_.$])(\$?[A-Z]{1,3}\$?)([0-9]+)(?![A-Za-z0-9_.(])")
_UNSHARED = re.compile(r"(?<![A-Za-z0-9_.$])(?:[A-Z]{1,3}:\$?[A-Z]{1,3}|\$[A-Z]{1,3}:[A-Z]{1,3}"
                       r"|[0-9]+:\$?[0-9]+|\$[0-9]+:[0-9]+)(?![A-Za-z0-9_.(])|[!\[]")


class _Shared(str):
    """A formula written as part of a shared formula: the first cell (`ref` set) holds its text, the others
    only its index `si`."""
    ref: str | None
    si: int


def moved(formula: str, row: int) -> str | None:
    """`formula` of the 0-based `row` with each relative row number written as its distance to `row`: two
    formulas of one column with the same result are translations of each other. None for a formula that is
    not to be shared (`_UNSHARED`)."""
    parts, end = [], 0
    for m in _QUOTED.finditer(formula):
        parts.append((formula[end:m.start()], False))
        parts.append((m.group(), True))
        end = m.end()
    parts.append((formula[end:], False))
    out = []
    for text, quoted in parts:
        if not quoted:
            if _UNSHARED.search(text):
                return None
            text = _CELL.sub(lambda m: m.group(1) + (m.group(2) if m.group(1).endswith("$")
                                                     else f"[{int(m.group(2)) - 1 - row}]"), text)
        out.append(text)
    return "".join(out)


class FormulaSheet(FittedSheet):
    """A worksheet that skips XlsxWriter's prefixing of newer Excel functions (some sixty regular expressions
    run over every formula, most of the build time) when a formula uses only the classic functions, and
    writes shared formulas (`write_column`)."""

    _shared_count = 0

    def _prepare_formula(self, formula, expand_future_functions=False):
        if isinstance(formula, _Shared):
            return formula
        if set(_FUNCTION.findall(formula)) <= CLASSIC:
            return formula.removeprefix("{").removeprefix("=").removesuffix("}")
        return super()._prepare_formula(formula, expand_future_functions)

    def write_column(self, first_row: int, col: int, formulas: list[str], values: list) -> None:
        """Write `formulas[i]` (without "=") with the cached result `values[i]` in (first_row + i, col); each run
        of two or more that are row-translations of the run's first formula, with classic functions only (no
        prefix to add), is written as one shared formula."""
        keys = [moved(f, first_row + i) if set(_FUNCTION.findall(f)) <= CLASSIC else None
                for i, f in enumerate(formulas)]
        i = 0
        while i < len(formulas):
            j = i + 1
            while keys[i] is not None and j < len(formulas) and keys[j] == keys[i]:
                j += 1
            if j - i == 1:
                self.write_formula(first_row + i, col, "=" + formulas[i], None, values[i])
            else:
                si = self._shared_count
                self._shared_count += 1
                ref = xl_rowcol_to_cell(first_row + i, col) + ":" + xl_rowcol_to_cell(first_row + j - 1, col)
                for k in range(i, j):
                    cell = _Shared(formulas[k])
                    cell.ref, cell.si = (ref if k == i else None), si
                    self.write_formula(first_row + k, col, cell, None, values[k])
            i = j

    def _xml_formula_element(self, formula, result, attributes=()) -> None:
        if not isinstance(formula, _Shared):
            return super()._xml_formula_element(formula, result, attributes)
        attr = "".join(f' {key}="{self._escape_attributes(value)}"' for key, value in attributes)
        if formula.ref is None:
            f = f'<f t="shared" si="{formula.si}"/>'
        else:
            f = f'<f t="shared" ref="{formula.ref}" si="{formula.si}">{self._escape_data(formula)}</f>'
        self.fh.write(f"<c{attr}>{f}<v>{self._escape_data(result)}</v></c>")
