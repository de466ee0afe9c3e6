"""A seeded fuzzer of filled intake workbooks: every mutant must end in a finding or a Vietnamese refusal.

Mutations work on the xlsx parts directly (fast, and able to write what Excel never
would): cell values of every type (numbers beyond reason, inf, NaN, booleans, error
values, ISO dates, shared-string indexes out of range, inline strings with control and
bidi characters), deleted rows, unicode in the shared strings, dropped or truncated
parts, cells at the far edge of a sheet (XFD1048576), hidden copies of a sheet under a
name that differs only in spaces, case or accents, and byte flips in the zip itself.

`python tests/fuzz.py [N] [SEED]` runs N mutants through `baocao kiem-tra` (table and JSON)
and `baocao doc` and prints a summary; tests/test_fuzz.py runs it in the suite, and posts mutants to the
upload page of a real server too (`upload_failure` judges those answers).
"""
from __future__ import annotations

import contextlib
import io
import random
import re
import sys
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

NUMBERS = ["1e27", "9223372036854775808", "-1e30", "1e308", "1e400", "INF", "-INF", "NaN", "-0", "0.1", "3.5",
           "99999999", "2958466", "-1", "1E+16", "", "abc", "0x1F", "1,5"]
ERRORS = ["#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA", "oops"]
TEXTS = ["\u200bXã Nghi Dương", "Xa\u0300 Nghi Dương", "\u202eDƯƠNG", "😀" * 50, "x" * 40000, "=1+1", "  ", "Quý V",
         "31/02/2026", "2026-13-45", "12:30", "٣٤", "null", "\ufeff5892", "5.892,5", "1.2.3", "[/red] [bold]Xã"]
CONTROL = ["\x01", "\x07", "\x0b", "\x1f", "\x00", "\ufffe", "\udcff"]  # the last one writes a byte that is no UTF-8


@dataclass
class Mutant:
    name: str
    path: Path


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")  # a part cut by an earlier mutation stays editable


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _random_cell(rng: random.Random, ref: str) -> str:
    kind = rng.choice(["n", "s", "inline", "b", "e", "d", "f", "str", "empty"])
    if kind == "n":
        return f'<c r="{ref}"><v>{rng.choice(NUMBERS)}</v></c>'
    if kind == "s":
        return f'<c r="{ref}" t="s"><v>{rng.choice(["0", "1", "5", "99999", "-1", "x"])}</v></c>'
    if kind == "inline":
        text = rng.choice(TEXTS) + (rng.choice(CONTROL) if rng.random() < 0.3 else "")
        return f'<c r="{ref}" t="inlineStr"><is><t>{_xml_text(text)}</t></is></c>'
    if kind == "b":
        return f'<c r="{ref}" t="b"><v>{rng.choice(["0", "1", "2", "TRUE", ""])}</v></c>'
    if kind == "e":
        return f'<c r="{ref}" t="e"><v>{rng.choice(ERRORS)}</v></c>'
    if kind == "d":
        return f'<c r="{ref}" t="d"><v>{rng.choice(["2026-01-05T12:30:00", "9999-12-31", "0001-01-01", "bad"])}</v></c>'
    if kind == "f":
        return f'<c r="{ref}"><f>{rng.choice(["1/0", "SUM(A1:A3)", "NOW()", "A1"])}</f><v>{rng.choice(NUMBERS)}</v></c>'
    if kind == "str":
        return f'<c r="{ref}" t="str"><v>{_xml_text(rng.choice(TEXTS))}</v></c>'
    return f'<c r="{ref}"/>'


def _sheet_parts(parts: dict[str, bytes]) -> list[str]:
    return sorted(n for n in parts if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))


def _mutate_cells(rng: random.Random, parts: dict[str, bytes]) -> str:
    part = rng.choice(_sheet_parts(parts))
    text = _text(parts[part])
    cells = list(re.finditer(r'<c r="([A-Z]+\d+)"[^>]*?(?:/>|>.*?</c>)', text))
    if not cells:
        return "không có ô"
    for m in sorted(rng.sample(cells, min(len(cells), rng.randint(1, 8))), key=lambda m: -m.start()):
        text = text[:m.start()] + _random_cell(rng, m.group(1)) + text[m.end():]
    parts[part] = _bytes(text)
    return f"ô:{part.rsplit('/', 1)[1]}"


