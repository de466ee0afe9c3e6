"""A corpus of officer paragraphs that say the figures their own way, through every unit report type.

Each case puts paragraphs into sheet Nội dung of a sample or a synthetic unit that state the workbook's own
figures in other words: another noun («lượt tin bài» for «bài»), a total then its share («…, trong đó trực tuyến
…, đạt …%»), «hơn»/«trên» before a count, a count over its base («12.400/13.300 tài khoản»). Every report type of
the unit's period is written from it, as a draft and as a final report, and read as a chairman reads it:

- a count of 10 or more, or a percentage, said twice in one section where one of the two is a generated line;
- a generated sentence opening an area without a subject («Trong kỳ đã ban hành …», «Tổ chức 02 buổi …»);
- a heading over nothing, a placeholder or a table of only its header in a final report (refused instead);
- a date of a generated line that breaks NĐ 30's rule (a leading zero for days below 10, months 1 and 2 only).

`python tests/test_report_corpus.py` prints the count of each class over the corpus (the issue's before/after).
"""
from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from toolkit import synthetic as S  # noqa: E402
from toolkit.demo import sample_files  # noqa: E402
from toolkit.definition import load_form  # noqa: E402
from toolkit.errors import BaocaoError  # noqa: E402
from toolkit.excel.workbook import build  # noqa: E402
from toolkit.intake.datafile import load_data  # noqa: E402
from toolkit.intake.reader import read_submission  # noqa: E402
from toolkit.intake.submission import Loc, Row, Value  # noqa: E402
from toolkit.reports.render import empty_findings, render_report  # noqa: E402

PLACEHOLDER = "(Đơn vị chưa nhập nội dung cho mục này.)"
CLASSES = ("lặp số", "câu không chủ ngữ", "tiêu đề trống", "chỗ trống trong bản chính thức", "ngày sai NĐ 30")


# ---------------------------------------------------------------- the corpus


def _fmt(n) -> str:
    """A count as an officer types it: 5.892, 05."""
    n = int(n)
    return f"{n:,}".replace(",", ".") if n >= 10 else f"{n:02d}"


def _pct(p) -> str:
    return f"{p:.2f}".rstrip("0").rstrip(".").replace(".", ",") + "%"


def officer_paragraphs(v: dict) -> dict[str, list[str]]:
    """Block label of sheet Nội dung -> paragraphs stating figures of `v` (code -> number) in other words."""
    out: dict[str, list[str]] = {}

    def add(label: str, text: str) -> None:
        out.setdefault(label, []).append(text)

    if v.get("TT_TIN_MXH"):
        add("Kết quả thông tin, tuyên truyền", f"Đăng tải hơn {_fmt(v['TT_TIN_MXH'])} lượt tin bài trên trang Fanpage của xã.")
    if v.get("TT_TIN_CONG_TTDT"):
        add("Kết quả thông tin, tuyên truyền", f"Cập nhật trên {_fmt(v['TT_TIN_CONG_TTDT'])} tin, bài viết lên Trang thông tin "
                                 "điện tử của xã.")
    if v.get("TT_HOI_NGHI"):
        add("Kết quả thông tin, tuyên truyền", f"Tổ chức {_fmt(v['TT_HOI_NGHI'])} buổi tuyên truyền bằng xe loa lưu động.")
    if v.get("VB_TONG"):
        parts = [(v.get(c), w) for c, w in (("VB_QD", "quyết định"), ("VB_KH", "kế hoạch"), ("VB_CV", "công văn"),
                                            ("VB_TB", "thông báo"), ("VB_TTR", "tờ trình"),
                                            ("VB_KHAC", "văn bản khác")) if v.get(c)]
        add("Kết quả chỉ đạo, điều hành", f"Đã ban hành trên {_fmt(v['VB_TONG'])} văn bản để chỉ đạo công tác cải cách "
                                       "hành chính (" + ", ".join(f"{_fmt(n)} {w}" for n, w in parts) + ").")
    if v.get("HS_TIEP_NHAN") and v.get("HS_TRUC_TUYEN") is not None and v.get("HS_TRONG_KY"):
        share = _pct(round(100 * v["HS_TRUC_TUYEN"] / v["HS_TRONG_KY"], 2)) if v.get("TL_HS_TRUC_TUYEN") is None \
            else _pct(v["TL_HS_TRUC_TUYEN"])
        before = v.get("HS_KY_TRUOC") or 0
        add("Kết quả cải cách thủ tục hành chính", f"Tổng số hồ sơ tiếp nhận là {_fmt(v['HS_TIEP_NHAN'])} hồ sơ"
            + (f" ({_fmt(v['HS_TRONG_KY'])} hồ sơ mới, {_fmt(before)} hồ sơ chuyển sang)" if before else "")
            + f", trong đó trực tuyến {_fmt(v['HS_TRUC_TUYEN'])} hồ sơ, đạt {share}"
            + (f"/{_fmt(v['HS_TRONG_KY'])} hồ sơ" if before else "") + ".")
    if v.get("VNEID_TAI_KHOAN") and v.get("TL_VNEID") is not None:
        add("Chuyển đổi số - phát triển xã hội số", f"Đến nay có {_fmt(v['VNEID_TAI_KHOAN'])}/{_fmt(v.get('DAN_SO') or 13300)} "
                                    f"tài khoản định danh điện tử được kích hoạt, đạt {_pct(v['TL_VNEID'])}.")
    if v.get("CC_BIEN_CHE") and v.get("CC_CO_MAT"):
        add("Kết quả cải cách chế độ công vụ", f"Xã được giao {_fmt(v['CC_BIEN_CHE'])} biên chế công chức, hiện có "
                                       f"{_fmt(v['CC_CO_MAT'])} đồng chí.")
    return out


