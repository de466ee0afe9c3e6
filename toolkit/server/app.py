"""`baocao server`: the city's server for the buttons of units' workbooks, and the page of submissions.

A unit's workbook (`baocao tao-xlsm --may-chu`) posts itself with xlwings' VBA
`RunServerPython` (module Remote of xlwings; the payload holds every sheet's values
from A1, the defined names and the book's name). The server opens it with
`xw.Book(json=...)`, runs the same handler as the local button (toolkit.excel.buttons,
toolkit.server.nop) and answers with the actions Excel applies. Every refusal is an
answer too: an action that writes a Vietnamese sentence into the status cell.

Only this module imports FastAPI (extra `baocao[server]`); xlwings stays in
toolkit.excel.buttons, which also sets xlwings' licence key for its remote interpreter.
"""
from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import re
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import unquote_plus

import anyio.to_thread
import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from toolkit.atomic import remove_leftovers_in
from toolkit.city import Store, StoreError, failed, keep_connections, store_failure, store_location, time_limit
from toolkit.definition import Form, load_form
from toolkit.errors import BaocaoError, log_failure, os_reason
from toolkit.excel import NAME_STATUS
from toolkit.excel import buttons as xl
from toolkit.server import dashboard as d
from toolkit.server import nop, upload
from toolkit.server.keys import Keys
from toolkit.vnformat import fmt_time, period_year, utc_now

ACTIONS = {"kiem-tra": "Kiểm tra", "nop": "Nộp", "tao-bao-cao": "Tạo báo cáo"}
# Requests worked on at once in one process, per kind (the rest wait in line, within their time limit). The work
# is Python under one lock (the GIL): 40 threads, Starlette's default, do no more, and a thread that leaves the
# GIL for SQLite or the disk waits behind all the others to get it back. Each kind has slots of its own, so a Nộp
# never waits in line behind the checks and reports of the deadline's rush, and Nộp has the most: under 114
# Kiểm tra then Nộp at once, Nộp gets two thirds of the processor while checks wait their turn (a check stores
# nothing; a Nộp is what the deadline is about). Measured in benchmarks/bench_server.py --giay 0.
SLOTS = {"kiem-tra": 2, "nop": 4, "tao-bao-cao": 2}
PAGE_SECONDS = 4.0  # the longest store wait of the page and downloads: down, the store is a 503 within 5 s
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_DEPTH = 10  # levels of nesting in a posted payload (a workbook's has 5)
UNEXPECTED = xl.SERVER_FAILURE
HTTP_ERRORS = {404: "Không có trang này trên máy chủ baocao; hãy kiểm tra lại địa chỉ.",
               405: "Địa chỉ này không nhận cách gửi yêu cầu này.",
               413: "Dữ liệu gửi lên quá lớn."}
HTTP_VI = {400: "Yêu cầu không hợp lệ", 404: "Không có trang này", 405: "Không dùng được cách gửi này",
           409: "Chưa lập được văn bản", 413: "Tệp quá lớn", 429: "Gửi quá nhiều lần", 500: "Máy chủ gặp lỗi",
           503: "Máy chủ chưa phục vụ được"}
# A key must never travel in an address (addresses are logged, kept in browser histories and proxies).
KEY_IN_ADDRESS = re.compile(r"(?:^|&)(?:khoa|key|authorization)=|\d{5}-[A-Za-z0-9_-]{32}", re.IGNORECASE)


