"""The docxtpl context of every report: metadata, Vietnamese numbers, citations, sentences, text blocks.

Templates only place what is built here. The wording of generated sentences is in
definition/sentences.yaml (toolkit.reports.sentences renders it); this module gives it the
figures: numbers through toolkit.vnformat, the indicator's phrase and qualifier
("trên 450 tin bài"), ratios from counts with round half-up, and a typed percentage
always as typed: a number in a signed report is the one in the workbook, and one
that disagrees with its counts is a checker finding to fix.
"""
from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any, Iterable

from toolkit.check import citation as document_reference
from toolkit.definition import Form, ReportDef, load_form
from toolkit.intake import Submission
from toolkit.reports.scope import identity, own_figures, scoped, texts
from toolkit.reports.sentences import blocks_of, num
from toolkit.reports.sentences import sentences as generated
from toolkit.reports.windows import Window, figure_windows
from toolkit.vnformat import fmt_date, fmt_date_header, fmt_percent, round_half_up

BLANK_DAY = "ngày    tháng    năm"
QUARTERS = ("Quý I", "Quý II", "Quý III", "Quý IV")
# Kinds of unit as they start the name in don_vi.csv, longest first ("Đặc khu" before "Xã").
UNIT_KINDS = ("Đặc khu", "Phường", "Xã")


# ---------------------------------------------------------------- numbers


def _value(sub: Submission, code: str) -> Any:
    """An indicator value, with the one derived total the seeds write either way (trước + đúng hạn)."""
    v = sub.get(code)
    if v is None and code == "HS_TRUOC_DUNG_HAN":
        parts = [sub.get("HS_TRUOC_HAN"), sub.get("HS_DUNG_HAN")]
        if any(p is not None for p in parts):
            v = sum(p or 0 for p in parts)
    return v


def percent(sub: Submission, code: str, form: Form) -> str | None:
    """The percentage to print for a ratio indicator: as typed, else from its counts (half-up), or None."""
    typed = sub.get(code)
    if typed is not None:
        return stated_percent(sub, code)
    field = form.indicator(code)
    if field.ratio:
        n, d = _value(sub, field.ratio[0]), _value(sub, field.ratio[1])
        if n is not None and d:
            return fmt_percent(round_half_up(100 * n / d, 2), fixed=True)
    return None


def stated_percent(sub: Submission, code: str) -> str:
    """A typed percentage with its qualifier: "trên 98%"."""
    q = sub.qualifiers.get(code)
    return f"{q} {fmt_percent(sub.get(code))}" if q else fmt_percent(sub.get(code))


def stated(sub: Submission, form: Form, code: str) -> str | None:
    """A count as a person writes it: "12 quyết định", "trên 450 tin bài" (phrase and qualifier are data)."""
    v = sub.get(code)
    if v is None:
        return None
    f = form.indicator(code)
    text = (f.phrase or "{n} " + f.unit).format(n=num(v)).strip()
    q = sub.qualifiers.get(code)
    return f"{q} {text}" if q else text


def ratios(sub: Submission, form: Form, codes: Iterable[str], windows: dict | None = None) -> dict[str, dict[str, str]]:
    """The declared ratios a report states: {code: {ty_le, tu, mau, thoi_gian}}; the officer's typed value when
    present. A rate typed for another window than its counts comes alone, with its window: never beside
    counts it was not computed from."""
    out = {}
    windows = windows or {}
    for code in codes:
        r = form.ratios[code]
        n, d = _value(sub, r.of[0]), _value(sub, r.of[1])
        typed = sub.get(r.typed) if r.typed else None
        window = windows.get(r.typed) if typed is not None else windows.get(r.of[0])
        if typed is not None:
            text = stated_percent(sub, r.typed)
            if any(windows.get(c) != window for c in r.of):
                n = d = None
        elif n is not None and d and windows.get(r.of[0]) == windows.get(r.of[1]):  # never across two windows
            text = fmt_percent(round_half_up(100 * n / d, r.decimals), r.decimals, fixed=True)
        else:
            continue
        out[code] = {"ty_le": text, "tu": num(n) if n is not None else "", "mau": num(d) if d else "",
                     "thoi_gian": window.phrase() if window else ""}
    return out



