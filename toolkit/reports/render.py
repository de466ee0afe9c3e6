"""Word reports from intake workbooks: six report types over five docxtpl templates.

Each template is compiled once (`CompiledTemplate`) and rendered many times: the XML
clean-up and the Jinja compilation of a report body cost far more than filling it,
so a batch of 114 units pays them once. Rendering uses autoescape (a "&" or "<" typed
in Excel stays text) and StrictUndefined (a variable missing from the context stops
the render with a Vietnamese message naming it, never an empty hole in a report).
"""
from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable

import jinja2
from docxtpl import DocxTemplate
from jinja2 import meta
from lxml import etree

from toolkit import shipped
from toolkit.atomic import atomic_path
from toolkit.check import check_file, check_read
from toolkit.definition import ERROR, SEVERITY_VI, WARNING, Finding, Form, Report, ReportDef, catalogue, load_form
from toolkit.errors import BaocaoError
from toolkit.intake import Submission, read_submission
from toolkit.reports.blocking import printed, split
from toolkit.reports.context import unit_context
from toolkit.reports.emptiness import empty_sections
from toolkit.reports.office import to_pdf
from toolkit.reports.scope import fed_types, stopped
from toolkit.vnformat import NOT_XML, fmt_count, fmt_date, fmt_number, fmt_percent, xml_safe

Aside = Callable[[Submission, list[Finding]], None]  # hears of a workbook's errors that do not stop a report


class ReportRefused(BaocaoError):
    """A report asked from a workbook that still has errors: the findings are the message, exit code 1."""

    exit_code = 1

    def __init__(self, sub: Submission, errors: list[Finding]):
        self.findings = errors
        lines = "\n".join(f"- {f.where or f.file}: {f.message}" for f in errors)
        super().__init__(f"phiếu còn {len(errors)} lỗi nên chưa lập báo cáo; sửa các lỗi sau rồi lập lại (hoặc "
                         f"lập bản dự thảo với --du-thao):\n{lines}", path=str(sub.path))


class ReportEmpty(BaocaoError):
    """A final report whose template would print a section with nothing in it: refused like a report with errors
    (exit code 1), naming the sections to fill; a draft (--du-thao) prints them marked."""

    exit_code = 1

    def __init__(self, sub: Submission, loai: str, sections: list[str]):
        self.sections = sections
        lines = "\n".join(f"- {x}" for x in sections)
        super().__init__(f"báo cáo «{loai}» còn {len(sections)} mục chưa có nội dung nên chưa lập; nhập đoạn văn "
                         f"cho các mục sau ở sheet «Nội dung» (cột «Dùng cho báo cáo» để trống hoặc ghi «{loai}»), "
                         f"hoặc các dòng của bảng, rồi lập lại (hoặc lập bản dự thảo với --du-thao, các mục này "
                         f"được đánh dấu):\n{lines}", path=str(sub.path))


def report_type(code: str, form: Form | None = None) -> ReportDef:
    form = form or load_form()
    try:
        return form.reports[code]
    except KeyError:
        raise BaocaoError(f"loại báo cáo «{code}» không có; chọn một trong: {', '.join(form.reports)}") from None


# ---------------------------------------------------------------- Jinja environment and compiled templates


def _filters() -> dict[str, Any]:
    """Filters a city admin may use in Word templates (listed in templates/README.md)."""
    return {"so": lambda x: "" if x is None else fmt_number(x), "so_dem": lambda x: "" if x is None else fmt_count(x),
            "phan_tram": lambda x: "" if x is None else fmt_percent(x),
            "ngay": lambda d: "" if d is None else fmt_date(d), "hoa": lambda s: str(s).upper(),
            "lien": unbroken_year}


def unbroken_year(text: str) -> str:
    """A period name ("6 tháng đầu năm 2026") joined by non-breaking spaces: a title breaks before or after
    it, never inside it, so no title line is left holding "2026" or "đầu năm 2026" alone."""
    return str(text).replace(" ", "\u00a0")


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters.update(_filters())
    return env


def template_path(name: str) -> Path:
    return shipped("templates") / name


