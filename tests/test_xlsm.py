"""The macro-enabled workbooks, read back by independent tools: olevba, the zip's VML, LibreOffice."""
import os
import re
import zipfile
from pathlib import Path

import pytest
import python_calamine as pc
from oletools.olevba import VBA_Parser

# xlwings checks its licence once, when first imported (here through toolkit.excel.buttons); test_xl.py needs the
# remote engine, free under PolyForm Noncommercial with this key.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
from conftest import ROOT, run_cli, soffice_convert  # noqa: E402

import toolkit.xl  # noqa: E402
from toolkit.excel.xlsm import (  # noqa: E402
    CITY_BUTTONS,
    CITY_NAME,
    INTAKE_BUTTONS,
    INTAKE_NAME,
    NAME_REPORT_LIST,
    SHEET_CONF,
    build_all,
    report_types,
    xlwings_conf,
    xlwings_modules,
)

EXPECTED = {INTAKE_NAME: ("IntakeButtons", INTAKE_BUTTONS), CITY_NAME: ("CityButtons", CITY_BUTTONS)}


@pytest.fixture(scope="module")
def xlsm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("xlsm")
    return {p.name: p for p in build_all(folder)}


def modules(path: Path) -> dict[str, str]:
    """VBA module name -> source, as olevba extracts them."""
    parser = VBA_Parser(str(path))
    try:
        assert parser.detect_vba_macros()
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def subs(source: str) -> set[str]:
    return set(re.findall(r"^(?:Public |Private )?(?:Sub|Function) (\w+)\(", source, re.M))


def buttons(path: Path) -> list[tuple[str, str]]:
    """(caption, macro) of every form button, from the VML drawings XlsxWriter writes."""
    out = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/drawings/vmlDrawing"):
                vml = zf.read(name).decode("utf-8")
                for shape in re.findall(r"<v:shape .*?</v:shape>", vml, re.S):
                    if 'ObjectType="Button"' in shape:
                        caption = re.search(r"<font[^>]*>(.*?)</font>", shape).group(1)
                        macro = re.search(r"<x:FmlaMacro>(.*?)</x:FmlaMacro>", shape).group(1)
                        out.append((caption, macro))
    return out


@pytest.mark.parametrize("name", [INTAKE_NAME, CITY_NAME])
def test_vba_project_holds_the_macros_and_xlwings(xlsm, name):
    mods = modules(xlsm[name])
    module, wanted = EXPECTED[name]
    assert subs(mods[module]) == {macro for macro, _ in wanted}
    xlwings_source = dict((n, s) for n, s, _ in xlwings_modules())["xlwings"]
    assert mods["xlwings"].replace("\r\n", "\n") == xlwings_source.replace("\r\n", "\n")
    assert "RunPython" in subs(mods["xlwings"]) and "Dictionary" in mods
    with zipfile.ZipFile(xlsm[name]) as zf:
        sheets = len([n for n in zf.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)])
        assert 'codeName="ThisWorkbook"' in zf.read("xl/workbook.xml").decode()
        assert "macroEnabled" in zf.read("[Content_Types].xml").decode()
    # A document module for the workbook and each sheet, named as the workbook's code names say.
    assert {"ThisWorkbook", *(f"Sheet{i}" for i in range(1, sheets + 1))} <= set(mods)


@pytest.mark.parametrize("name", [INTAKE_NAME, CITY_NAME])
def test_every_button_calls_an_existing_macro(xlsm, name):
    mods = modules(xlsm[name])
    defined = set().union(*(subs(src) for src in mods.values()))
    found = buttons(xlsm[name])
    assert set(found) == {(caption, f"[0]!{macro}") for macro, caption in EXPECTED[name][1]}
    assert all(macro.removeprefix("[0]!") in defined for _, macro in found)


@pytest.mark.parametrize("name", [INTAKE_NAME, CITY_NAME])
def test_every_macro_calls_an_existing_handler(xlsm, name):
    source = modules(xlsm[name])[EXPECTED[name][0]]
    bodies = re.findall(r"^Sub (\w+)\(\)\r?\n(.*?)^End Sub", source, re.M | re.S)
    assert len(bodies) == len(EXPECTED[name][1])
    for sub, body in bodies:
        call = re.fullmatch(r'\s*RunPython "import toolkit\.xl; toolkit\.xl\.(\w+)\(\)"\s*', body)
        assert call, f"{sub}: {body!r}"
        assert callable(getattr(toolkit.xl, call.group(1), None)), call.group(1)


@pytest.mark.parametrize("name", [INTAKE_NAME, CITY_NAME])
def test_conf_sheet_and_dropdown_lists(xlsm, name):
    book = pc.CalamineWorkbook.from_path(str(xlsm[name]))
    conf = book.get_sheet_by_name(SHEET_CONF).to_python()
    assert [(r[0], r[1] if len(r) > 1 else "") for r in conf] == xlwings_conf()
    assert dict(xlwings_conf())["INTERPRETER_WIN"].endswith("pythonw.exe")
    if name == INTAKE_NAME:
        with zipfile.ZipFile(xlsm[name]) as zf:
            assert f'name="{NAME_REPORT_LIST}"' in zf.read("xl/workbook.xml").decode()
        tools = book.get_sheet_by_name("Công cụ").to_python()
        assert [r[3] for r in tools if len(r) > 3 and r[3]] == [label for _, label in report_types()]


@pytest.mark.parametrize("name", [INTAKE_NAME, CITY_NAME])
def test_libreoffice_opens_the_workbook(xlsm, name, tmp_path):
    pdf = soffice_convert(xlsm[name], "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000


def test_build_is_reproducible(xlsm, tmp_path):
    again = {p.name: p for p in build_all(tmp_path)}
    for name, path in xlsm.items():
        assert again[name].read_bytes() == path.read_bytes(), name


def test_committed_workbooks_are_what_the_generator_writes(xlsm):
    for name, path in xlsm.items():
        committed = ROOT / "workbooks" / name
        assert committed.exists(), f"chạy «baocao tao-xlsm» để tạo {committed}"
        assert committed.read_bytes() == path.read_bytes(), f"{name} đã cũ: chạy lại «baocao tao-xlsm»"


def test_cli_tao_xlsm(tmp_path):
    done = run_cli("tao-xlsm", "--thu-muc", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "Đã tạo tệp có nút bấm" in done.stdout
    assert {p.name for p in tmp_path.glob("*.xlsm")} == {INTAKE_NAME, CITY_NAME}