def _delete_rows(rng: random.Random, parts: dict[str, bytes]) -> str:
    part = rng.choice(_sheet_parts(parts))
    text = _text(parts[part])
    rows = list(re.finditer(r"<row [^>]*?(?:/>|>.*?</row>)", text, re.S))
    for m in sorted(rng.sample(rows, min(len(rows), rng.randint(1, 20))), key=lambda m: -m.start()):
        text = text[:m.start()] + text[m.end():]
    parts[part] = _bytes(text)
    return f"xóa dòng:{part.rsplit('/', 1)[1]}"


def _unicode_strings(rng: random.Random, parts: dict[str, bytes]) -> str:
    text = _text(parts.get("xl/sharedStrings.xml", b""))
    items = list(re.finditer(r"<t(?: [^>]*)?>([^<]*)</t>", text))
    for m in sorted(rng.sample(items, min(len(items), rng.randint(1, 10))), key=lambda m: -m.start()):
        new = _xml_text(rng.choice(TEXTS)) + (rng.choice(CONTROL) if rng.random() < 0.5 else "")
        text = text[:m.start(1)] + new + text[m.end(1):]
    parts["xl/sharedStrings.xml"] = _bytes(text)
    return "chuỗi"


def _structure(rng: random.Random, parts: dict[str, bytes]) -> str:
    name = rng.choice(sorted(parts))
    if rng.random() < 0.5:
        del parts[name]
        return f"bỏ:{name}"
    parts[name] = parts[name][:rng.randint(0, len(parts[name]))]
    return f"cắt:{name}"


FAR_CELLS = ["XFD1048576", "CV1048576", "AD1048576", "A1048576", "XFD1", "Z30000", "C20001"]


def _far_cell(rng: random.Random, parts: dict[str, bytes]) -> str:
    """A cell at the far edge of a sheet: with its address, or reached through rows and cells without one."""
    part = rng.choice(_sheet_parts(parts))
    ref = rng.choice(FAR_CELLS)
    row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if rng.random() < 0.7:
        cell = f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'
    else:  # calamine places them after the last row and column it saw
        cell = f'<row r="{row}">' + "<c><v>1</v></c>" * rng.randint(1, 40) + "</row>"
    parts[part] = parts[part].replace(b"</sheetData>", cell.encode() + b"</sheetData>", 1)
    return f"ô xa:{ref}:{part.rsplit('/', 1)[1]}"


def _hidden_sheet(rng: random.Random, parts: dict[str, bytes]) -> str:
    """A hidden copy of a sheet named like it (a space, another case, decomposed accents), with cells changed."""
    names = re.findall(r'<sheet name="([^"]+)" sheetId="\d+"(?: state="\w+")? r:id="(rId\d+)"/>',
                       _text(parts.get("xl/workbook.xml", b"")))
    rels = _text(parts.get("xl/_rels/workbook.xml.rels", b""))
    if not names or "</Relationships>" not in rels:
        return "không có sheet"
    name, rid = rng.choice(names)
    target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels)
    source = "xl/" + target.group(1) if target else ""
    if source not in parts:
        return "không có sheet"
    shadow = rng.choice([name + " ", " " + name, unicodedata.normalize("NFD", name), name.upper(), name.lower()])
    new_part, new_rid = "xl/worksheets/sheet_bong.xml", "rIdBong"
    parts[new_part] = re.sub(rb"<v>\d+</v>", b"<v>9999</v>", parts[source], count=rng.randint(1, 20))
    parts["xl/workbook.xml"] = _bytes(_text(parts["xl/workbook.xml"]).replace(
        "</sheets>", f'<sheet name="{_xml_text(shadow)}" sheetId="999" state="{rng.choice(["hidden", "veryHidden"])}" '
        f'r:id="{new_rid}"/></sheets>', 1))
    parts["xl/_rels/workbook.xml.rels"] = _bytes(rels.replace("</Relationships>", f'<Relationship Id="{new_rid}" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet_bong.xml"/></Relationships>', 1))
    types = _text(parts.get("[Content_Types].xml", b""))
    parts["[Content_Types].xml"] = _bytes(types.replace("</Types>", '<Override PartName="/xl/worksheets/sheet_bong.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>', 1))
    return f"sheet ẩn:{shadow!r}"


OPERATIONS = ([_mutate_cells] * 5 + [_delete_rows] * 2 + [_unicode_strings] * 2 + [_structure] + [_far_cell]
              + [_hidden_sheet])