class NotAdmitted(Exception):
    """A request refused before its work: `kind` is "khoa" (a key the city did not issue), "lan-bam" (the key's
    requests per minute) or "doan-khoa" (this address's wrong keys per minute)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class NoKeyInAddress:
    """ASGI: a request whose address's query holds a key (or a parameter named for one) gets `refusal(scope)`
    before anything reads it; the access log keeps no query either (`no_query_in_log`)."""

    def __init__(self, app, refusal):
        self.app, self.refusal = app, refusal

    async def __call__(self, scope, receive, send):
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if query and KEY_IN_ADDRESS.search(unquote_plus(query.decode("latin-1"))):
            await self.refusal(scope)(scope, receive, send)
            return
        await self.app(scope, receive, send)


@dataclass
class Settings:
    store: Path | str  # the city store (SQLite file or PostgreSQL URL): versions, keys, attempts, rates, links
    folder: Path  # where the server keeps received workbooks, reports and the city workbook
    period: str  # the period the page shows (code or label)
    year: int
    deadline: date | None = None  # None: the period's closing day + the form's deadline days (one for every unit)
    max_bytes: int = 5 * 1024 * 1024  # a filled workbook's payload is a few hundred KB
    timeout: float = 25.0  # below the 30 s the VBA client waits, so the refusal arrives
    per_minute: int = 20  # requests per key per minute
    public_url: str | None = None  # the address units use (behind the HTTPS proxy); links are made from it
    head_timeout: float = 10.0  # seconds to receive a request's head: slower clients are cut (toolkit.server.front)
    body_timeout: float = 60.0  # seconds to receive a whole request, body included
    max_connections: int = 200  # open connections; beyond them uvicorn answers 503
    per_client: int = 50  # open connections from one address other than the proxy's (toolkit.server.front)

    @property
    def due(self) -> nop.Due:
        """What receipts are timed against: this period's deadline (--han or its own), another period's own."""
        return nop.Due(self.period, self.year, self.deadline)


def _status_actions(payload: dict | None, text: str, fallback: tuple[int, str]) -> dict:
    """Actions that write `text` into the workbook's status cell: found through the defined names the client
    sent, else at the place this server's workbooks have it (`fallback`: sheet index, A1)."""
    where = fallback
    names = payload.get("names") if isinstance(payload, dict) else None
    for n in names if isinstance(names, list) else []:
        if isinstance(n, dict) and n.get("name") == NAME_STATUS and isinstance(n.get("sheet_index"), int):
            where = (n["sheet_index"], str(n.get("address", "")))
    if not (0 <= where[0] < 100 and re.fullmatch(r"[A-Z]{1,3}[0-9]{1,7}", where[1])):
        where = fallback
    return xl.status_actions(*where, text)


def status_cell(form: Form) -> tuple[int, str]:
    """Where the status cell of the workbooks this server hands out is: (sheet index, A1)."""
    import tempfile

    import openpyxl

    from toolkit.excel import build_intake

    with tempfile.TemporaryDirectory() as tmp:
        path = build_intake(form, Path(tmp) / "mau.xlsm", server=("http://127.0.0.1", "0-0"))
        wb = openpyxl.load_workbook(path)
        sheet, ref = next(iter(wb.defined_names[NAME_STATUS].destinations))
        return wb.sheetnames.index(sheet), ref.replace("$", "").split(":")[0]


def prepare(settings: Settings, form: Form) -> None:
    """The server's folder, the store file and its tables: the page works before the first submission, and
    a store that cannot be made is said once, before any worker starts. The temporaries of kept copies that a
    killed worker left are deleted (their writes do not look for them: toolkit.server.plain_xlsx)."""
    try:
        settings.folder.mkdir(parents=True, exist_ok=True)
        for kept in (settings.folder / "phieu").glob("*/"):
            remove_leftovers_in(kept)
    except OSError as exc:
        raise BaocaoError(f"không tạo được thư mục của máy chủ: {os_reason(exc)}", path=str(settings.folder),
                          detail=str(exc)) from None
    with Keys(settings.store), Store(settings.store, form):
        pass


