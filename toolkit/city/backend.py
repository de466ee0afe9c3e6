"""Where the city store lives: a SQLite file (the default) or a PostgreSQL database (`postgresql://…`).

One schema and one set of statements for both. The SQL is written once, with `?` placeholders; the
PostgreSQL dialect turns them into psycopg's `%s`, types the two columns SQLite leaves loose, keeps
numbers of the untyped `value` column as text, and takes the write lock its own way: SQLite locks the
whole file (BEGIN IMMEDIATE); PostgreSQL locks only the key a transaction numbers (an advisory lock
held to its end), so units do not wait for one another and two numberings of one key never interleave.

Schema versions: the table schema_version holds how many of MIGRATIONS a store has had; an opening that
finds it behind applies the rest in order, in one transaction, under the store's write lock, so two
processes opening at once migrate once. Stores made before this table existed are brought up by the same
steps (each is idempotent on them).

PostgreSQL connections come from one psycopg_pool pool per address and process (extra
`baocao[postgres]`), so the server's per-request openings cost no new connection; the server keeps its SQLite
connections too (`keep_connections`: opening one, with its migration check, was 14% of a Nộp).

A failing store is a `StoreError` (a BaocaoError naming the store, never its password): `Store` and `Keys` turn
any database error raised inside their `with` block into one. Writes of one process to a SQLite file queue on a
lock of this process, not in SQLite's busy handler (which sleeps up to 100 ms between tries while the lock may
be free). A request's time limit (`time_limit`) bounds every wait for the store: the connection, the write lock,
each statement; a write whose time has run out is rolled back, not committed after its answer was given.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import re
import sqlite3
import sys
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from toolkit.errors import BaocaoError, os_reason

URL_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class AddColumn:
    """A migration step adding a column, skipped where the column exists (stores of before schema_version)."""

    table: str
    column: str
    decl: str


@dataclass(frozen=True)
class UtcTimes:
    """A migration step turning the naive times a column holds (the server's own clock, before stores kept
    UTC) into UTC instants with their offset. The migrating process runs on that server, so its local zone is
    the one those times were written in."""

    table: str
    column: str


# {id}: the row id column; {any}: a column of any value (SQLite keeps each value's type; PostgreSQL keeps text)
MIGRATIONS: list[str | AddColumn | UtcTimes] = [
    """CREATE TABLE IF NOT EXISTS submission (
        id {id},
        unit TEXT NOT NULL, unit_name TEXT, period TEXT NOT NULL, year INTEGER NOT NULL,
        version INTEGER NOT NULL, form_id TEXT, form_version TEXT,
        file TEXT, file_hash TEXT NOT NULL, received_at TEXT, stored_at TEXT,
        errors INTEGER DEFAULT 0, warnings INTEGER DEFAULT 0, findings TEXT,
        UNIQUE (unit, period, year, version)
    );
    CREATE TABLE IF NOT EXISTS value (
        submission_id INTEGER NOT NULL REFERENCES submission(id),
        code TEXT NOT NULL, kind TEXT NOT NULL, value {any}, cell TEXT,
        PRIMARY KEY (submission_id, code)
    );
    CREATE INDEX IF NOT EXISTS submission_key ON submission (unit, period, year)""",
    AddColumn("submission", "receipt", "INTEGER NOT NULL DEFAULT 0"),  # a version a unit holds a receipt of
    """CREATE TABLE IF NOT EXISTS unit_key (
        unit TEXT PRIMARY KEY, key_hash TEXT NOT NULL, issued_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS submit_attempt (
        unit TEXT NOT NULL, period TEXT NOT NULL, year INTEGER NOT NULL, at TEXT NOT NULL,
        errors INTEGER NOT NULL, warnings INTEGER NOT NULL
    )""",
    # the server's state shared by its worker processes and kept across restarts
    """CREATE TABLE IF NOT EXISTS rate_hit (key_hash TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
    CREATE INDEX IF NOT EXISTS rate_hit_key ON rate_hit (key_hash, at);
    CREATE TABLE IF NOT EXISTS download (name TEXT PRIMARY KEY, path TEXT NOT NULL, made_at TEXT NOT NULL)""",
    UtcTimes("submission", "received_at"), UtcTimes("submission", "stored_at"), UtcTimes("submit_attempt", "at"),
    UtcTimes("unit_key", "issued_at"), UtcTimes("download", "made_at"),
    # how a Nộp reached the city ("excel": the button, "trinh-duyet": the upload page) and the file's name as the
    # unit knows it: `file` of such a version is the server's own path, no business of anyone reading versions
    AddColumn("submission", "sent_by", "TEXT"), AddColumn("submission", "sent_name", "TEXT"),
]
READ_TABLES = ("submission", "value", "submit_attempt")  # what a reader needs (a keys-only store reads as empty)

OUT_OF_TIME = "kho dữ liệu bận, không xong trong thời gian cho phép (chưa lưu gì)"
_SQLITE_REASONS = {13: "ổ đĩa chứa kho dữ liệu đã đầy", 8: "kho dữ liệu chỉ cho đọc (không có quyền ghi)",
                   5: "kho dữ liệu đang bị chương trình khác khóa quá lâu", 6: "kho dữ liệu đang bị khóa",
                   10: "lỗi đọc ghi ổ đĩa chứa kho dữ liệu (ổ đĩa đầy hoặc hỏng)", 14: "không mở được tệp kho dữ liệu",
                   11: "tệp kho dữ liệu bị hỏng (hãy khôi phục từ bản sao lưu)",
                   26: "tệp kho dữ liệu bị hỏng hoặc không phải kho SQLite của baocao"}
_PG_REASONS = {"28": "máy chủ PostgreSQL từ chối đăng nhập (sai tên người dùng hoặc mật khẩu)",
               "3D": "cơ sở dữ liệu ghi trong địa chỉ kho không có trên máy chủ PostgreSQL",
               "08": "mất kết nối tới máy chủ PostgreSQL",
               "08004": "máy chủ PostgreSQL từ chối kết nối (xem nhật ký của máy chủ PostgreSQL)",
               "57": "máy chủ PostgreSQL đang tắt hoặc khởi động lại",
               "42501": "tài khoản PostgreSQL không có quyền ghi đọc kho dữ liệu",
               "53100": "ổ đĩa của máy chủ PostgreSQL đã đầy", "53300": "máy chủ PostgreSQL đã hết chỗ cho kết nối mới",
               "25006": "kho dữ liệu PostgreSQL chỉ cho đọc",
               "42P01": "cơ sở dữ liệu PostgreSQL này không phải kho của baocao",
               "57014": OUT_OF_TIME, "55P03": OUT_OF_TIME,
               "42703": "cơ sở dữ liệu PostgreSQL này không phải kho của baocao"}
UNREACHABLE = ("không kết nối được máy chủ PostgreSQL (sai địa chỉ hoặc cổng, máy chủ chưa chạy, hoặc tường lửa "
               "chặn)")


class StoreError(BaocaoError):
    """The store cannot be read or written: `reason` in Vietnamese, the store named (without a password) in the
    message; the server answers 503 with the reason alone (its paths are no business of a unit)."""

    def __init__(self, reason: str, location: Path | str, detail: str = ""):
        self.reason, self.location = reason, location
        super().__init__(reason, path=f"kho dữ liệu {shown(location)}", detail=shown(detail))

    def __reduce__(self):  # raised in a worker process of `tong-hop`, re-raised in the parent
        return StoreError, (self.reason, self.location, self.detail)


_limit = threading.local()


@contextmanager
def time_limit(until: float | None = None, each: float | None = None) -> Iterator[None]:
    """Every store wait of this thread ends by `until` (time.monotonic()) and lasts at most `each` seconds."""
    before = getattr(_limit, "until", None), getattr(_limit, "each", None)
    _limit.until, _limit.each = until, each
    try:
        yield
    finally:
        _limit.until, _limit.each = before


def time_left() -> float | None:
    """Seconds this thread's next store wait may take (None: no limit); TimeoutError once its time is over."""
    until, each = getattr(_limit, "until", None), getattr(_limit, "each", None)
    if until is None:
        return each
    left = until - time.monotonic()
    if left <= 0:
        raise TimeoutError(OUT_OF_TIME)
    return left if each is None else min(left, each)


def is_url(location: Path | str | None) -> bool:
    return isinstance(location, str) and location.startswith(URL_SCHEMES)


def store_location(text: str | Path) -> Path | str:
    """`--kho` as given: a PostgreSQL address stays text (a Path would fold its `//`), anything else a path."""
    return text if is_url(text) else Path(text)


def store_exists(location: Path | str | None) -> bool:
    """Whether there is a store to read: a SQLite file, or any PostgreSQL address (reaching it says the rest)."""
    return bool(location) and (is_url(location) or Path(location).is_file())


def shown(location: Path | str) -> str:
    """The store as a message may name it: a PostgreSQL address without its password."""
    text = re.sub(r"(postgres(?:ql)?://[^:/@?\s]*):[^@/?\s]*@", r"\1:***@", str(location))
    return re.sub(r"(password=)[^&\s]*", r"\1***", text)  # also inside a library's message


def failed(exc: BaseException | None) -> bool:
    """Whether `exc` is the store failing (a database error, or its time limit run out)."""
    return isinstance(exc, (*db_errors(), TimeoutError))


def db_errors() -> tuple[type[BaseException], ...]:
    """The errors a store's database may raise (psycopg's only once psycopg is loaded: before, none can occur)."""
    if "psycopg" not in sys.modules:
        return (sqlite3.Error,)
    import psycopg
    import psycopg_pool
    return sqlite3.Error, psycopg.Error, psycopg_pool.PoolTimeout


def data_errors() -> tuple[type[BaseException], ...]:
    """A value the store cannot hold (a number too big, a text with a NUL), as opposed to the store failing."""
    found = (sqlite3.DataError, sqlite3.IntegrityError, OverflowError, ValueError, TypeError)
    if "psycopg" in sys.modules:
        import psycopg
        found += (psycopg.DataError, psycopg.IntegrityError)
    return found


def store_failure(exc: BaseException, default: str) -> str:
    """The database's failure in Vietnamese (its English text is for the log): SQLite's by its primary result
    code, PostgreSQL's by its SQLSTATE (or its class), a pool that found no connection as unreachable."""
    if isinstance(exc, TimeoutError):
        return OUT_OF_TIME
    if isinstance(exc, sqlite3.Error):
        return _SQLITE_REASONS.get(getattr(exc, "sqlite_errorcode", 0) & 0xFF, default)
    state = getattr(exc, "sqlstate", None) or _refusal_state(exc)
    if state:
        return _PG_REASONS.get(state, _PG_REASONS.get(state[:2], default))
    if "psycopg_pool" in sys.modules and isinstance(exc, sys.modules["psycopg_pool"].PoolTimeout):
        return UNREACHABLE
    if "psycopg" in sys.modules and isinstance(exc, sys.modules["psycopg"].OperationalError):
        # libpq's own failure, no SQLSTATE: no connection made, or one lost (a server stopped)
        return UNREACHABLE if re.search(r"connection failed|could not connect", str(exc)) else _PG_REASONS["08"]
    return default


# libpq gives a refused connection no SQLSTATE, only the server's (English) sentence
_REFUSALS = ((r'FATAL:.*database ".*" does not exist', "3D000"), (r"FATAL:.*too many", "53300"),
             (r"FATAL:.*(authentication|role|pg_hba|permission)", "28000"), (r"FATAL:", "08004"))


def _refusal_state(exc: BaseException) -> str | None:
    pgconn = getattr(exc, "pgconn", None)
    text = pgconn.error_message.decode("utf-8", "replace") if pgconn is not None else ""
    return next((state for pattern, state in _REFUSALS if re.search(pattern, text)), None)


def _pg_begin(left: float | None, key: str | None) -> str:
    """PostgreSQL's start of a write transaction as one message, one round trip to the server: BEGIN, the
    request's time left as lock and statement timeouts, and the lock on `key` (its number taken here, so that no
    parameter is needed: a message of several statements takes none)."""
    parts = ["BEGIN"]
    if left is not None:
        ms = max(1, int(left * 1000))
        parts += [f"SET LOCAL lock_timeout = {ms}", f"SET LOCAL statement_timeout = {ms}"]
    if key is not None:
        number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)
        parts.append(f"SELECT pg_advisory_xact_lock({number})")
    return "; ".join(parts)


class Db:
    """One connection to the store, migrated to the current schema (a reader's SQLite connection instead
    reads missing tables as empty ones, through temporary tables a read-only connection may create)."""

    def __init__(self, location: Path | str, readonly: bool = False):
        self.location, self.readonly, self.pg = location, readonly, is_url(location)
        self.conn: Any = None
        self.kept: tuple | None = None  # SQLite: the identity of the file a kept connection may go back to
        self.lacks: set[str] = set()  # a reader of an older store: the columns added since, read as NULL
        try:
            known = False
            if self.pg:
                self.conn = _pg_connection(location)
                known = (os.getpid(), location) in _migrated
            else:  # SQLite takes the statements as written: no wrapper on its path (it must not slow)
                self.conn, self.kept, known = _sqlite_connection(Path(location), readonly)
                self.execute, self.executemany = self.conn.execute, self.conn.executemany
            keep = _kept is not None and not self.pg
            if not known and self._version() < len(MIGRATIONS):
                if readonly and not self.pg:
                    keep = False  # its temporary tables would hide the real ones once they exist
                    self._read_as_empty()
                else:
                    self._migrate()  # a PostgreSQL reader too: a database is made by the first opening
            # a new file's WAL index exists only once it has been read: its identity is taken now
            self.kept = (self.kept or _identity(Path(location), readonly)) if keep else None
            if self.kept:
                _migrated.add(self.kept)
            if self.pg:  # this process checked the database's schema: its later openings need not
                _migrated.add((os.getpid(), location))
            if readonly and self.pg:
                self.conn.execute("SET default_transaction_read_only = on")
        except BaseException as exc:
            self.kept = None  # a connection that failed is not kept
            self.close()
            if isinstance(exc, BaocaoError):
                raise
            if failed(exc):
                raise self.failure(exc, UNREACHABLE if self.pg else "không mở được kho dữ liệu (không phải tệp "
                                   "SQLite, bị hỏng hoặc đang bị khóa)") from None
            if isinstance(exc, OSError):  # its folder cannot be made
                raise StoreError(f"không tạo được thư mục của kho dữ liệu: {os_reason(exc)}", location,
                                 str(exc)) from None
            raise

    def failure(self, exc: BaseException, default: str = "không đọc ghi được kho dữ liệu") -> StoreError:
        """A database error of this store as the StoreError a user reads."""
        return StoreError(store_failure(exc, default), self.location, str(exc))

    # -- statements -------------------------------------------------------------------------------------------
    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.pg else text

    def execute(self, text: str, params: tuple | list = ()):
        return self.conn.execute(self.sql(text), params)

    def executemany(self, text: str, rows: list) -> None:
        if self.pg:
            with self.conn.cursor() as cur:
                cur.executemany(self.sql(text), rows)
        else:
            self.conn.executemany(text, rows)

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Rows into `table`: PostgreSQL's COPY, one stream instead of a statement per row (a Nộp's 200 values
        cost more of psycopg's Python than the rest of its statements together)."""
        if not self.pg:
            self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                  f"({', '.join('?' * len(columns))})", rows)
            return
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def number(self, value: int | float) -> str:
        """A number for PostgreSQL's text `value` column (read back by the value's kind)."""
        if isinstance(value, int) and not -2**63 <= value < 2**63:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")  # as SQLite: one semantics
        return repr(value)

    def has_table(self, name: str) -> bool:
        if self.pg:
            return self.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0]
        return self.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None

    @contextmanager
    def write(self, key: str | None = None, durable: bool = True) -> Iterator["Db"]:
        """One write transaction; `key` names what it numbers (PostgreSQL locks only that). A failed statement
        may already have ended it (SQLITE_FULL rolls back by itself, a lost connection too): roll back only
        what is still open, so the real cause is what surfaces. Within a time limit every wait is bounded by it
        and the transaction commits only while time is left. Not `durable` (a request counted for the rate
        limit): SQLite commits it without waiting for the disk (a power cut may forget it, nothing else)."""
        queue = None if self.pg else _write_lock(self.location)
        if queue is not None:
            left = time_left()
            if not queue.acquire(timeout=-1 if left is None else left):
                raise TimeoutError(OUT_OF_TIME)
        try:
            left = time_left()
            if left is not None and not self.pg:
                self.execute(f"PRAGMA busy_timeout={max(1, int(left * 1000))}")
            if not durable and not self.pg:
                self.execute("PRAGMA synchronous=NORMAL")
            self.execute("BEGIN IMMEDIATE" if not self.pg else _pg_begin(left, key))
            try:
                yield self
                time_left()  # out of time: rolled back below, its answer already told the unit so
                self.execute("COMMIT")
            except BaseException:
                if self._in_transaction():
                    try:
                        self.execute("ROLLBACK")
                    except db_errors():
                        pass  # the connection is gone: the server rolled back already
                raise
        finally:
            try:
                if not durable and not self.pg:
                    self.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error:
                pass  # a broken connection: its own error is the one raised
            finally:
                if queue is not None:
                    queue.release()

    def _in_transaction(self) -> bool:
        if self.pg:
            from psycopg.pq import TransactionStatus
            return self.conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR)
        return self.conn.in_transaction

    def close(self) -> None:
        if self.conn is None:
            return
        conn, self.conn = self.conn, None
        if not self.pg:
            _put_sqlite(conn, self.kept)
            return
        try:
            if self.readonly and not conn.closed:
                conn.execute("RESET default_transaction_read_only")
        except db_errors():
            pass  # a broken connection: the pool replaces it
        _returned[conn] = time.monotonic()
        _pools[(os.getpid(), self.location)].putconn(conn)

    # -- schema -----------------------------------------------------------------------------------------------
    def _version(self) -> int:
        try:  # one statement at every opening
            return self.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
        except db_errors():
            if self.has_table("schema_version"):  # another failure than a store made before the table
                raise
            return 0

    def _migrate(self) -> None:
        with self.write("schema"):  # SQLite: the file's lock; PostgreSQL: one lock for every migrating process
            self.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            done = self._version()
            for step in MIGRATIONS[done:]:
                if isinstance(step, AddColumn):
                    if step.column not in self._columns(step.table):
                        self.execute(f"ALTER TABLE {step.table} ADD COLUMN {step.column} {step.decl}")
                    continue
                if isinstance(step, UtcTimes):
                    self._to_utc(step)
                    continue
                for statement in self._ddl(step):
                    self.execute(statement)
            self.execute("DELETE FROM schema_version")
            self.execute("INSERT INTO schema_version (version) VALUES (?)", (len(MIGRATIONS),))

    def _to_utc(self, step: UtcTimes) -> None:
        naive = [t for (t,) in self.execute(f"SELECT DISTINCT {step.column} FROM {step.table} WHERE "
                                            f"{step.column} IS NOT NULL AND {step.column} <> ''")
                 if _naive_time(t)]
        self.executemany(f"UPDATE {step.table} SET {step.column}=? WHERE {step.column}=?",
                         [(datetime.fromisoformat(t).astimezone(timezone.utc).isoformat(timespec="seconds"), t)
                          for t in naive])

    def _ddl(self, step: str) -> list[str]:
        types = ({"id": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "any": "TEXT"} if self.pg else
                 {"id": "INTEGER PRIMARY KEY", "any": ""})
        return [s.strip() for s in step.format(**types).split(";") if s.strip()]

    def _columns(self, table: str) -> set[str]:
        if self.pg:
            return {r[0] for r in self.execute("SELECT column_name FROM information_schema.columns WHERE "
                                               "table_name=? AND table_schema=current_schema()", (table,))}
        return {r[1] for r in self.execute(f"PRAGMA table_info({table})")}

    def _read_as_empty(self) -> None:
        """A store that holds only units' keys so far (server cap-khoa) or made by an older baocao: the
        tables a reader needs and it lacks, as empty temporary ones."""
        for step in MIGRATIONS:
            for statement in self._ddl(step) if isinstance(step, str) else []:
                name = re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", statement)
                if name and name[1] in READ_TABLES and not self.has_table(name[1]):
                    self.execute(statement.replace("CREATE TABLE", "CREATE TEMP TABLE"))
        self.lacks = {step.column for step in MIGRATIONS if isinstance(step, AddColumn)
                      and step.table in READ_TABLES and step.column not in self._columns(step.table)}