def mutants(base: Path, folder: Path, n: int, seed: int):
    """Yield `n` mutants of `base` written into `folder`, the same ones for the same seed."""
    rng = random.Random(seed)
    with zipfile.ZipFile(base) as zf:
        original = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        parts = dict(original)
        done = [rng.choice(OPERATIONS)(rng, parts) for _ in range(rng.randint(1, 3))]
        out = folder / f"dot_bien_{i:04d}.xlsx"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
            for name, data in parts.items():
                zout.writestr(name, data)
        if rng.random() < 0.15:  # byte flips in the zip itself
            data = bytearray(out.read_bytes())
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            out.write_bytes(bytes(data))
            done.append("lật byte")
        yield Mutant(f"{i}:{'+'.join(done)}", out)


@dataclass
class Outcome:
    mutant: Mutant
    exit_code: int
    seconds: float
    output: str


COMMANDS = (["kiem-tra", "--json"], ["kiem-tra"], ["doc"])


def run(mutant: Mutant, command: list[str]) -> Outcome:
    """A `baocao` command on one mutant, in this process (a subprocess each would cost ~1 s of imports)."""
    from toolkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*command, str(mutant.path)])
    return Outcome(mutant, code, time.perf_counter() - start, out.getvalue() + err.getvalue())


def failure(o: Outcome, english: set[str]) -> str:
    """Why an outcome is a defect, or ""."""
    if o.exit_code not in (0, 1, 2):
        return f"mã thoát {o.exit_code}"
    if o.seconds > 10:
        return f"chạy {o.seconds:.1f} s"
    for bug in ("kiem-tra-that-bai", "loi-doc-khong-mong-doi", "lỗi không mong đợi", "phần mềm gặp lỗi"):
        if bug in o.output:
            return f"lưới an toàn bắt được lỗi chương trình ({bug})"
    leaked = sorted(n for n in english if n in o.output)
    return f"lộ tên ngoại lệ {leaked}" if leaked else ""


UPLOAD_SECONDS, UPLOAD_PEAK_MB = 15, 600


def upload_failure(status: int, said: str, page: str, seconds: float, peak_mb: float, english: set[str]) -> str:
    """Why the upload page's answer to a mutant is a defect, or "": no Vietnamese answer (a 500, an English
    error), a safety net that hid a program error, a library's exception named, the server's own file name,
    over 15 s or a server over 600 MB."""
    if status >= 500 or not said:
        return f"HTTP {status}, không có câu trả lời: {page[:200]}"
    if seconds > UPLOAD_SECONDS:
        return f"chạy {seconds:.1f} s"
    if peak_mb > UPLOAD_PEAK_MB:
        return f"máy chủ dùng {peak_mb:.0f} MB"
    for bug in ("loi-doc-khong-mong-doi", "lỗi không mong đợi", "phần mềm gặp lỗi", "Internal Server Error"):
        if bug in said:
            return f"lưới an toàn bắt được lỗi chương trình ({bug})"
    if re.search(r"[0-9a-f]{32}", said):
        return "lộ tên tệp của máy chủ"
    leaked = sorted(n for n in english if n in said)
    return f"lộ tên ngoại lệ {leaked}" if leaked else ""


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from collections import Counter

    from test_bad_input import ENGLISH

    from toolkit.definition.form import load_form
    from toolkit.demo import sample_files
    from toolkit.excel.workbook import build
    from toolkit.intake.datafile import load_data

    n, seed = int(sys.argv[1]) if len(sys.argv) > 1 else 300, int(sys.argv[2]) if len(sys.argv) > 2 else 11
    work = Path("fuzz_out")
    form = load_form()
    base = build(form, work / "_goc.xlsx", load_data(next(p for p in sample_files() if "nghi_duong" in p.stem), form))
    start, codes, bad = time.perf_counter(), Counter(), []
    for i, m in enumerate(mutants(base, work, n, seed)):
        o = run(m, COMMANDS[i % len(COMMANDS)])
        codes[o.exit_code] += 1
        if failure(o, ENGLISH):
            bad.append((m.name, failure(o, ENGLISH)))
    print(f"{n} mutants, seed {seed}, {time.perf_counter() - start:.1f} s; exit codes {dict(sorted(codes.items()))}; "
          f"{len(bad)} defects")
    for name, why in bad:
        print(f"  {name}: {why}")