@dataclass
class Server:
    settings: Settings
    form: Form = field(default_factory=load_form)

    def __post_init__(self):
        self.slots = {action: anyio.CapacityLimiter(n) for action, n in SLOTS.items()}
        self.fallback = status_cell(self.form)
        keep_connections()
        prepare(self.settings, self.form)

    def until(self, arrived: float) -> float:
        """When a request's store waits must end: its time limit, less a moment to answer (a transaction that
        commits before this is answered with its receipt; one that cannot is rolled back)."""
        return arrived + self.settings.timeout - min(1.0, self.settings.timeout / 4)

    def press(self, action: str, payload: dict, key: str, client: str, base_url: str, until: float) -> dict:
        """A button press in a worker thread, every store wait within the request's time: the key, the rate,
        then the handler."""
        name = ACTIONS[action]
        with time_limit(until):
            try:
                unit = _admit(self.settings, key, client)
            except NotAdmitted as no:
                return self.refuse(payload, name, _REFUSED_BUTTON[no.kind].format(n=self.settings.per_minute))
            except StoreError as exc:  # the unit is told why, nothing is stored
                what = "chưa lưu được bản nộp" if action == "nop" else "máy chủ chưa xử lý được"
                return self.refuse(payload, name, f"{what} ({_store_trouble(exc, f'/xlwings/{action}')}); hãy "
                                                  "báo Sở Nội vụ rồi bấm lại sau")
            return self.run(action, payload, unit, base_url)

    def refuse(self, payload: dict | None, action: str, text: str) -> dict:
        return _status_actions(payload, f"{action}: {text}", self.fallback)

    def run(self, action: str, payload: dict, unit: str, base_url: str) -> dict:
        """Open the posted workbook, run the button's handler, return the actions (in a worker thread).
        Whatever fails, the answer is a Vietnamese sentence for the status cell."""
        names = payload.get("names")
        if not (isinstance(names, list) and any(isinstance(n, dict) and n.get("name") == NAME_STATUS for n in names)):
            return self.refuse(payload, ACTIONS[action], "tệp thiếu ô Trạng thái của phiếu (tên bị xóa hoặc tệp "
                                                         "không phải phiếu của Sở Nội vụ); hãy dùng tệp phiếu mới "
                                                         "nhất Sở Nội vụ gửi và chép số liệu sang")
        try:
            book = xl.open_posted(payload)
        except BaocaoError as exc:
            return self.refuse(payload, ACTIONS[action], str(exc))
        try:
            if action == "kiem-tra":
                xl.kiem_tra(book)
            elif action == "nop":
                nop.submit(book, unit, self.settings.store, self.settings.folder / "phieu", self.form, self.settings.due)
            else:
                self.report(book, unit, base_url)
            return book.json()
        except Exception as exc:  # the handler could not even write its status: the answer still says why
            log_failure(exc, f"/xlwings/{action} {unit}")
            return self.refuse(payload, ACTIONS[action], UNEXPECTED)
        finally:
            xl.close_posted(book)

    def report(self, book, unit: str, base_url: str) -> None:
        """Tạo báo cáo: render on the server; the status cell gets the download links, the PDF's too when the
        server's warm LibreOffice makes it within the request's time (toolkit.reports.pdf_within)."""
        from toolkit.reports import pdf_within

        began = time.monotonic()
        with xl.handler("Tạo báo cáo", book) as book:
            token = secrets.token_hex(16)
            out = xl.render_chosen(book, self.settings.folder / "bao_cao" / token, unit)
            if not out:
                return  # refused for the workbook's errors: listed, marked and said in the status cell
            # the answer must still reach the workbook within the limit: keep a few seconds for it
            pdf, why = pdf_within(out[0], self.settings.timeout - (time.monotonic() - began) - 3)
            links = []
            try:
                with Keys(self.settings.store) as keys:  # in the store: every worker process serves the link
                    for path in out + ([pdf] if pdf else []):
                        keys.add_download(f"{token}/{path.name}", path)
                        links.append(f"{base_url}/tai-ve/{token}/{path.name}")
            except StoreError as exc:
                raise BaocaoError(f"đã lập báo cáo nhưng chưa lưu được liên kết tải về "
                                  f"({_store_trouble(exc, 'Tạo báo cáo')}); hãy bấm lại sau ít phút") from None
            xl.status(book, f"Đã tạo báo cáo lúc {fmt_time(utc_now())}; tải về (mở bằng trình duyệt): "
                            + " ; ".join(links) + (f" (chưa có bản PDF: {why})" if why else ""))