# Figures each case types on top of its workbook's (the examples), so every class has material.
EXTRA = {"TT_TIN_MXH": 120, "TT_HOI_NGHI": 18, "VNEID_TAI_KHOAN": 12400, "DAN_SO": 13300, "TL_VNEID": 93.23}
TOTAL_THEN_SHARE = {"HS_TIEP_NHAN": 6000, "HS_TRONG_KY": 6000, "HS_KY_TRUOC": 0, "HS_TRUC_TUYEN": 5990,
                    "HS_TRUC_TIEP": 10, "TL_HS_TRUC_TUYEN": 99.83}


def with_corpus(sub, values: dict | None = None):
    """`sub` with `values` typed and the corpus's paragraphs added to sheet Nội dung."""
    sub = copy.copy(sub)
    sub.values = dict(sub.values)
    for code, value in (values or {}).items():
        sub.values[code] = Value(code, value, Loc("Số liệu", "E1"))
    loc = Loc("Nội dung", "A1")
    rows = [Row(700 + i, loc, {"muc": Value("muc", label, loc), "noi_dung": Value("noi_dung", text, loc)})
            for i, (label, text) in enumerate((lb, t) for lb, ts in officer_paragraphs({c: v.value for c, v in sub.values.items()}).items()
                                              for t in ts)]
    sub.lists = {**sub.lists, "noi_dung": [*sub.lists.get("noi_dung", []), *rows]}
    return sub


def cases(folder: Path, form) -> dict[str, object]:
    """name -> Submission: the two samples and two synthetic units, each plain and with the issue's figures."""
    subs = {}
    for f in sample_files():
        path = build(form, folder / f"{f.stem}.xlsx", load_data(f, form))
        subs[f.stem] = read_submission(path, form)
    for path in S.generate(folder / "synth", "6T", 2026, form.units[:2], form=form):
        subs[path.stem] = read_submission(path, form)
    out = {}
    for name, sub in subs.items():
        out[name] = with_corpus(sub)
        out[f"{name}+so_lieu"] = with_corpus(sub, EXTRA)
        out[f"{name}+tong_roi_ty_le"] = with_corpus(sub, {**EXTRA, **TOTAL_THEN_SHARE})
    return out


def report_types(sub, form) -> list[str]:
    return [k.code for k in form.reports.values() if not k.city and (k.periods is None or sub.period in k.periods)]


