"""Nộp from a browser, for units whose Office blocks macros (Mark of the Web, Excel on the web or on a Mac).

The uploaded workbook is read by the reader every door uses (toolkit.intake.read_workbook: checked as a file,
each sheet the form uses scanned before it is read, no other sheet opened), checked by the same checker as the
button and handed to toolkit.server.nop.accept with the cells that read produced, which stores them or logs
the refused attempt. The button's grid is read and kept the same way, so the same content gets the same
receipt and the same stored version by either door.

The upload is written only under a name the server makes and deleted afterwards; every message names the
file by the name the browser gave.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.check import check_read
from toolkit.city import db_errors
from toolkit.definition import SEVERITY_VI, Form
from toolkit.errors import BaocaoError, log_failure
from toolkit.excel import buttons as xl
from toolkit.intake import read_workbook
from toolkit.server.nop import Due, Receipt, accept
from toolkit.vnformat import fmt_time


@dataclass
class Outcome:
    """What the unit sees after choosing its file: a refusal, or the findings and, without errors, the receipt."""
    refusal: str = ""
    findings: list[tuple[str, str, str, str]] = field(default_factory=list)  # (mã, mức độ, nội dung, ô)
    verdict: str = ""  # "không có lỗi" or "3 lỗi, 0 cảnh báo", as the button says it
    receipt: Receipt | None = None

    @property
    def received(self) -> str:
        """When the version was received, in the city's time."""
        return fmt_time(self.receipt.received_at, seconds=True) if self.receipt else ""


def nop_file(data: bytes, shown_name: str, unit: str, store: Path, folder: Path, form: Form,
             due: Due | None = None) -> Outcome:
    """Check the uploaded workbook and, when it has no error, store it as the Nộp button would. `shown_name`
    (the name the browser gave) only names the workbook in messages, as Excel's book name does."""
    spool = folder / "tai_len"
    spool.mkdir(parents=True, exist_ok=True)
    path = spool / f"{secrets.token_hex(16)}.{'xlsm' if b'vbaProject.bin' in data else 'xlsx'}"
    try:
        path.write_bytes(data)
        reading = read_workbook(path, form, shown_name or "tệp tải lên")
        report = check_read(reading.submission, form)
        receipt = accept(reading.sheets, report, unit, store, folder / "phieu", form, typed=True, due=due,
                         name=shown_name)
    except BaocaoError as exc:
        return Outcome(refusal=str(exc))
    except db_errors():  # the store's fault is the server's to answer (503), not a refusal of this file
        raise
    except Exception as exc:  # a bug, or the server's own disk: the unit is told as the button tells it
        log_failure(exc, f"/nop-tep {unit} {shown_name}")
        return Outcome(refusal=xl.SERVER_FAILURE)
    finally:
        path.unlink(missing_ok=True)
    return Outcome(findings=[(f.code, SEVERITY_VI.get(f.severity, f.severity), f.message, f.where)
                             for f in report.findings],
                   verdict=xl.verdict(report), receipt=receipt)
