"""Check: a Submission (or a file, or a grid) in, a `Report` of findings out, each located to Sheet!Cell and
written in Vietnamese: the rulebook's verdicts, the row-by-row list checks, an annotated copy of the workbook and
the plain views of what was read."""
from toolkit import exports

__getattr__, __all__ = exports(__name__, {
    "verb": ("check_file", "check_grid", "check_read"),
    "checker": ("sheet_decisions",),
    "lists": ("citation",),
    "annotate": ("write_annotated",),
    "summary": ("print_submission", "submission_json"),
})
