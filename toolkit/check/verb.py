"""The check verb: a workbook (a file, or its cells as Excel shows them) in, a `Report` out.

Every caller that reads then checks goes through here: `baocao kiem-tra`, the
Excel buttons, the city consolidation, the demo and the city server. A file that
cannot be read is a refusal inside the Report, not an exception.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Mapping, Union

from toolkit.check.checker import check_submission
from toolkit.definition import Finding, Form, Report, catalogue, load_form
from toolkit.errors import BaocaoError
from toolkit.intake import Submission, read_grid, read_submission

log = logging.getLogger(__name__)

# The previous period's submission, its file, or a lookup from the submission being checked (the store).
Previous = Union[Submission, Path, str, Callable[[Submission], Union[Submission, None]], None]


def check_file(path: Path | str, form: Form | None = None, previous: Previous = None) -> Report:
    """Read and check one intake workbook file."""
    form = form or load_form()
    try:
        sub = read_submission(path, form)
    except BaocaoError as exc:
        return Report(file=str(path), refusal=str(exc), refusal_code=exc.code, detail=exc.detail)
    return _check(sub, form, previous)


def check_grid(grid: Mapping[str, list[list[Any]]], form: Form | None = None, previous: Previous = None,
               name: str = "phiếu đang mở") -> Report:
    """Read and check a workbook given as its cells, sheet name -> rows of values from A1."""
    form = form or load_form()
    try:
        sub = read_grid(grid, form, name)
    except BaocaoError as exc:
        return Report(file=name, refusal=str(exc), refusal_code=exc.code, detail=exc.detail)
    return _check(sub, form, previous)


def check_read(sub: Submission, form: Form | None = None, previous: Previous = None) -> Report:
    """Check a workbook already read: the Submission a report is about to be written from."""
    return _check(sub, form or load_form(), previous)


def _check(sub: Submission, form: Form, previous: Previous) -> Report:
    if isinstance(previous, (str, Path)):
        previous = read_submission(previous, form)
    elif callable(previous):
        previous = previous(sub)
    try:
        findings = check_submission(sub, form, previous)
    except Exception:  # a checker bug on one file must not stop a batch of 114: the file says so
        log.exception("checker failed on %s", sub.path)
        entry = catalogue.code("kiem-tra-that-bai")
        findings = [Finding(entry.code, entry.severity, str(sub.path), "", "", entry.message())]
    return Report(findings, file=str(sub.path), submission=sub)
