"""Sentences a person writes, read off every generated report as a reader reads it.

Every report type × both samples × the variants the other report tests use (filler paragraphs, ratios an
officer writes, zero parts, a synthetic unit with every figure, the city report over counted units) is
rendered; its body paragraphs (not the tables) are scanned for what a chairman would strike out before
signing: "trong đó:" with one part or none, a paragraph that does not end (no run-on into the next "- …"
line), "..", ":." and the like, and a numbered list or heading run that is a lone "1." or skips a number.
"""
from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from docx import Document
from test_report_layout import _with_filler, _with_long_table
from test_report_scope import _with

from toolkit import synthetic as S
from toolkit.city.consolidation import consolidate
from toolkit.city.report import render_city_report
from toolkit.intake.reader import read_submission
from toolkit.reports.render import render_report, types_for

ND, NLB = "nghi_duong_6t_2026", "nguyen_luong_bang_q1_2026"
YEAR = 2026

# "trong đó:" and what follows it up to the end of its sentence (a full stop not inside a number) or bracket
_BREAKDOWN = re.compile(r"trong đó\s*(:?)\s*(.*?)(?:\.(?!\d)|\)|$)", re.I)
_ENDED = re.compile(r"[.:;!?…][\"”’)»]*$|^\(.*\)$")
_SUBHEADING = re.compile(r"^\d+(\.\d+)+\.?\s+\S.{0,150}$")  # "2.2. Kết quả giải quyết TTHC", typed by the officer
_DOUBLED = re.compile(r"(?<!\.)\.\.(?!\.)|[:;,]\s*\.(?![/.])|\.\s*[:;](?!/)|[:;]\s*[:;]")
_NUMBERED = re.compile(r"^(\d+)\.\s")  # "2. …", not "2.1. …"
_BREAK = re.compile(r"^(PHẦN\s|[IVX]+\.\s|BÁO CÁO$|PHỤ LỤC)")


def paragraphs(docx: Path) -> list[tuple[str, bool]]:
    """(text, is a heading) of each non-empty body paragraph outside tables; a heading is written all in bold
    or all in italics (the outline's lines, the title, the italic sub-areas of chính quyền số)."""
    out = []
    for p in Document(str(docx)).paragraphs:
        text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", p.text)).strip()
        runs = [r for r in p.runs if r.text.strip()]
        if text:
            out.append((text, bool(runs) and (all(r.bold for r in runs) or all(r.italic for r in runs))))
    return out


def defects(paras: list[tuple[str, bool]]) -> list[str]:
    """What a reader flags in a report's body paragraphs, one line each."""
    found = []
    for text, heading in paras:
        for m in _BREAKDOWN.finditer(text):
            colon, part = m.group(1), m.group(2).strip()
            if not part:
                found.append(f"«trong đó» không có phần nào: {text}")
            elif colon and ";" not in part:
                found.append(f"«trong đó:» chỉ một phần: {text}")
        if not heading and not _ENDED.search(text) and not _SUBHEADING.match(text):
            found.append(f"đoạn không kết thúc bằng dấu câu: {text}")
        if _DOUBLED.search(text):
            found.append(f"dấu câu chồng nhau: {text}")
    # numbered runs: each restarts at 1, goes 1, 2, 3 … and has at least a 2; a Roman heading or PHẦN ends it
    run: list[int] = []
    last_text = ""

    def close() -> None:
        if run == [1]:
            found.append(f"danh sách chỉ có «1.»: {last_text}")

    for text, _ in paras:
        if _BREAK.match(text):
            close()
            run = []
            continue
        m = _NUMBERED.match(text)
        if not m:
            continue
        k = int(m.group(1))
        if k == 1:
            close()
            run = [1]
            last_text = text
        elif run and k == run[-1] + 1:
            run.append(k)
        else:
            found.append(f"số thứ tự {k} không nối tiếp {run[-1] if run else 'gì'}: {text}")
            run = [k]
    close()
    return found


