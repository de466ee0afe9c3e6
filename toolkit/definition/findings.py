"""Findings: data problems as values, each located to the cell the user must look at."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
SEVERITY_VI = {ERROR: "LỖI", WARNING: "CẢNH BÁO"}


@dataclass(frozen=True)
class Finding:
    code: str  # stable kebab-case, e.g. "dong-nhat-sai"
    severity: str  # "error" (lỗi, blocks) or "warning" (cảnh báo)
    file: str
    sheet: str
    cell: str  # A1 style
    message: str  # Vietnamese, with the values
    rule: str = ""  # rule id or indicator code
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.sheet else ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["values"] = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in self.values.items()}
        return d


@dataclass
class Report:
    """The outcome of checking one file: its findings, or the reason it was refused.

    `valid` is True when nothing blocks the file (warnings allowed); `exit_code`
    is what the command returns for it: 0 valid, 1 findings that are errors, 2 refused.
    """

    findings: list[Finding] = field(default_factory=list)
    file: str = ""
    refusal: str = ""  # Vietnamese reason the file could not be read at all
    refusal_code: str = ""  # its kind, a catalogue code (tep-hong, sai-bieu-mau, ...)
    detail: str = field(default="", repr=False)  # technical text of a refusal, for --chi-tiet only
    submission: Any = field(default=None, repr=False, compare=False)  # the Submission read, when read

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def valid(self) -> bool:
        return not self.refusal and not self.errors

    @property
    def exit_code(self) -> int:
        return 2 if self.refusal else (1 if self.errors else 0)

    def flatten(self, keys: list[str]) -> list[list[Any]]:
        """[[f.key1, f.key2], ...]: keeps test assertions to one line."""
        return [[getattr(f, k) for k in keys] for f in self.findings]

    def as_dict(self) -> dict[str, Any]:
        """What `baocao kiem-tra --json` prints for this file."""
        return {"file": self.file, "valid": self.valid, "exit_code": self.exit_code,
                "errors": len(self.errors), "warnings": len(self.warnings), "refusal": self.refusal or None,
                "refusal_code": self.refusal_code or None,
                "findings": [f.as_dict() for f in self.findings]}
