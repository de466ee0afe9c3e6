"""Unit reports: a checked Submission through its report type's scope, context and sentences into a docxtpl
template, giving a .docx (and a PDF through LibreOffice, a warm office when one runs) in the NĐ 30/2020 layout.
The city report (in city/) uses this renderer and the context's header pieces; nothing here knows the city."""
from toolkit import exports

__getattr__, __all__ = exports(__name__, {
    "render": ("CompiledTemplate", "ReportEmpty", "ReportRefused", "empty_findings", "render_path", "render_report", "report_type",
               "sample_reports", "template_path"),
    "office": ("OfficeDown", "pdf_within", "to_pdf", "warm_office"),
    "context": ("dateline", "period_names", "recipients", "report_number"),
    "sentences": ("breakdown", "join", "lower_first", "num", "qty", "upper_first"),
})