# ---------------------------------------------------------------- reading a report as a chairman does


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def body(docx: Path) -> list[tuple[str, str]]:
    """(kind, text) of the report's body from its first outline heading to «Trên đây là»: kind is heading
    (all bold or all italic, no closing stop), text, or table (text: its number of rows)."""
    out, started = [], False
    for el in Document(str(docx)).element.body:
        if el.tag == qn("w:tbl"):
            if started:
                out.append(("table", str(len(el.findall(qn("w:tr"))))))
            continue
        text = _norm("".join(t.text or "" for t in el.iter(qn("w:t"))))
        if not text:
            continue
        if text.startswith("Trên đây là"):
            break
        runs = [r for r in el.iter(qn("w:r")) if "".join(t.text or "" for t in r.iter(qn("w:t"))).strip()]

        def on(r, tag):
            p = r.find(qn("w:rPr"))
            x = p.find(qn(tag)) if p is not None else None
            return x is not None and x.get(qn("w:val")) not in ("0", "false")

        heading = bool(runs) and (all(on(r, "w:b") for r in runs) or all(on(r, "w:i") for r in runs)) \
            and text != PLACEHOLDER and not text.endswith((".", ":", ";"))
        started = started or (heading and bool(re.match(r"^(PHẦN [IVX]+|[IVX]+\.)", text)))
        if started:
            out.append(("heading" if heading else "text", text))
    return out


def _level(text: str) -> int:
    for level, pattern in enumerate((r"^PHẦN ", r"^[IVX]+\. ", r"^\d+\. ", r"^\d+(\.\d+)+\.? ")):
        if re.match(pattern, text):
            return level
    return 4


_NOT_A_FACT = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d+[/-][^\W\d_]|\bnăm \d{4}\b|\b\d{4}-\d{4}\b|\bsố:? \d+\b"
                         r"|\b\d+:\d{4}\b|\b(?:quý|Quý) [IV]+\b|\b\d+ tháng\b")
_FACT = re.compile(r"(?<![\d.,])(\d+(?:[.,]\d+)*)(\s*%)?")
_SUBJECTLESS = re.compile(r"^(?:- )?(?:Trong kỳ,? (?:đã )?|Đã )?(?:ban hành|tổ chức(?! bộ máy)|tiếp nhận|thực hiện|"
                          r"triển khai|phát sinh|không phát sinh|đã)\b", re.I)
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")


def facts(text: str) -> set[str]:
    """Counts of 10 or more and percentages; 100% and 0% are words of prose («100% cán bộ …»), not facts."""
    out = set()
    for raw, pct in _FACT.findall(_NOT_A_FACT.sub(" ", text)):
        if pct:
            if raw not in ("100", "0"):
                out.add(f"{raw}%")
            continue
        n = raw.replace(".", "") if re.fullmatch(r"\d{1,3}(\.\d{3})+", raw) else raw
        if n.isdigit() and int(n) >= 10:
            out.add(str(int(n)))
    return out


def _first_fact(text: str) -> str | None:
    for raw, pct in _FACT.findall(_NOT_A_FACT.sub(" ", text)):
        f = facts(raw + (pct or ""))
        if f:
            return next(iter(f))
    return None