# ---------------------------------------------------------------- metadata


def unit_names(full: str | None) -> dict[str, str]:
    """"Xã Nghi Dương" -> kind "xã", bare "Nghi Dương", upper "XÃ NGHI DƯƠNG", lower "xã Nghi Dương"."""
    full = (full or "").strip()
    kind = next((k for k in UNIT_KINDS if full.casefold().startswith(k.casefold() + " ")), "")
    bare = full[len(kind):].strip() if kind else full
    kind_l = kind.lower() or "xã"
    return {"ten": full, "ten_hoa": full.upper(), "ten_thuong": f"{kind_l} {bare}".strip(), "ten_rieng": bare,
            "loai": kind_l, "ubnd": f"Ủy ban nhân dân {kind_l}", "ubnd_day_du": f"Ủy ban nhân dân {kind_l} {bare}"}


def period(sub: Submission) -> dict[str, str]:
    """Names of the period and of the next one, as the trích yếu and headings write them."""
    return period_names(sub.period or "", sub.year or "", sub.window)


def period_names(label: str, year: int | str, window: tuple[date | None, date | None] = (None, None)) -> dict:
    """`period` for a period label and year (the city report has no single workbook)."""
    if label in QUARTERS:
        i = QUARTERS.index(label)
        # "quý I": only the word is lower case, the Roman numeral stays upper.
        nxt = f"quý {QUARTERS[(i + 1) % 4].split()[1]} năm {year if i < 3 else int(year) + 1}"
        name = f"quý {label.split()[1]} năm {year}"
    elif label == "6 tháng đầu năm":
        name, nxt = f"6 tháng đầu năm {year}", f"6 tháng cuối năm {year}"
    elif label == "9 tháng":
        name, nxt = f"9 tháng năm {year}", f"quý IV năm {year}"
    elif label == "Năm":
        name, nxt = f"năm {year}", f"năm {int(year) + 1 if year else ''}".strip()
    else:
        name, nxt = f"năm {year}".strip(), "thời gian tới"
    start, end = window
    return {"ten": name, "ten_hoa": name.upper(), "ky_toi": nxt, "ky_toi_hoa": nxt.upper(), "nhan": label,
            "nam": str(year), "tu_ngay": fmt_date(start) if start else "", "den_ngay": fmt_date(end) if end else "",
            "la_quy": label in QUARTERS}


def dateline(place: str, signed: date | None, year: Any) -> str:
    """"Nghi Dương, ngày 05 tháng 01 năm 2026", or blanks to fill by hand when not yet dated."""
    if signed:
        return fmt_date_header(signed, place)
    return f"{place}, {BLANK_DAY} {year}".strip(", ")


def report_number(raw: Any, symbol: str) -> str:
    """"Số: 05/BC-UBND"; blanks when the number is not yet taken."""
    text = str(raw or "").strip()
    if text.isdigit() and int(text) < 10:
        text = f"{int(text):02d}"
    return f"Số: {text or '      '}/{symbol}"


def recipients(raw: str | None) -> list[str]:
    """One "- …;" line each, the last ending with "." and a "Lưu: VT" line always present."""
    lines = [ln.strip().lstrip("-–+ ").rstrip(";.").strip() for ln in (raw or "").splitlines()]
    lines = [ln for ln in lines if ln]
    if not any(ln.casefold().startswith("lưu") for ln in lines):
        lines.append("Lưu: VT")
    return [f"- {ln}{'.' if i == len(lines) - 1 else ';'}" for i, ln in enumerate(lines)]


def signature(title: str | None, form: Form) -> list[str]:
    """Lines above the signer's name for a chuc_vu_ky choice: TM./KT. and the title (form.yaml)."""
    choice = form.choice_by_label("chuc_vu_ky", title or "") or form.choices["chuc_vu_ky"][0]
    return [str(x) for x in choice.extra.get("signature", [choice.label.upper()])]


# ---------------------------------------------------------------- documents