def _prepare(xml: str) -> str:
    # docxtpl splits paragraphs onto lines before compiling (its error context relies on it); do the same
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)


def _finish(xml: str) -> str:
    xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
    return xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")


class CompiledTemplate:
    """A .docx template whose body and headers are cleaned and compiled once, rendered many times."""

    def __init__(self, path: Path, env: jinja2.Environment | None = None):
        self.path = Path(path)
        if not self.path.exists():
            raise BaocaoError(f"không tìm thấy mẫu báo cáo {self.path.name} (thư mục templates/ của gói cài đặt)",
                              path=str(self.path))
        self.env = env or make_env()
        self.blob = self.path.read_bytes()
        probe = DocxTemplate(io.BytesIO(self.blob))
        probe.init_docx()
        sources = [_prepare(probe.patch_xml(probe.get_xml()))]
        self.parts: dict[str, tuple[jinja2.Template, str]] = {}
        try:
            self.body = self.env.from_string(sources[0])
            for uri in (DocxTemplate.HEADER_URI, DocxTemplate.FOOTER_URI):
                for _, part in probe.get_headers_footers(uri):
                    xml = probe.get_part_xml(part)
                    src = _prepare(probe.patch_xml(xml))
                    sources.append(src)
                    self.parts[str(part.partname)] = (self.env.from_string(src),
                                                      probe.get_headers_footers_encoding(xml))
        except jinja2.TemplateSyntaxError as exc:
            raise BaocaoError(f"mẫu báo cáo sai cú pháp ở dòng {exc.lineno}", path=str(self.path),
                              detail=str(exc.message)) from None
        self.variables = set().union(*(meta.find_undeclared_variables(self.env.parse(s)) for s in sources))
        # (name, attribute) pairs it places: ("cau", "tthc") a group of sentences, ("vb", "CD") a group of documents
        self.references = set(re.findall(r"\b(cau|vb|vb_ds)\.(\w+)", "".join(sources)))
        # Fast path material: the package's members as bytes and document.xml around <w:body>.
        # docxtpl would re-open and re-save the whole package with python-docx for every report;
        # a report only changes the body and the headers, so the other parts are copied as they are.
        with zipfile.ZipFile(io.BytesIO(self.blob)) as zf:
            self.members = {name: zf.read(name) for name in zf.namelist()}
        xml = self.members["word/document.xml"].decode("utf-8")
        self.doc_head, self.doc_tail = xml[:xml.index("<w:body")], xml[xml.index("</w:body>") + len("</w:body>"):]
        self.simple = "{%tc" not in "".join(sources) and "{% tc" not in "".join(sources)
        self._listing = probe.resolve_listing

    def check(self, context: dict[str, Any]) -> None:
        missing = sorted(self.variables - set(context))
        if missing:
            raise BaocaoError("mẫu báo cáo dùng biến không có trong dữ liệu: " + ", ".join(f"«{m}»" for m in missing)
                              + " (xem templates/README.md)", path=str(self.path))

    def new_document(self) -> "_Rendering":
        return _Rendering(self)

    def render(self, context: dict[str, Any], out: Path) -> Path:
        self.check(context)
        context = _xml_text(context)
        try:
            if self.simple and not any(callable(v) for v in context.values()):
                self._render_fast(context, out)
            else:
                self._render_docxtpl(context, out)
        except jinja2.UndefinedError as exc:
            name = re.search(r"attribute '([^']+)'|'([^']+)' is undefined", str(exc))
            what = next((g for g in name.groups() if g), str(exc)) if name else str(exc)
            raise BaocaoError(f"mẫu báo cáo dùng biến «{what}» không có trong dữ liệu (xem templates/README.md)",
                              path=str(self.path)) from None
        except etree.XMLSyntaxError as exc:
            raise _invalid("word/document.xml", self.path, exc) from None
        return out

    def _render_fast(self, context: dict[str, Any], out: Path) -> None:
        """Body and headers rendered as text and zipped with the untouched parts (no pictures, no column loops)."""
        parts = {"word/document.xml": (self.doc_head + self._listing(_finish(self.body.render(context)))
                                       + self.doc_tail).encode("utf-8")}
        for partname, (template, encoding) in self.parts.items():
            parts[partname.lstrip("/")] = self._listing(_finish(template.render(context))).encode(encoding)
        for name, data in parts.items():
            _well_formed(name, data, self.path)
        with atomic_path(out) as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
                for name, data in self.members.items():
                    zf.writestr(name, parts.get(name, data))

    def _render_docxtpl(self, context: dict[str, Any], out: Path) -> None:
        """docxtpl's own render on a fresh document: pictures (InlineImage) and {%tc%} need it."""
        doc = self.new_document()
        doc.render({k: (v(doc) if callable(v) else v) for k, v in context.items()}, self.env)
        with atomic_path(out) as tmp:
            doc.save(tmp)