def create_app(settings: Settings) -> FastAPI:
    server = Server(settings)
    app = FastAPI(title="baocao", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.server = server
    no_query_in_log()
    pages = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=True)
    title = period_year(server.form.period(settings.period).label, settings.year)

    def error_page(request: Request, status: int, message: str) -> Response:
        """A refusal in Vietnamese: a page for a browser, a sentence for anything else."""
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(pages.get_template("loi.html").render(heading=HTTP_VI.get(status, "Lỗi"),
                                                                      message=message), status_code=status)
        return PlainTextResponse(message, status_code=status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return error_page(request, exc.status_code, HTTP_ERRORS.get(
            exc.status_code, f"Máy chủ baocao không xử lý được yêu cầu này (mã {exc.status_code})."))

    @app.exception_handler(Exception)
    async def failure(request: Request, exc: Exception) -> Response:
        if isinstance(exc, StoreError) or failed(exc):  # not the request's fault, nor a bug: try again later
            reason = exc.reason if isinstance(exc, StoreError) else store_failure(exc, "không đọc được kho dữ liệu")
            log_failure(exc, f"{request.method} {request.url.path}")
            return error_page(request, 503, f"Máy chủ baocao chưa đọc được kho dữ liệu: {reason}. Hãy thử lại sau "
                                            "ít phút; nếu vẫn vậy, báo người quản trị máy chủ.")
        if isinstance(exc, BaocaoError):  # already a sentence (a full disk)
            return error_page(request, 500, f"Máy chủ baocao: {exc}")
        log = log_failure(exc, f"{request.method} {request.url.path}")
        return error_page(request, 500, f"Máy chủ baocao gặp lỗi ngoài dự kiến; chi tiết đã ghi vào {log} cho "
                                        "người quản trị. Hãy thử lại sau ít phút.")

    app.add_middleware(NoKeyInAddress, refusal=lambda scope: error_page(Request(scope), 400, (
        "Khóa không được ghi trong địa chỉ trang (địa chỉ được lưu lại ở trình duyệt và nhật ký). Hãy mở trang "
        "«/nop-tep» không kèm khóa và nhập khóa vào ô trên trang.")))

    @app.get("/ping")
    def ping() -> PlainTextResponse:
        return PlainTextResponse("baocao")

    @app.post("/xlwings/{action}")
    async def button(action: str, request: Request) -> JSONResponse:
        if action not in ACTIONS:
            return PlainTextResponse("Không có chức năng này trên máy chủ baocao.", status_code=404)
        try:
            return JSONResponse(await press(action, request))
        except ClientDisconnect:  # the client left while sending: nobody reads the answer
            return PlainTextResponse("Kết nối bị ngắt khi đang gửi dữ liệu.", status_code=400)
        except Exception as exc:  # a refusal the workbook shows, never an English 500
            log_failure(exc, f"/xlwings/{action}")
            return JSONResponse(server.refuse(None, ACTIONS[action], UNEXPECTED))

    async def press(action: str, request: Request) -> dict:
        name, arrived = ACTIONS[action], time.monotonic()
        body, size = bytearray(), 0
        # Read to the end even when too big (kept only up to the limit): a client cut off while sending
        # sees a reset connection, not the answer.
        async for chunk in request.stream():
            size += len(chunk)
            if size <= settings.max_bytes:
                body += chunk
            elif size > 10 * settings.max_bytes:
                break  # beyond any mistake: stop reading, the client may see the connection cut
        if size > settings.max_bytes:
            return server.refuse(None, name, _too_big(settings))
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict) or _deeper_than(payload, MAX_DEPTH):
                raise ValueError
        except (ValueError, RecursionError):  # RecursionError: brackets nested beyond the parser's stack
            return server.refuse(None, name, "dữ liệu gửi lên không đọc được; hãy bấm lại")
        key = request.headers.get("authorization", "").strip()
        base = (settings.public_url or str(request.base_url)).rstrip("/")
        left = settings.timeout - (time.monotonic() - arrived)  # the body's reading counts too
        try:
            actions = await asyncio.wait_for(anyio.to_thread.run_sync(
                server.press, action, payload, key, _client(request), base, server.until(arrived),
                limiter=server.slots[action]), max(left, 0.0))
        except asyncio.TimeoutError:
            actions = server.refuse(payload, name, f"máy chủ đang bận, chưa xử lý xong trong {settings.timeout:g} "
                                                   "giây; chờ vài phút rồi bấm lại (nếu đã bấm Nộp, xem mã tiếp "
                                                   "nhận ở lần bấm sau)")
        return actions

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        with time_limit(each=PAGE_SECONDS):
            data = d.page_data(settings.store, settings.period, settings.year, settings.deadline, server.form)
        return HTMLResponse(pages.get_template("page.html").render(
            p=data,
            deadline=settings.deadline, groups=d.GROUPS, columns=d.COLUMNS,
            sortable=list(enumerate(d.COLUMNS))[1:], css=d.STATUS_CSS))

    @app.get("/don-vi/{unit}/phien-ban", response_class=HTMLResponse)
    def unit_versions(unit: str, request: Request) -> HTMLResponse:
        return versions_page(request, unit, None)

    @app.get("/don-vi/{unit}/phien-ban/{number}", response_class=HTMLResponse)
    def unit_version(unit: str, number: str, request: Request) -> HTMLResponse:
        if not number.isdigit():  # never FastAPI's English 422
            return error_page(request, 404, HTTP_ERRORS[404])
        return versions_page(request, unit, int(number))

    def versions_page(request: Request, unit: str, number: int | None) -> HTMLResponse:
        """A unit's versions of the page's period and what one of them (the newest by default) changed; read
        only, the stored versions stay as they are."""
        from toolkit.city import versions

        known = server.form.unit_by_code(unit)
        if known is None:
            return error_page(request, 404, f"Không có đơn vị mã «{unit}» trong danh mục đơn vị.")
        found = versions.stored_versions(settings.store, server.form, known.code, settings.period, settings.year)
        if number is not None and number not in {v.version for v in found}:
            return error_page(request, 404, f"{known.name} không có phiên bản {number} trong {title}.")
        diff = versions.diff(server.form, found, number or found[-1].version) if found else None
        return HTMLResponse(pages.get_template("phien_ban.html").render(
            title=title, unit=known, found=found, diff=diff, arrival=versions.arrival,
            finding=versions.finding_line))

    def upload_page(status: int = 200, **answer) -> HTMLResponse:
        return HTMLResponse(pages.get_template("nop_tep.html").render(
            title=title, max_mb=settings.max_bytes // 1048576, **answer), status_code=status)

    @app.get("/nop-tep", response_class=HTMLResponse)
    def upload_form() -> HTMLResponse:
        return upload_page()

    @app.post("/nop-tep", response_class=HTMLResponse)
    async def upload_file(request: Request) -> HTMLResponse:
        """Nộp from a browser: the button's limits (size, time, rate per key) and the button's Nộp path."""
        arrived = time.monotonic()

        def refused(status: int, text: str) -> HTMLResponse:
            return upload_page(status, outcome=upload.Outcome(refusal=text))

        body = await _capped_body(request, settings.max_bytes + 65536)  # the form's own parts are small
        if body is None:
            return refused(413, _too_big(settings))
        try:
            fields = await _replayed(request, body).form(max_files=1, max_fields=2)
            key, sent = str(fields.get("khoa") or "").strip(), fields.get("tep")
            data = await sent.read() if sent is not None and not isinstance(sent, str) else b""
        except HTTPException:  # a body that is not the page's form (or cut short)
            return refused(400, "dữ liệu gửi lên không đọc được; hãy chọn lại tệp và bấm «Kiểm tra và nộp»")
        if not data:
            return refused(400, "chưa chọn tệp phiếu (.xlsx hoặc .xlsm)")
        if len(data) > settings.max_bytes:
            return refused(413, _too_big(settings))
        name = Path(sent.filename or "").name[:120]  # shown only: never part of a path
        until, client = server.until(arrived), _client(request)

        def work() -> tuple[str, upload.Outcome]:  # in a worker thread, every store wait within the time limit
            with time_limit(until):
                unit = _admit(settings, key, client)
                return unit, upload.nop_file(data, name, unit, settings.store, settings.folder, server.form, settings.due)

        try:
            unit, outcome = await asyncio.wait_for(anyio.to_thread.run_sync(work, limiter=server.slots["nop"]),
                                                   max(settings.timeout - (time.monotonic() - arrived), 0.0))
        except asyncio.TimeoutError:
            return refused(503, f"máy chủ đang bận, chưa xử lý xong trong {settings.timeout:g} giây; chờ vài phút "
                                "rồi gửi lại (phiếu chưa được lưu; nếu đã được nhận, lần gửi sau sẽ cho cùng mã "
                                "tiếp nhận)")
        except NotAdmitted as no:
            status, text = _REFUSED_UPLOAD[no.kind]
            return refused(status, text.format(n=settings.per_minute))
        except StoreError as exc:  # the unit is told why, nothing is stored
            return refused(503, f"chưa lưu được bản nộp ({_store_trouble(exc, '/nop-tep')}); hãy báo Sở Nội vụ rồi "
                                "gửi lại sau")
        return upload_page(outcome=outcome, file=name, unit=server.form.unit_by_code(unit).name)

    @app.get("/tai-ve/so-tong-hop.xlsx")
    def city_workbook():
        from toolkit.city import consolidate_store, write_city_workbook

        out = settings.folder / "tong_hop" / f"so_tong_hop_{settings.year}.xlsx"
        with time_limit(each=PAGE_SECONDS):
            res = consolidate_store(settings.store, settings.period, settings.year, settings.deadline, server.form)
        write_city_workbook(res, out)
        return FileResponse(out, filename=out.name)

    @app.get("/tai-ve/bao-cao-tong-hop.docx")
    def city_report(request: Request):
        try:
            with time_limit(each=PAGE_SECONDS):
                out = d.city_report(settings.store, settings.folder / "tong_hop", settings.period, settings.year,
                                    settings.deadline, server.form)
        except StoreError:
            raise  # a 503 saying why (`failure`)
        except BaocaoError as exc:
            return error_page(request, 404, f"Chưa lập được báo cáo tổng hợp: {exc}.")
        return FileResponse(out, filename=out.name)

    @app.post("/cong-van-don-doc")
    async def dispatch(request: Request) -> Response:
        """The công văn đôn đốc of the page's consolidation with the new date typed on the page, downloaded. Run in
        the report slots, as Tạo báo cáo is, within the same time limit: never in the slots Nộp needs."""
        arrived = time.monotonic()
        body = await _capped_body(request, 4096)  # one date
        if body is None:
            return error_page(request, 413, HTTP_ERRORS[413])
        try:
            fields = await _replayed(request, body).form(max_files=0, max_fields=2)
            due = d.typed_date(str(fields.get("han_moi") or ""))
        except HTTPException:
            return error_page(request, 400, "Dữ liệu gửi lên không đọc được; hãy tải lại trang theo dõi rồi bấm "
                                            "«Tạo công văn đôn đốc».")
        except BaocaoError as exc:
            return error_page(request, 400, f"Chưa lập được công văn đôn đốc: {exc}.")
        until = server.until(arrived)

        def work() -> tuple[str, bytes]:  # in a worker thread, every store wait within the time limit
            with time_limit(until):
                return d.city_dispatch(settings.store, settings.folder / "tong_hop", settings.period, settings.year,
                                       settings.deadline, server.form, due)

        try:
            name, data = await asyncio.wait_for(anyio.to_thread.run_sync(work, limiter=server.slots["tao-bao-cao"]),
                                                max(settings.timeout - (time.monotonic() - arrived), 0.0))
        except asyncio.TimeoutError:
            return error_page(request, 503, f"Máy chủ đang bận, chưa lập xong công văn trong {settings.timeout:g} "
                                            "giây; hãy thử lại sau ít phút.")
        except StoreError:
            raise  # a 503 saying why (`failure`)
        except BaocaoError as exc:  # nobody to chase (a sentence of its own), a new date not after today
            text = str(exc).rstrip(".") + "."
            return error_page(request, 409, f"Chưa lập được công văn đôn đốc: {text}" if text[:1].islower() else text)
        return Response(data, media_type=DOCX, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/tai-ve/{token}/{name}")
    def download(token: str, name: str, request: Request):
        with time_limit(each=PAGE_SECONDS), Keys(settings.store) as keys:
            path = keys.download(f"{token}/{name}")  # only files this server made and named
        if path is None or not path.exists():
            return error_page(request, 404, "Không có tệp này (liên kết đã cũ hoặc tệp đã bị xóa); hãy "
                                            "bấm «Tạo báo cáo» lần nữa.")
        return FileResponse(path, filename=path.name)

    return app


def _deeper_than(value, limit: int) -> bool:
    """Whether JSON nests lists or objects more than `limit` deep (a workbook's payload nests 5), without
    recursing: a hostile body must not reach any recursive walk further on. `value` is what json.loads made
    (exact dicts and lists); a list of plain values, most of a workbook's (its rows), is passed over by the
    set of its values' types, without a Python step per cell."""
    level = [value]
    for _ in range(limit):
        deeper = []
        for v in level:
            inside = v.values() if type(v) is dict else v
            kinds = set(map(type, inside))
            if dict in kinds or list in kinds:
                deeper += [x for x in inside if type(x) is dict or type(x) is list]
        if not deeper:
            return False
        level = deeper
    return True


def _too_big(settings: Settings) -> str:
    return (f"dữ liệu gửi lên quá lớn (trên {settings.max_bytes // 1048576} MB); phiếu số liệu chỉ vài trăm KB, "
            "hãy xóa các dòng, sheet hoặc hình ảnh thừa rồi bấm lại")


def _store_trouble(exc: BaocaoError, where: str) -> str:
    """Why the store could not be opened, as the unit may read it: logged in full, told without the server's
    own paths, which are no business of the unit."""
    log_failure(exc, where)
    return str(exc).removeprefix(f"{exc.path}: ")


_REFUSED_BUTTON = {
    "khoa": "khóa của tệp không đúng hoặc đã bị thay (máy chủ không nhận ra đơn vị); hãy dùng tệp phiếu mới nhất Sở "
            "Nội vụ gửi cho đơn vị",
    "lan-bam": "bấm quá {n} lần trong một phút; chờ một phút rồi bấm lại",
    "doan-khoa": "máy này đã gửi quá {n} khóa sai trong một phút; chờ một phút rồi bấm lại"}
_REFUSED_UPLOAD = {
    "khoa": (403, "khóa không đúng hoặc đã bị thay; hãy dùng khóa mới nhất Sở Nội vụ cấp cho đơn vị"),
    "lan-bam": (429, "gửi quá {n} lần trong một phút; chờ một phút rồi gửi lại"),
    "doan-khoa": (429, "máy này đã gửi quá {n} khóa sai trong một phút; chờ một phút rồi gửi lại")}


def _client(request: Request) -> str:
    """The sender's address (behind the proxy: the one it forwards, uvicorn's proxy_headers)."""
    return request.client.host if request.client else ""


def _admit(settings: Settings, key: str, client: str) -> str:
    """The key's unit, through the store (counts shared by every worker process and kept across restarts);
    NotAdmitted when the key is not the city's, over its requests per minute, or sent from an address that
    sent too many wrong keys this minute (then not even checked: guessing teaches nothing)."""
    with Keys(settings.store) as keys:
        if not keys.allow_guess(client, settings.per_minute):
            raise NotAdmitted("doan-khoa")
        unit = keys.unit_of(key) if key else None
        if unit is None:
            keys.wrong_guess(client)
            raise NotAdmitted("khoa")
        if not keys.allow(key, settings.per_minute):
            raise NotAdmitted("lan-bam")
        return unit


async def _capped_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is over `limit`. Read to the end even when too big (up to ten times
    the limit) so that the client sees the answer, not a reset connection."""
    body, size = bytearray(), 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            body += chunk
        elif size > 10 * limit:
            break
    return bytes(body) if size <= limit else None


def _replayed(request: Request, body: bytes) -> Request:
    """The request again, its body already read, for the form parser."""
    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


class _NoQuery(logging.Filter):
    """uvicorn's access log line without the address's query: whatever is sent there, a key included, is never
    written to a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].partition("?")[0], *args[3:])
        return True


def no_query_in_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _NoQuery) for f in access.filters):
        access.addFilter(_NoQuery())