def citation(row, issuer_default: str, with_issuer: bool = True) -> str:
    """"Quyết định số 12/QĐ-UBND ngày 09/01/2026 của Ủy ban nhân dân xã về việc …"."""
    text = document_reference(row)
    if with_issuer:
        text += f" của {row.get('co_quan') or issuer_default}"
    if row.get("trich_yeu"):
        text += f" {row.get('trich_yeu').strip().rstrip('.;')}"
    return text


def document_sentences(rows: list, unit: dict[str, str]) -> list[str]:
    """Up to two sentences citing a group of documents: those received, then those the unit issued."""
    outside = [r for r in rows if r.get("co_quan")]
    own = [r for r in rows if not r.get("co_quan")]
    out = []
    if outside:
        out.append("Thực hiện " + "; ".join(citation(r, unit["ubnd"]) for r in outside) + ".")
    if own:
        out.append(f"{unit['ubnd']} đã ban hành " + "; ".join(citation(r, unit["ubnd"], False) for r in own) + ".")
    return out


# A count or a percentage as a fact: "12.400", "93,2%"; dates, document numbers ("số 12/QĐ-UBND") and years are
# taken out before (the window a sentence was counted over, the period it names).
_NOT_A_FACT = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d+[/-][^\W\d_]|\bnăm \d{4}\b|\b\d{4}-\d{4}\b"
                   r"|\bsố:? \d+\b|\b\d+:\d{4}\b|\b\d+ tháng\b")
_AMOUNT = re.compile(r"(?<![\d.,])(\d+(?:[.,]\d+)*)(\s*%)?")


def amounts(text: str) -> list[str]:
    """The facts a text states by number alone, whatever noun goes with them, in its order: counts of 10 or more
    ("5.892", "hơn 120") and percentages ("99,2%"); a smaller count needs its noun to be the same fact (figures)."""
    out = []
    for raw, pct in _AMOUNT.findall(_NOT_A_FACT.sub(" ", text)):
        if pct:
            out.append(re.sub(r"^0+(?=\d)", "", raw) + "%")
            continue
        digits = raw.replace(".", "") if re.fullmatch(r"\d{1,3}(\.\d{3})+", raw) else raw
        if digits.isdigit() and int(digits) >= 10:
            out.append(str(int(digits)))
    return list(dict.fromkeys(out))


_FIGURE = re.compile(r"(\d+(?:[.,/]\d+)*)(?:\s*(%|[^\W\d_]+))?")


# Words that count people: "20 viên chức" in a paragraph about recruitment states "Tuyển dụng: 20 người".
_PEOPLE = {"người", "viên", "công", "cán", "đồng", "đ", "lao", "cbcc", "cbccvc"}
# Words too common to tie a generated sentence to a paragraph.
_COMMON = {"số", "trong", "kỳ", "báo", "cáo", "là", "của", "và", "có", "được", "đã", "các", "tổng", "đến", "xã",
           "ủy", "ban", "nhân", "dân", "ubnd", "thời", "điểm", "năm", "tháng"}
_WORD = re.compile(r"[^\W\d_]+")


def figures(text: str) -> set[tuple[str, str]]:
    """The figures a text states as (number, the word after it): "05 hồ sơ" -> ("5", "hồ").

    Leading zeros are dropped ("05" and "5" are one figure); the word keeps "53 hồ sơ"
    apart from the "53" of "Quyết định số 53/QĐ-UBND"."""
    return {(re.sub(r"(?<!\d)0+(?=\d)", "", n), (w or "").casefold()) for n, w in _FIGURE.findall(text)}


def _people(figs: set[tuple[str, str]]) -> set[str]:
    return {n for n, w in figs if w in _PEOPLE}


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


def _pairs(text: str) -> set[tuple[str, str]]:
    """Consecutive word pairs: a phrase, where single words would match any long paragraph."""
    words = [w.casefold() for w in _WORD.findall(_NOT_A_FACT.sub(" ", text))]
    words = [w for w in words if w not in _COMMON]  # "Quý I năm 2026, Ủy ban nhân dân xã …": the lead says no fact
    return set(zip(words, words[1:]))


