"""The file Nộp keeps of an accepted workbook (toolkit/server/plain_xlsx.py): written, then read back by the
reader's library, by openpyxl and by LibreOffice."""
import shutil
import subprocess
from datetime import date, datetime

import openpyxl
import pytest
import python_calamine as pc

from toolkit.definition import load_form
from toolkit.excel import buttons as xl
from toolkit.intake import read_grid, read_submission
from toolkit.server.plain_xlsx import write_grid

CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true"  # UTF-8, cells as shown (formats applied)
EDGES = ["a <b> & \"c\" 'd'", "tab\tand\nnewline", "bell\x07", "literal _x0041_", 1e20, 0.1 + 0.2, -7, 2**60,
         date(2026, 6, 14), datetime(2025, 12, 26, 15, 30), date(1900, 1, 5), True, None, "", "ổ đĩa đầy"]


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A unit's filled workbook as the server reads it from the posted payload, plus a sheet of hard cells."""
    import remote_client as rc

    from toolkit.excel import build_intake
    from toolkit.synthetic import unit_data

    form = load_form()
    path = build_intake(form, tmp_path_factory.mktemp("px") / "phieu.xlsm",
                        unit_data(form, form.units[3], "6T", 2026), server=("http://127.0.0.1", "k"))
    book = xl.open_posted(rc.payload(path))
    try:
        grid = xl.live_grid(book)
    finally:
        xl.close_posted(book)
    return {**grid, "Khó": [EDGES, [None, None, "x" * 40000], [], [None] * 3 + ["D4"]]}


def expected(v):
    """A cell as a reader sees it: dates as days, booleans and blanks left out, strings cut at 32,767."""
    if isinstance(v, bool) or v in ("", None):
        return None
    if isinstance(v, datetime):
        return datetime(v.year, v.month, v.day)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    return v[:32767] if isinstance(v, str) else v


def test_every_cell_reads_back_as_written(grid, tmp_path):
    out = write_grid(grid, tmp_path / "nop.xlsx")
    book = pc.CalamineWorkbook.from_path(str(out))
    assert book.sheet_names == list(grid)
    for name, rows in grid.items():
        back = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                got = back[r][c] if r < len(back) and c < len(back[r]) else ""
                got = None if got == "" else got
                if isinstance(got, date) and not isinstance(got, datetime):
                    got = datetime(got.year, got.month, got.day)
                want = expected(v)
                if isinstance(want, float):
                    assert got == pytest.approx(want, rel=1e-15), (name, r, c)
                else:
                    assert got == want, (name, r, c, v)
    edges = openpyxl.load_workbook(out)["Khó"]
    assert edges["I1"].number_format == "dd/mm/yyyy" and edges["I1"].value == datetime(2026, 6, 14)
    assert edges["D4"].value == "D4"
    # the reader of intake workbooks reads it as the workbook it came from
    kept = {c: v.value for c, v in read_submission(out).values.items()}
    assert len(kept) > 100 and kept == {c: v.value for c, v in read_grid(grid, load_form(), "phiếu").values.items()}


def test_sheet_names_excel_refuses_are_refused(tmp_path):
    for bad in ("a[1]", "x" * 32, "'trích'", "a/b"):
        with pytest.raises(ValueError):
            write_grid({bad: [[1]]}, tmp_path / "x.xlsx")
    with pytest.raises(ValueError):
        write_grid({"Số liệu": [[1]], "SỐ LIỆU": [[2]]}, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()  # nothing half written


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice")
def test_libreoffice_opens_it(grid, tmp_path):
    out = write_grid({"Khó": grid["Khó"]}, tmp_path / "nop.xlsx")
    done = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to",
                           CSV, "--outdir", str(tmp_path), str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "nop.csv").read_text(encoding="utf-8", errors="replace")
    assert text.startswith('"a <b> & ""c"" \'d\'","tab\tand\nnewline"') and ",14/06/2026," in text \
        and "ổ đĩa đầy" in text, text[:300]


def test_a_killed_workers_half_written_copy_is_deleted_when_the_server_starts(grid, tmp_path):
    """A kept copy's write does not look for temporaries (the folder grows by a file per Nộp); the server's start
    deletes those of writers no longer running, and nothing else."""
    import os
    import sys

    from toolkit.server.app import Settings, prepare

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    kept = tmp_path / "may_chu" / "phieu" / "6T_2026"
    kept.mkdir(parents=True)
    left = kept / f".~10507_0123456789abcdef.{dead}.k3j_x9aa.xlsx"
    writing = kept / f".~10508_0123456789abcdef.{os.getpid()}.q1w2e3r4.xlsx"  # a live writer's: not touched
    mine = write_grid({"Khó": grid["Khó"]}, kept / "10509_fedcba9876543210.xlsx")
    for path in (left, writing, kept / ".~ghi_chu.txt"):
        path.write_bytes(b"x")
    write_grid({"Khó": grid["Khó"]}, kept / "10510_fedcba9876543210.xlsx")
    assert left.exists()  # a Nộp's write leaves the folder as it is
    prepare(Settings(store=tmp_path / "kho.sqlite", folder=tmp_path / "may_chu", period="6T", year=2026),
            load_form())
    assert not left.exists() and writing.exists() and mine.exists() and (kept / ".~ghi_chu.txt").exists()
