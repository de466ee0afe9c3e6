"""pandas views of consolidated data for analysts: long (one row per value) and wide (one row per unit).

    from toolkit.city import long_frame, wide_frame
    df = long_frame(consolidate("phieu/", "6T", 2026))      # or long_frame("kho.sqlite", "6T", 2026)
    wide_frame(df)[["HS_TIEP_NHAN", "TL_HS_DUNG_HAN"]]
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from toolkit.city.consolidation import ST_MISSING, Consolidation, consolidate_store, source_ref

COLUMNS = ["unit", "unit_name", "period", "year", "code", "value", "file", "cell"]


def long_frame(source: Consolidation | Path | str, ky: str | None = None, nam: int | None = None) -> pd.DataFrame:
    """One row per (unit, indicator) value with its provenance; `source` is a result or a store path."""
    if not isinstance(source, Consolidation):
        if ky is None or nam is None:
            raise ValueError("long_frame(store) needs ky and nam")
        source = consolidate_store(source, ky, nam)
    codes = [i.code for i in source.form.indicators]
    records = []
    for row in source.rows:
        if row.status == ST_MISSING:
            continue
        for code in codes:
            value = row.value(code)
            if value is None:
                continue
            ref = source_ref(row, code)
            file, _, cell = ref.partition("!") if " + " not in ref else (ref, "", "")
            records.append((row.unit.code, row.unit.name, source.period, source.year, code, value, file, cell))
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def wide_frame(long: pd.DataFrame) -> pd.DataFrame:
    """One row per unit (index: unit code), one column per indicator code, in form order."""
    if long.empty:
        return pd.DataFrame()
    wide = long.pivot_table(index=["unit", "unit_name"], columns="code", values="value", aggfunc="first")
    order = list(dict.fromkeys(long["code"]))
    return wide.reindex(columns=order).reset_index(level="unit_name")