def defects(docx: Path, officer: set[str], final: bool = False) -> list[tuple[str, str]]:
    """(class, line) of what a chairman strikes out; `officer` the paragraphs typed in sheet Nội dung."""
    items = body(docx)
    found = []

    def typed(text: str) -> bool:
        return re.sub(r"^(- |\+ |\d+\. )", "", text) in officer or text in officer

    section: list[tuple[str, bool]] = []

    def close() -> None:
        """A fact of a generated line that a typed paragraph of the section states too; a generated line that
        restates the quantity the generated line before it is about (its first fact: the total)."""
        seen: dict[str, set[bool]] = {}
        for text, gen in section:
            for f in facts(text):
                seen.setdefault(f, set()).add(gen)
        for f, gens in seen.items():
            if gens == {True, False}:
                found.append(("lặp số", f"{f}: " + " | ".join(t[:90] for t, g in section if f in facts(t))))
        for (before, g1), (after, g2) in zip(section, section[1:]):
            lead = _first_fact(before)
            # (a list of like items, "+ …: 24 điểm; + …: 24 điểm", each leads with its own)
            if g1 and g2 and lead and lead in facts(after) and _first_fact(after) != lead:
                found.append(("lặp số", f"{lead}: {before[:90]} | {after[:90]}"))

    previous, under_lead = "", False  # under a lead line ("Kết quả …:"): the lines are a list, no sentences
    for i, (kind, text) in enumerate(items):
        if kind == "heading":
            close()
            section, under_lead = [], False
            nxt = items[i + 1] if i + 1 < len(items) else None
            level = _level(text)
            if nxt is None or (nxt[0] == "heading" and (_level(nxt[1]) <= level if level < 4
                                                        else _level(nxt[1]) in (0, 1, 4))):
                found.append(("tiêu đề trống", text))
            previous = text
            continue
        if kind == "table":
            if final and text == "1":
                found.append(("chỗ trống trong bản chính thức", "bảng chỉ có dòng tiêu đề"))
            continue
        if text == PLACEHOLDER:
            if final:
                found.append(("chỗ trống trong bản chính thức", previous))
            continue
        gen = not typed(text)
        section.append((text, gen))
        under_lead = under_lead or previous.endswith(":")
        if gen:
            if _SUBJECTLESS.match(text) and not under_lead:
                found.append(("câu không chủ ngữ", text))
            for d, m, y in _DATE.findall(text):
                if len(d) != 2 or (len(m) != 2 if int(m) < 3 else m.startswith("0")):
                    found.append(("ngày sai NĐ 30", f"{d}/{m}/{y}: {text[:90]}"))
        previous = text
    close()
    return found


def read_corpus(folder: Path, form, refused: list[str] | None = None) -> dict[str, list[tuple[str, str]]]:
    """name of report -> its defects, for every case and report type, draft and final; `refused` hears of the
    final reports refused (errors in what they print, or sections to fill)."""
    out = {}
    for name, sub in cases(folder, form).items():
        officer = {_norm(r.get("noi_dung")) for r in sub.lists.get("noi_dung", []) if r.get("noi_dung")}
        officer |= {t if t.endswith((".", ":", ";", "!", "?")) else t + "." for t in officer}
        for loai in report_types(sub, form):
            draft = render_report(sub, loai, folder / f"{name}_{loai}_du_thao.docx", draft=True)[0]
            out[f"{name} {loai} (dự thảo)"] = defects(draft, officer)
            try:
                final = render_report(sub, loai, folder / f"{name}_{loai}.docx")[0]
            except BaocaoError as refusal:  # errors in what it prints, or sections to fill: nothing written
                assert not (folder / f"{name}_{loai}.docx").exists(), (name, loai)
                assert str(refusal).strip(), (name, loai)
                if refused is not None:
                    refused.append(f"{name} {loai}")
                continue
            out[f"{name} {loai}"] = defects(final, officer, final=True)
    return out


# ---------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, form):
    return read_corpus(tmp_path_factory.mktemp("corpus"), form)


def test_the_reading_catches_each_class(tmp_path):
    """Guard: each class, as the issue quotes it, is caught; the seeds' way of saying a fact once is not."""
    from docx import Document as New
    doc = New()
    for text, bold in (("I. CÔNG TÁC CHỈ ĐẠO", True), ("1. Về công tác chỉ đạo", True),
                       ("Đăng tải hơn 120 lượt tin bài trên trang Fanpage của xã.", False),
                       ("- Bài đăng trên mạng xã hội: hơn 120 bài.", False),
                       ("- Trong kỳ đã ban hành 80 văn bản chỉ đạo, điều hành về cải cách hành chính.", False),
                       ("- Tổng số hồ sơ tiếp nhận là 6.000 hồ sơ.", False),
                       ("- Hồ sơ tiếp nhận trực tuyến trên tổng hồ sơ tiếp nhận trong kỳ là 5.990/6.000 hồ sơ, đạt "
                        "99,83%.", False),
                       ("2. Về công tác kiểm tra", True), ("3. Về tuyên truyền", True),
                       (PLACEHOLDER, False), ("- Kết quả từ ngày 15/12/2025 đến hết ngày 14/06/2026.", False),
                       ("Trên đây là báo cáo.", False)):
        doc.add_paragraph().add_run(text).bold = bold
    doc.save(tmp_path / "x.docx")
    officer = {"Đăng tải hơn 120 lượt tin bài trên trang Fanpage của xã."}
    kinds = Counter(k for k, _ in defects(tmp_path / "x.docx", officer, final=True))
    assert kinds == Counter({"lặp số": 2, "câu không chủ ngữ": 1, "tiêu đề trống": 1,
                             "chỗ trống trong bản chính thức": 1, "ngày sai NĐ 30": 1}), kinds
    good = New()
    for text, bold in (("I. CÔNG TÁC CHỈ ĐẠO", True), ("1. Về công tác chỉ đạo", True),
                       ("6 tháng đầu năm 2026, Ủy ban nhân dân xã Nghi Dương đã ban hành 80 văn bản.", False),
                       ("- Tổng số hồ sơ tiếp nhận là 6.000 hồ sơ, trong đó trực tuyến 5.990 hồ sơ, đạt 99,83%.",
                        False), ("Quyết định số 12/QĐ-UBND ngày 09/01/2026, ngày 05/3/2020 và 31/5/2026.", False),
                       ("Trên đây là báo cáo.", False)):
        good.add_paragraph().add_run(text).bold = bold
    good.save(tmp_path / "y.docx")
    assert defects(tmp_path / "y.docx", set(), final=True) == []