def _naive_time(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is None
    except ValueError:
        return False


_kept: dict[tuple, list[sqlite3.Connection]] | None = None  # None: SQLite connections are not kept
_kept_lock = threading.Lock()
_migrated: set[tuple] = set()  # stores known to be at the current schema (no check at each opening): SQLite
# files by their identity, PostgreSQL databases by (process, address)
_write_locks: dict[str, threading.Lock] = {}


def keep_connections() -> None:
    """This process (the server) keeps its SQLite connections for the next opening, as PostgreSQL's pool does,
    and opens the pool's connections at its start (before its first store opening)."""
    global _kept
    if _kept is None:
        _kept = {}


def _sqlite_connection(path: Path, readonly: bool) -> tuple[sqlite3.Connection, tuple | None, bool]:
    """(a connection, the identity under which it may be kept, whether it is known to be migrated). A kept
    connection is taken only while its file and the file's shared-memory index are the ones it opened (not
    deleted, replaced or restored from a copy meanwhile)."""
    busy = time_left()
    busy_ms = 60000 if busy is None else max(1, int(busy * 1000))
    if _kept is not None:
        ident = _identity(path, readonly)
        with _kept_lock:
            free = _kept.get(ident) if ident else None
            conn = free.pop() if free else None
        if conn is not None:
            conn.execute(f"PRAGMA busy_timeout={busy_ms}")
            return conn, ident, ident in _migrated
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=busy_ms / 1000, isolation_level=None,
                               check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA busy_timeout={busy_ms}")
    return conn, None, False


def _identity(path: Path, readonly: bool) -> tuple | None:
    """The store file and its WAL index (-shm) as this process sees them now; None when either is missing."""
    try:
        main, shm = path.stat(), Path(f"{path}-shm").stat()
    except OSError:
        return None
    return os.getpid(), str(path), readonly, main.st_dev, main.st_ino, shm.st_dev, shm.st_ino


def _put_sqlite(conn: sqlite3.Connection, ident: tuple | None) -> None:
    """Back to the kept ones (a whole connection, no transaction open), or closed."""
    if _kept is not None and ident is not None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            with _kept_lock:
                free = _kept.setdefault(ident, [])
                if len(free) < POOL_SIZE:
                    free.append(conn)
                    return
        except sqlite3.Error:
            pass
    conn.close()


def _write_lock(location: Path | str) -> threading.Lock:
    with _kept_lock:
        return _write_locks.setdefault(str(location), threading.Lock())


_pools: dict[tuple[int, str], Any] = {}
_returned: "weakref.WeakKeyDictionary[Any, float]" = weakref.WeakKeyDictionary()  # connection -> given back at
CHECK_IDLE_SECONDS = 2.0
POOL_SIZE = 8  # per process: the server's threads share them (a write holds one for a few milliseconds)
CONNECT_SECONDS = 10


def _pg_connection(url: str):
    try:
        import psycopg
        from psycopg_pool import ConnectionPool
    except ImportError:
        raise BaocaoError("kho PostgreSQL cần gói psycopg: cài bằng «pip install 'baocao[postgres]'»",
                          path=shown(url)) from None
    key = (os.getpid(), url)  # a forked worker process makes its own pool: connections are not shared
    pool = _pools.get(key)
    left = time_left()
    # a request's wait for a connection: a Nộp holds one for milliseconds, so a longer wait means PostgreSQL is
    # gone, which the unit is told then, not at the end of its time limit
    wait = CONNECT_SECONDS * 3 if left is None else min(left, CONNECT_SECONDS)
    if pool is None:
        # connect once directly first: a wrong address or password is told now, in its own words, instead of
        # the pool retrying in the background until its timeout
        psycopg.connect(url, connect_timeout=max(1, round(min(wait, CONNECT_SECONDS)))).close()
        # check: a connection the server dropped (a restart of PostgreSQL) is replaced, not handed out, once it
        # was idle long enough to have been dropped unseen (_check_idle). The
        # server (keep_connections) opens them all at its start: a pool growing one by one during the deadline's
        # rush made Nộp wait for connections being opened
        pool = _pools[key] = ConnectionPool(url, min_size=1 if _kept is None else POOL_SIZE, max_size=POOL_SIZE,
                                            kwargs={"autocommit": True},
                                            timeout=CONNECT_SECONDS * 3, check=_check_idle, open=True)
    return pool.getconn(timeout=wait)


def _check_idle(conn) -> None:
    """The pool's check of a connection it hands out: a round trip to the server, for a connection idle more
    than CHECK_IDLE_SECONDS (one given back since was working a moment ago). Checked at every opening, a Nộp
    made three round trips more, each a wait for the GIL again under the deadline's rush."""
    from psycopg_pool import ConnectionPool

    if time.monotonic() - _returned.get(conn, -CHECK_IDLE_SECONDS) >= CHECK_IDLE_SECONDS:
        ConnectionPool.check_connection(conn)


@atexit.register
def _close_pools() -> None:
    for key in [k for k in _pools if k[0] == os.getpid()]:
        _pools.pop(key).close()
    for ident in [k for k in _kept or {} if k[0] == os.getpid()]:
        for conn in _kept.pop(ident):
            conn.close()