def _drop_repeated(sentences: dict[str, list[str]], officer: list[str],
                   blocks: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """Leave out a generated sentence that the officer's own paragraphs in this report already say. A figure is
    said when a paragraph states the same number with the same word, or a count of people in a paragraph that
    shares a word of the sentence's topic ("20 viên chức" where the paragraph is about "tuyển dụng"); a sentence
    without figures ("… trong kỳ báo cáo: Không.") when one paragraph holds three in four of its word pairs.
    The seeds' officers often type the figure into their paragraph, and printing it twice (worse, twice with different
    wording) is what a reader flags first."""
    paragraphs = [(figures(p), _people(figures(p)), _words(p)) for p in officer]
    phrases = [_pairs(p) for p in officer]
    told = {key: {a for p in paras for a in amounts(p)} for key, paras in (blocks or {}).items()}

    def by_number(x: str, key: str) -> bool:
        """The quantity `x` is about (its first count of 10 or more or percentage: "Tổng số hồ sơ tiếp nhận là
        6.000 hồ sơ, …") is stated by the officer's paragraphs of the blocks `key` is printed with, whatever
        noun they use; the officer wrote that fact, so the line would say it a second time."""
        big = amounts(x)
        return bool(big) and big[0] in told.get(key, set())

    def repeated(x: str) -> bool:
        # a date (dd/mm/yyyy) is the window the sentence was counted over, not one of its figures
        figs, words = {(n, w) for n, w in figures(_NOT_A_FACT.sub(" ", x)) if n.count("/") != 2}, _words(x)
        if not figs:
            pairs = _pairs(x)
            return len(pairs) >= 4 and any(len(pairs & p) >= 0.75 * len(pairs) for p in phrases)
        topic = words - _COMMON - _PEOPLE

        def said(n: str, w: str) -> bool:
            return any((n, w) in f or (w in _PEOPLE and n in people and topic & pw)
                       for f, people, pw in paragraphs)

        return all(said(n, w) for n, w in figs)

    return {key: [x for x in items if not (repeated(x) or by_number(x, key))] for key, items in sentences.items()}


def _own_window(view: Submission, form: Form, codes: set[str], windows: dict | None = None,
                own: Window | None = None) -> dict[str, list[str]]:
    """A report's own figures (another window than the period's) per section of the definition:
    "Tổng số hồ sơ tiếp nhận: 10.893 hồ sơ", "Tỷ lệ hồ sơ giải quyết quá hạn: 0,07% (nguyên nhân …)"; a figure
    counted over another window than the report's says which ("… (tính đến ngày 31/5/2026): 36 người")."""
    out: dict[str, list[str]] = {s.id: [] for s in form.sections}
    windows = windows or {}
    for f in form.indicators:
        if f.code in codes:
            value = stated_percent(view, f.code) if f.type == "percent" else stated(view, form, f.code)
            note = view.remarks.get(f.code)
            window = windows.get(f.code)
            when = f" ({window.phrase()})" if window and window != own and window.phrase() else ""
            out[f.section].append(f"{f.label}{when}: {value}" + (f" ({note})" if note else ""))
    return out


# Lines of a list under a lead ("Kết quả giải quyết thủ tục hành chính …:") are always bulleted.
_LISTED = ("tthc",)


def _bullets(nd: dict[str, list[str]], form: Form) -> dict[str, str]:
    """Group of sentences -> the bullet its generated lines take: the style of the officer's paragraphs of its
    area, so one area reads in one style ("- " when the officer's lines are "- " or "+ " lines, or when there is
    no paragraph of the officer's; none beside the officer's plain paragraphs)."""
    out = {}
    for name, codes in blocks_of(form).items():
        own = nd.get(codes[0], []) if codes else []
        plain = own and not all(p.lstrip().startswith(("-", "+", "–")) for p in own)
        out[name] = "" if plain and name not in _LISTED else "- "
    return out


def _sentence_values(sub: Submission, form: Form, kind: ReportDef, ky: dict) -> dict[str, Any]:
    """What the templates of sentences.yaml read (its head lists them), from one submission's values."""
    percents = [f.code for f in form.indicators if f.type == "percent"]
    return {
        "n": {f.code: sub.get(f.code) for f in form.indicators},
        "so": {f.code: stated(sub, form, f.code) for f in form.indicators},
        "pt": {code: percent(sub, code, form) for code in percents},
        # the ratios this report type states (form.yaml reports › ratios), and any the officer typed
        "tl": {code: ratios(sub, form, [code]).get(code) if code in kind.ratios or _typed(sub, form, code) else None
               for code in form.ratios},
        "ten": {f.code: f.label for f in form.indicators},
        "ghi_chu": {f.code: sub.notes.get(f.code) for f in form.indicators},
        "ky": ky,
        "dv": unit_names(sub.unit_name),
        "qua_han": [{c: r.get(c) for c in ("so_ho_so", "linh_vuc", "nguyen_nhan")}
                    for r in sub.lists.get("ho_so_qua_han", [])],
    }


def _typed(sub: Submission, form: Form, ratio: str) -> bool:
    typed = form.ratios[ratio].typed
    return bool(typed) and sub.get(typed) is not None


def _all_blocks(form: Form) -> ReportDef:
    """A report type carrying every block and ratio: the context of a template outside the definition."""
    return ReportDef("", "", "", "", blocks=tuple(c.code for c in form.choices["muc_noi_dung"]),
                     ratios=tuple(form.ratios))


def unit_context(sub: Submission, form: Form | None = None, kind: ReportDef | None = None) -> dict[str, Any]:
    """Everything a unit report template may use (documented in templates/README.md), for report `kind`."""
    form = form or load_form()
    kind = kind or _all_blocks(form)
    ident = identity(sub, kind, form)
    sub = scoped(sub, kind, form)
    unit = unit_names(sub.unit_name)
    ky = period(sub)
    place = sub.get("DIA_DANH") or unit["ten_rieng"]
    start, end = sub.window
    docs = sub.lists.get("van_ban", [])
    groups = {c.code: [r for r in docs if r.get("nhom") == c.label] for c in form.choices["nhom_noi_dung"]}
    nd = texts(sub, kind, form)
    cqtt_rows = sub.lists.get("cqtt", [])
    windows = figure_windows(sub, kind, form)
    workbook = Window(start, end)
    views: dict[Any, dict] = {}

    def view(window: Window | None) -> dict:
        """The sentences' values of the figures counted over `window` only (None: the workbook's)."""
        if window not in views:
            part = copy.copy(sub)
            part.values = {c: v for c, v in sub.values.items() if windows.get(c) == window}
            views[window] = _sentence_values(part, form, kind, ky)
        return views[window]

    sentences = generated(sub, form, _sentence_values(sub, form, kind, ky), windows, view,
                          {"tthc": windows.get("HS_TIEP_NHAN")}, workbook)
    recalls = {c.code for c in form.choices["muc_noi_dung"] if c.extra.get("recalls")}
    officer = [x for code, block in nd.items() if code not in recalls for x in block]
    # the officer's paragraphs of the blocks each group of sentences is printed with
    beside = {name: [x for code in codes for x in nd.get(code, [])] for name, codes in blocks_of(form).items()}
    own_window = Window(ident.start, ident.end)
    cqtt = _cqtt(cqtt_rows, form, sub.get("CQTT_MUC_DANG_KY"), nd.get("KQ_CQTT_CHI_DAO", []))
    if cqtt["sau_doan"] is not None:  # "… gồm 4 tiêu chí:" and the list under it
        block = list(nd["KQ_CQTT_CHI_DAO"])
        block[cqtt["sau_doan"]] = block[cqtt["sau_doan"]].rstrip(".") + ":"
        nd = {**nd, "KQ_CQTT_CHI_DAO": block}
    return {
        "don_vi": unit,
        "co_quan_chu_quan": "ỦY BAN NHÂN DÂN",
        "co_quan": unit["ten_hoa"],
        "so_ky_hieu": report_number(ident.number, "BC-UBND"),
        "dia_danh_ngay": dateline(place, ident.signed, end.year if end else sub.year),
        "ky": ky,
        "ky_ky": signature(ident.title, form),
        "nguoi_ky": ident.signer,
        "noi_nhan": recipients(ident.recipients),
        "dong_phu": ident.subtitle,
        "nd": nd,
        "vb": {code: document_sentences(rows, unit) for code, rows in groups.items()},
        "vb_ds": {code: [citation(r, unit["ubnd"]) for r in rows] for code, rows in groups.items()},
        "cau": _drop_repeated(sentences, officer, beside),
        "gach": _bullets(nd, form),
        "ty_le": ratios(sub, form, kind.ratios, windows),
        "rieng": _own_window(sub, form, own_figures(sub, kind, form), windows, own_window),
        # the own figures' lead names a span (from a first day) only: a report's end alone is its date
        "rieng_thoi_gian": own_window.phrase() if own_window.start else "",
        "tthc_thoi_gian": " ".join(("Kết quả giải quyết thủ tục hành chính",
                                    (windows.get("HS_TIEP_NHAN") or workbook).phrase(to_the_end=True))).strip() + ":",
        "cqtt": cqtt,
    }


def _score(x: Any) -> str:
    return "" if x is None else num(x)


def _level_text(level: dict | None) -> str:
    """"Mức 2 (đạt từ 85 đến dưới 90 điểm)" from a level of form.yaml cqtt.levels."""
    if not level:
        return ""
    return f"{level['label']} (đạt từ {num(level['min'])} đến dưới {num(level['below'])} điểm)"


def _cqtt(rows: list, form: Form, registered: str | None = None, officer: list[str] = ()) -> dict[str, Any]:
    """Criteria with points, self-scores when typed, and the unmet sub-criteria of seed 004's table; the line
    introducing the criteria unless the officer's own paragraph already says it: then the list follows that
    paragraph (`sau_doan`, its index), which ends with a colon as in seed 004."""
    unmet = [r for r in rows
             if (r.get("diem_tu_cham") is not None and r.get("diem_toi_da") is not None
                 and r.get("diem_tu_cham") < r.get("diem_toi_da"))
             or (r.get("diem_tu_cham") is None and r.get("ly_do"))]
    criteria = []
    for c in form.cqtt_criteria:
        mine = [r for r in rows if r.get("tieu_chi") == c.label]
        scored = [r.get("diem_tu_cham") for r in mine if r.get("diem_tu_cham") is not None]
        criteria.append({"ten": c.label, "diem_toi_da": num(c.extra["max"]), "ma": c.code,
                         "diem_tu_cham": _score(sum(scored)) if scored and len(scored) == len(mine) else ""})
    scores = [r.get("diem_tu_cham") for r in rows]
    total = sum(scores) if rows and all(s is not None for s in scores) else None
    level = next((lv for lv in form.cqtt_levels if total is not None and lv["min"] <= total < lv.get("below", 101)), None)
    scale = num(sum(c.extra["max"] for c in form.cqtt_criteria))
    intro = f"Bảng tiêu chí chấm điểm theo thang điểm {scale} gồm {len(criteria)} tiêu chí:"
    after = next((i for i, p in enumerate(officer) if not _drop_repeated({"x": [intro]}, [p])["x"]), None)
    return {
        "tieu_chi": criteria,
        "gioi_thieu": intro if after is None else "",
        "sau_doan": after,
        "tong_diem_toi_da": scale,
        "tong_diem_tu_cham": _score(total),
        "muc_dat": _level_text(level),
        "muc_dang_ky": _level_text(next((lv for lv in form.cqtt_levels if lv["label"] == registered), None)),
        "chua_dat": [{"stt": i, "tieu_chi_thanh_phan": r.get("tieu_chi_thanh_phan") or "",
                      "diem_toi_da": _score(r.get("diem_toi_da")), "diem_tu_cham": _score(r.get("diem_tu_cham")),
                      "don_vi_chu_tri": r.get("don_vi_chu_tri") or "", "ly_do": r.get("ly_do") or ""}
                     for i, r in enumerate(unmet, start=1)],
        "da_cham": bool(rows),
    }
