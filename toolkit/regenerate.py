"""Regenerate the committed workbooks under workbooks/ (xlsx and the macro-enabled xlsm).

Run `python -m toolkit.regenerate` after editing the definition; a test fails
while the committed files differ from what the generator writes.
"""
from __future__ import annotations

import sys
from pathlib import Path

from toolkit.definition import load_form
from toolkit.demo import TEMPLATE_NAME, sample_files
from toolkit.excel import build
from toolkit.intake import load_data


def committed_workbooks(root: Path) -> dict[Path, Path | None]:
    """Target workbook -> its data file (None for the blank template)."""
    folder = root / "workbooks"
    out: dict[Path, Path | None] = {folder / TEMPLATE_NAME: None}
    out.update({folder / f"{f.stem}.xlsx": f for f in sample_files()})
    return out


def main(root: Path = Path(".")) -> int:
    from toolkit.excel import build_all

    form = load_form()
    for target, data_file in committed_workbooks(root).items():
        build(form, target, load_data(data_file, form) if data_file else None)
        print(f"Đã tạo {target}")
    for target in build_all(root / "workbooks"):
        print(f"Đã tạo {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