def test_the_corpus_reads_as_a_chairman_signs_it(corpus):
    assert len(corpus) >= 30
    assert {name: found for name, found in corpus.items() if found} == {}


def test_a_final_report_without_content_is_refused_naming_its_sections(tmp_path, form):
    """The sample's sơ kết from a workbook without sơ kết content: exit 1, the sections to fill listed."""
    from toolkit.reports.render import ReportEmpty
    f = next(p for p in sample_files() if p.stem.startswith("nghi_duong"))
    data = load_data(f, form)
    data["danh_sach"]["noi_dung"] = [r for r in data["danh_sach"]["noi_dung"]
                                     if not str(r.get("muc", "")).startswith(("Chính quyền 02 cấp", "Khó khăn", "Kiến nghị"))]
    data["danh_sach"]["van_ban"] = []  # the sample's own document errors aside
    sub = read_submission(build(form, tmp_path / "khong_so_ket.xlsx", data), form)
    with pytest.raises(ReportEmpty) as refused:
        render_report(sub, "so-ket-2-cap", tmp_path / "so_ket.docx")
    assert refused.value.exit_code == 1 and not (tmp_path / "so_ket.docx").exists()
    message = str(refused.value)
    for section in ("2. Về sắp xếp tổ chức bộ máy", "II. KHÓ KHĂN, VƯỚNG MẮC", "III. KIẾN NGHỊ, ĐỀ XUẤT"):
        assert section in message, message
    draft = render_report(sub, "so-ket-2-cap", tmp_path / "so_ket_du_thao.docx", draft=True)[0]
    assert sum(text == PLACEHOLDER for _, text in body(draft)) >= 3  # marked where the text is to come
    # `baocao kiem-tra` (and the Kiểm tra button) warns of the same sections, at the type's row of sheet Báo cáo
    warned = [f for f in empty_findings(sub, form) if f.values["loai"] == "so-ket-2-cap"]
    assert warned and all(f.severity == "warning" and f.sheet == "Báo cáo" for f in warned)
    assert [f.message.split("mục «")[1].split("» chưa")[0] for f in warned] == refused.value.sections
    out = subprocess.run([sys.executable, "-m", "toolkit.cli", "kiem-tra", str(sub.path)], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0 and out.stdout.count("muc-chua-co-noi-dung") == len(warned), out.stdout


if __name__ == "__main__":  # the count of each class over the corpus, and each defect
    with tempfile.TemporaryDirectory() as tmp:
        refusals: list[str] = []
        result = read_corpus(Path(tmp), load_form(), refusals)
    counts = Counter(k for found in result.values() for k, _ in found)
    print(f"báo cáo đã lập: {len(result)} (bản chính thức bị từ chối: {len(refusals)})")
    for k in CLASSES:
        print(f"{k:35s} {counts.get(k, 0)}")
    if "-v" in sys.argv:
        for name, found in sorted(result.items()):
            for k, line in found:
                print(f"{name} | {k} | {line[:200]}")