def _xml_text(value: Any) -> Any:
    """The context with every text XML can hold: a control character in one cell would make the whole .docx
    one that Word refuses to open (the reader names such a cell; this holds for any other source too)."""
    if isinstance(value, str):
        return type(value)(xml_safe(value)) if NOT_XML.search(value) else value
    if isinstance(value, dict):
        return {k: _xml_text(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_xml_text(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_xml_text(v) for v in value)
    return value


def _well_formed(name: str, data: bytes, template: Path) -> None:
    """Refuse to write a part Word could not open (whatever reached it past `_xml_text`); docxtpl's own path
    parses what it renders, which raises the same error."""
    try:
        etree.fromstring(data)
    except etree.XMLSyntaxError as exc:
        raise _invalid(name, template, exc) from None


def _invalid(name: str, template: Path, exc: Exception) -> BaocaoError:
    return BaocaoError(f"báo cáo tạo ra không hợp lệ ({name}), không ghi tệp; hãy báo cho người quản trị",
                       path=str(template), detail=str(exc))


class _Rendering(DocxTemplate):
    """One render of a CompiledTemplate: a fresh document, the compiled Jinja templates reused."""

    def __init__(self, compiled: CompiledTemplate):
        super().__init__(io.BytesIO(compiled.blob))
        self._compiled = compiled
        self.init_docx()

    def _fill(self, template: jinja2.Template, part, context) -> str:
        # InlineImage inserts its picture into the part being rendered
        self.current_rendering_part = part
        return self.resolve_listing(_finish(template.render(context)))

    def build_xml(self, context, jinja_env=None):
        return self._fill(self._compiled.body, self.docx._part, context)

    def build_headers_footers_xml(self, context, uri, jinja_env=None):
        for rel_key, part in self.get_headers_footers(uri):
            entry = self._compiled.parts.get(str(part.partname))
            if entry:
                yield rel_key, self._fill(entry[0], part, context).encode(entry[1])


# ---------------------------------------------------------------- contexts


def _check_period(sub: Submission, kind: ReportDef, form: Form) -> None:
    if kind.periods and sub.period not in kind.periods:
        other = next((t.code for t in form.reports.values()
                      if t.template == kind.template and t is not kind and sub.period in (t.periods or ())), None)
        raise BaocaoError(f"loại báo cáo «{kind.code}» không dùng cho kỳ «{sub.period}»"
                          + (f"; hãy dùng --loai {other}" if other else ""), path=str(sub.path))


def _draft(ctx: dict[str, Any], findings: list[Finding] | None) -> None:
    """A draft (--du-thao) says so in its header and lists the workbook's findings in an appendix."""
    ctx["du_thao"] = findings is not None
    ctx["phu_luc"] = [stopped(f"{SEVERITY_VI[f.severity]} – {f.where or f.file}: {f.message}") for f in findings or []]


def _unit(kind: ReportDef) -> ReportDef:
    if kind.city:  # the city report is a writer of a consolidation (toolkit.city.report)
        raise BaocaoError("báo cáo tổng hợp lập từ cả thư mục phiếu, cùng lần tổng hợp với sổ tổng hợp: "
                          "baocao bao-cao THU_MUC --loai tong-hop [--ky KỲ --nam NĂM]")
    return kind


def context_for(sub: Submission, kind: ReportDef, form: Form | None = None,
                findings: list[Finding] | None = None) -> dict[str, Any]:
    """The template context of unit report `kind`; `findings` given makes it a draft with them in an appendix."""
    form = form or load_form()
    _check_period(sub, _unit(kind), form)
    ctx = unit_context(sub, form, kind)
    ctx.update(kind.options)
    ctx["loai_bao_cao"] = kind.title
    _draft(ctx, findings)
    return ctx


def vetted(sub: Submission, form: Form, kind: ReportDef, compiled: CompiledTemplate, draft: bool,
           findings: list[Finding] | None = None, aside: Aside | None = None) -> list[Finding] | None:
    """Refuse a workbook whose errors are in what report `kind` prints (ReportRefused); for a draft, the findings
    about what it prints, for the appendix. Errors about anything else are handed to `aside`.

    `findings` are those of a check already made (the check verb's Report), else it is checked here."""
    found = check_read(sub, form).findings if findings is None else findings
    mine, other = split(found, sub, form, printed(sub, kind, form, compiled.variables, compiled.references))
    if other and aside:
        aside(sub, other)
    if draft:
        return mine
    errors = [f for f in mine if f.severity == ERROR]
    if errors:
        raise ReportRefused(sub, errors)
    return None


# ---------------------------------------------------------------- public API


def render_report(sub: Submission, loai: str, out: Path | str, pdf: bool = False, draft: bool = False,
                  findings: list[Finding] | None = None, aside: Aside | None = None) -> list[Path]:
    """Write one unit report (and its PDF when asked); returns the files written.

    A report from a workbook with errors in what it prints is refused (ReportRefused) unless `draft`,
    which writes it marked "DỰ THẢO" with those findings in an appendix; `aside(sub, errors)` hears of the
    workbook's other errors."""
    form = load_form()
    kind = _unit(report_type(loai, form))
    out = Path(out)
    compiled = CompiledTemplate(template_path(kind.template))
    findings = vetted(sub, form, kind, compiled, draft, findings, aside)
    written = [_write(compiled, context_for(sub, kind, form, findings=findings), out, sub, kind, draft)]
    if pdf:
        written += to_pdf(written, out.parent)
    return written


def _write(compiled: CompiledTemplate, ctx: dict[str, Any], out: Path, sub: Submission, kind: ReportDef,
           draft: bool) -> Path:
    """One report written to `out`; a final one with an empty section is refused and nothing is written."""
    if draft:
        return compiled.render(ctx, out)
    with atomic_path(out) as tmp:
        _refuse_empty(compiled.render(ctx, tmp), sub, kind)
    return out


def _refuse_empty(docx: Path, sub: Submission, kind: ReportDef) -> None:
    sections = empty_sections(docx)
    if sections:
        raise ReportEmpty(sub, kind.code, sections)


def output_name(sub: Submission, loai: str) -> str:
    return f"{Path(sub.path).stem}_{loai}.docx"


def render_batch(paths: Iterable[Path | str], loai: str, out_dir: Path | str, pdf: bool = False,
                 subs: list[Submission] | None = None, draft: bool = False, aside: Aside | None = None) -> list[Path]:
    """Render unit report `loai` for every workbook (or the given Submissions), compiling the template once.

    Every report is refused when one workbook has errors, unless `draft` (see render_report).
    """
    form = load_form()
    kind = _unit(report_type(loai, form))
    out_dir = Path(out_dir)
    if subs is None:
        reports = [_checked_file(p, form) for p in paths]
        subs, checked = [r.submission for r in reports], [r.findings for r in reports]
    else:
        checked = [None] * len(subs)
    if not subs:
        raise BaocaoError("không có phiếu số liệu (.xlsx) nào để lập báo cáo")
    compiled = CompiledTemplate(template_path(kind.template))
    # every workbook vetted before any report is written
    findings = [vetted(s, form, kind, compiled, draft, found, aside) for s, found in zip(subs, checked)]
    contexts = [context_for(s, kind, form, findings=f) for s, f in zip(subs, findings)]
    if not draft:  # every final report checked for empty sections before any is written
        with tempfile.TemporaryDirectory() as tmp:
            for s, ctx in zip(subs, contexts):
                _refuse_empty(compiled.render(ctx, Path(tmp) / "bao_cao.docx"), s, kind)
    written = [compiled.render(ctx, out_dir / output_name(s, loai)) for s, ctx in zip(subs, contexts)]
    if pdf:
        written += to_pdf(written, out_dir)
    return written


def render_path(target: Path | str, loai: str, out: Path | str | None = None, pdf: bool = False,
                draft: bool = False, aside: Aside | None = None) -> list[Path]:
    """A workbook gives one report; a folder gives one per *.xlsx in it (or one synthesis for tong-hop).

    `out` is the .docx to write for a workbook, the output folder for a folder; by default
    beside the input.
    """
    target = Path(target)
    if target.is_dir():
        files = sorted(p for p in target.glob("*.xlsx") if not p.name.startswith("~$"))
        if not files:
            raise BaocaoError("thư mục không có phiếu số liệu .xlsx nào", path=str(target))
        return render_batch(files, loai, Path(out) if out else target / "bao_cao", pdf=pdf, draft=draft,
                            aside=aside)
    report = _checked_file(target, load_form())
    sub = report.submission
    return render_report(sub, loai, Path(out) if out else target.with_name(output_name(sub, loai)), pdf=pdf,
                         draft=draft, findings=report.findings, aside=aside)


def _checked_file(path: Path | str, form: Form) -> Report:
    """The check verb's Report of a workbook file; a file it cannot read stops here (exit 2)."""
    report = check_file(path, form)
    if report.refusal:
        raise BaocaoError(report.refusal)  # the refusal already names the file
    return report


def empty_findings(sub: Submission, form: Form | None = None) -> list[Finding]:
    """Kiểm tra's warnings for the sections a final report of each type chosen in sheet Báo cáo would leave
    empty (it would be refused for them), located at that type's row: the same reading as the refusal, on the
    report written as it would be now."""
    form = form or load_form()
    rows = {r.get("loai"): r for r in sub.lists.get("bao_cao", [])}
    labels = {c.code: c.label for c in form.choices["loai_bao_cao"]}
    compiled: dict[str, CompiledTemplate] = {}
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for code in fed_types(sub, form):
            kind = form.reports[code]
            if kind.city or (kind.periods and sub.period not in kind.periods):
                continue
            try:
                template = compiled.setdefault(kind.template, CompiledTemplate(template_path(kind.template)))
                written = template.render(context_for(sub, kind, form), Path(tmp) / f"{code}.docx")
            except BaocaoError:
                continue  # what stops the report is said by the check's own findings
            loc = rows[labels[code]].cells["loai"].loc
            out += [Finding("muc-chua-co-noi-dung", WARNING, str(sub.path), loc.sheet, loc.cell,
                            catalogue.message("muc-chua-co-noi-dung", loai=code, section=section),
                            values={"loai": code})
                    for section in empty_sections(written)]
    return out


def types_for(sub: Submission, form: Form | None = None) -> list[str]:
    """The unit report types a workbook feeds: those its sheet Báo cáo declares, else every one that suits
    its period."""
    form = form or load_form()
    declared = fed_types(sub, form)
    return declared or [t.code for t in form.reports.values()
                        if not t.city and (t.periods is None or sub.period in t.periods)]


def sample_reports(paths: list[Path], out_dir: Path) -> list[Path]:
    """The demo's reports: each unit report each sample declares (the city report is made from the
    consolidation, toolkit.city.report).

    The samples keep the seeds' own mistakes for the checker to find, so their reports are
    drafts: "DỰ THẢO" in the header and the findings in an appendix.
    """
    form = load_form()
    subs = [read_submission(p, form) for p in paths]
    written = []
    for code, kind in form.reports.items():
        fitting = [s for s in subs if not kind.city and code in types_for(s, form)]
        if fitting:
            written += render_batch([], code, out_dir, subs=fitting, draft=True)
    return written