def test_the_scan_catches_each_defect():
    """Guard: each defect of the issue, as it was printed, is caught; the seeds' ways of saying it are not."""
    bad = [("Tổng số hồ sơ tiếp nhận là 6.476 hồ sơ, trong đó: 25 hồ sơ từ kỳ trước.", False),
           ("Tổng số hồ sơ đã giải quyết là 5.839 hồ sơ, trong đó: không có hồ sơ quá hạn.", False),
           ("Số lượng hồ sơ đang giải quyết là 07 hồ sơ, trong đó.", False),
           ("Việc tuân thủ quy trình có lúc còn chưa chặt chẽ, nhất là một số hồ sơ giải quyết thủ tục hành chính",
            False), ("- Số công chức có mặt: 37 người..", False), ("Số liệu như sau:.", False),
           ("I. CÔNG TÁC CHỈ ĐẠO", True), ("1. Việc ban hành Kế hoạch", True), ("II. KẾT QUẢ", True),
           ("1. Đẩy mạnh tuyên truyền.", False), ("3. Nâng cao chất lượng.", False)]
    assert len(defects(bad)) == 8
    good = [("Tổng số hồ sơ tiếp nhận là 6.476 hồ sơ (trong đó 25 hồ sơ từ kỳ trước chuyển sang).", False),
            ("Tổng số hồ sơ tiếp nhận là 5.892 hồ sơ, trong đó: 5.805 hồ sơ trong kỳ; 87 hồ sơ từ kỳ trước.", False),
            ("(Trong đó: Công chức UBND xã 37 đ/c; viên chức tại Trung tâm DVSNC 04 đ/c).", False),
            ("Căn cứ Quyết định số 5049/QĐ-UBND ngày 11/12/2025:", False), ("các nội dung khác...", False),
            ("I. PHƯƠNG HƯỚNG", True), ("1. Ưu điểm", True), ("- Tỷ lệ đạt 99,2%.", False), ("2. Tồn tại", True),
            ("của Ủy ban nhân dân xã Nghi Dương./.", False)]
    assert defects(good) == []


@pytest.fixture(scope="module")
def reports(built, form, tmp_path_factory, city_book):
    """{name: docx} for every unit report type of both samples and their variants, and two city reports."""
    out = tmp_path_factory.mktemp("text")
    subs = {stem: read_submission(path) for stem, (path, _) in built.items()}
    variants = {
        "": subs,
        "filler": {ND: _with_filler(subs[ND], 2)},
        "bang": {ND: _with_long_table(subs[ND], 3)},
        # the values test_report_scope.test_ratios_officers_write types
        "ty_le": {NLB: _with(subs[NLB], KH_NV_TONG=25, KH_NV_HOAN_THANH=20, KH_NV_DANG_TH=5, KH_NV_QUA_HAN=0,
                             VB_TONG=106, VB_QD=12, VB_KH=9, VB_CV=85, VB_KHAC=0, HS_TRONG_KY=337,
                             HS_KY_TRUOC=0, HS_TIEP_NHAN=337, HS_TRUC_TUYEN=300, HS_TRUC_TIEP=37)},
        # every part zero but one: each "trong đó" has one part left, each zero is said in words
        "khong": {stem: _with(sub, HS_KY_TRUOC=0, HS_QUA_HAN=0, HS_TU_CHOI=0, HS_RUT=0, HS_DANG_QUA_HAN=0,
                              HS_CHO_BO_SUNG=0, KH_NV_QUA_HAN=0, NV_TP_QUA_HAN=0, NV_TP_HT_QUA_HAN=0,
                              SU_CO_ATTT=0, CV_TINH_GIAN=0, PAKN_NHAN=0) for stem, sub in subs.items()},
    }
    docs = {}
    for name, group in variants.items():
        for stem, sub in group.items():
            for loai in {*types_for(sub), "cchc-6-thang-nam" if stem == ND else "cchc-quy"}:
                key = f"{stem}_{loai}_{name}".rstrip("_")
                docs[key] = render_report(sub, loai, out / f"{key}.docx", draft=True)[0]
    # a synthetic unit with every figure typed, in every report type of its period
    synth = S.generate(out / "synth", "6T", YEAR, form.units[:4], form=form)
    for path in synth[:2]:
        sub = read_submission(path)
        for loai in types_for(sub):
            docs[f"{path.stem}_{loai}"] = render_report(sub, loai, out / f"{path.stem}_{loai}.docx", draft=True)[0]
    # the city report: the samples (nothing summed) and four synthetic units (every section written)
    folder = out / "ca_hai"
    folder.mkdir()
    for path, _ in built.values():
        shutil.copy2(path, folder / path.name)
    book = city_book["book"]
    docs["tong-hop_mau"] = render_city_report(consolidate(folder, "6T", YEAR), out / "tong_hop_mau.docx", book=book)[0]
    docs["tong-hop"] = render_city_report(consolidate(out / "synth", "6T", YEAR), out / "tong_hop.docx", book=book)[0]
    return docs


def test_every_report_reads_as_a_person_writes(reports):
    assert len(reports) >= 20
    found = {name: defects(paragraphs(doc)) for name, doc in sorted(reports.items())}
    assert {k: v for k, v in found.items() if v} == {}


if __name__ == "__main__":  # print every defect of every report (a developer's view of the test above)
    import sys
    for f in sys.argv[1:]:
        for d in defects(paragraphs(Path(f))):
            print(Path(f).stem, "|", d[:300])