def _port_is_free(host: str, port: int) -> None:
    """Refused in Vietnamese before uvicorn tries (its English «[Errno 98] … address already in use»)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise BaocaoError(f"không hiểu địa chỉ «{host}» của --dia-chi (ví dụ 127.0.0.1 hoặc 0.0.0.0)") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            why = {errno.EADDRINUSE: f"cổng {port} đang được một chương trình khác dùng (có thể máy chủ baocao đã "
                                     "chạy rồi); hãy dừng chương trình đó hoặc chọn cổng khác bằng --cong",
                   errno.EACCES: f"cần quyền quản trị để mở cổng {port} (cổng dưới 1024); hãy chọn cổng khác bằng "
                                 "--cong, ví dụ 8000",
                   errno.EADDRNOTAVAIL: f"địa chỉ {host} không phải của máy này; hãy dùng 127.0.0.1 (sau proxy) "
                                        "hoặc 0.0.0.0"}.get(exc.errno, f"không mở được cổng {port}: {os_reason(exc)}")
            raise BaocaoError(f"máy chủ không khởi động được: {why}", detail=str(exc)) from None


SETTINGS = "BAOCAO_MAY_CHU"  # the settings of `serve` for its worker processes, as JSON


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until SIGTERM or SIGINT. Several workers are uvicorn's: each a process started afresh, which
    builds the app from the settings this process leaves in the environment (`app_from_environment`); the
    parent restarts a worker that dies and, when stopped, stops every worker and waits for them."""
    import uvicorn

    from toolkit.server import front

    common = {"host": host, "port": port, "proxy_headers": True, "timeout_keep_alive": 10,
              "limit_concurrency": settings.max_connections, "log_level": "info"}
    _port_is_free(host, port)
    try:
        if workers == 1:
            uvicorn.run(create_app(settings), **common,
                        http=front.guarded(settings.head_timeout, settings.body_timeout, settings.per_client))
            return
        prepare(settings, load_form())
        os.environ[SETTINGS] = json.dumps({k: str(v) if isinstance(v, (Path, date)) else v
                                           for k, v in vars(settings).items()})
        os.environ.update(front.limits_for_workers(settings.head_timeout, settings.body_timeout,
                                                   settings.per_client))
        uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=workers, **common,
                    http=f"{front.__name__}:FromEnvironment")
    except SystemExit as exc:  # uvicorn gave up starting (its own lines above say why, for the administrator)
        if exc.code in (None, 0):
            raise
        raise BaocaoError("máy chủ không khởi động được (lý do ở các dòng nhật ký phía trên)") from None


def app_from_environment() -> FastAPI:
    """The app of one worker process of `serve`."""
    _die_with_parent()
    given = json.loads(os.environ[SETTINGS])
    given["folder"], given["store"] = Path(given["folder"]), store_location(given["store"])  # a URL stays one
    given["deadline"] = date.fromisoformat(given["deadline"]) if given["deadline"] else None
    return create_app(Settings(**given))


def _die_with_parent() -> None:
    """Linux: this worker gets SIGTERM when the parent process dies, even by SIGKILL (else the workers would keep
    the port and the store open, and the service could not start again)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal
        from multiprocessing import parent_process

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        parent = parent_process()
        if parent is not None and os.getppid() != parent.pid:  # the parent died before the call
            os.kill(os.getpid(), signal.SIGTERM)
