"""argparse speaking Vietnamese: usage, help headings and every error a user can provoke.

argparse words its text through a module-level gettext `_`; this module swaps
in a lookup of those strings (Python 3.11-3.13 wording), so `baocao` never
answers "error: the following arguments are required" to a commune officer.
Errors read «Lỗi: …» as every other refusal of `baocao` does; a mistyped command is answered with the
closest one.
"""
from __future__ import annotations

import argparse
import difflib
import gettext
from pathlib import Path

VI = {
    "usage: ": "Cách dùng: ",
    "positional arguments": "tham số",
    "options": "tùy chọn",
    "subcommands": "lệnh",
    "show this help message and exit": "in hướng dẫn này rồi thoát",
    "show program's version number and exit": "in phiên bản rồi thoát",
    "%(prog)s: error: %(message)s\n": "Lỗi: %(message)s\nXem hướng dẫn: %(prog)s -h\n",
    "the following arguments are required: %s": "thiếu tham số bắt buộc: %s",
    "unrecognized arguments: %s": "không hiểu tham số: %s",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "expected one argument": "cần một giá trị",
    "expected at most one argument": "nhận nhiều nhất một giá trị",
    "expected at least one argument": "cần ít nhất một giá trị",
    "expected %s argument": "cần %s giá trị",
    "expected %s arguments": "cần %s giá trị",
    "invalid choice: %(value)r (choose from %(choices)s)": "không có lựa chọn %(value)r (chọn một trong: %(choices)s)",
    "invalid %(type)s value: %(value)r": "giá trị không hợp lệ: %(value)r",
    "ambiguous option: %(option)s could match %(matches)s": "tùy chọn %(option)s không rõ, có thể là %(matches)s",
    "unexpected option string: %s": "tùy chọn không mong đợi: %s",
    "one of the arguments %s is required": "cần một trong các tham số %s",
    "not allowed with argument %s": "không dùng cùng tham số %s",
    "ignored explicit argument %r": "bỏ qua giá trị %r",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "không có lệnh %(parser_name)r (các lệnh: %(choices)s)",
    "can't open '%(filename)s': %(error)s": "không mở được '%(filename)s'",
}


def _(text: str) -> str:
    return VI.get(text, gettext.gettext(text))


def _n(singular: str, plural: str, n: int) -> str:
    return VI.get(singular if n == 1 else plural, gettext.ngettext(singular, plural, n))


argparse._ = _
argparse.ngettext = _n


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose unknown command names the closest one («có phải … không?»)."""

    def _check_value(self, action, value):
        if isinstance(action, argparse._SubParsersAction) and value not in action.choices:
            close = difflib.get_close_matches(value, list(action.choices), n=1, cutoff=0.5)
            hint = f" Có phải ý bạn là «{close[0]}»?" if close else ""
            raise argparse.ArgumentError(None, f"không có lệnh «{value}».{hint} Các lệnh: "
                                               f"{', '.join(action.choices)}")
        super()._check_value(action, value)


def output(parser: argparse.ArgumentParser, metavar: str, help: str, *old: str, required: bool = False):
    """The output option, `--ra` in every command; `old` are the names earlier versions used, still accepted
    (scripts written for them keep working) but shown nowhere: help, usage and errors name only `--ra`."""
    action = parser.add_argument("--ra", *old, dest="ra", type=Path, metavar=metavar, required=required, help=help)
    action.option_strings = ["--ra"]  # the parser still maps the old names to this action
    return action


def year(text: str) -> int:
    """An argparse type: a year such as 2026, refused in Vietnamese otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"«{text}» không phải năm (ví dụ 2026)") from None
    if not 2000 <= value <= 2100:
        raise argparse.ArgumentTypeError(f"năm {value} ngoài khoảng 2000–2100")
    return value


def count(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"«{text}» không phải số nguyên dương") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} phải từ 1 trở lên")
    return value


def seconds(text: str) -> float:
    """An argparse type: a number of seconds above zero (a decimal comma is accepted)."""
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"«{text}» không phải số giây") from None
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError(f"{text} giây phải lớn hơn 0 và dưới một ngày")
    return value
