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
`baocao[postgres]`), so the server's per-request openings cost no new connection.
"""
from __future__ import annotations

import atexit
import os
import re
import sqlite3
import sys
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
]
READ_TABLES = ("submission", "value", "submit_attempt")  # what a reader needs (a keys-only store reads as empty)

_SQLITE_REASONS = {13: "ổ đĩa chứa kho dữ liệu đã đầy", 8: "kho dữ liệu chỉ cho đọc (không có quyền ghi)",
                   5: "kho dữ liệu đang bị chương trình khác khóa quá lâu", 6: "kho dữ liệu đang bị khóa",
                   10: "lỗi đọc ghi ổ đĩa chứa kho dữ liệu (ổ đĩa đầy hoặc hỏng)", 14: "không mở được tệp kho dữ liệu"}
_PG_REASONS = {"28": "máy chủ PostgreSQL từ chối đăng nhập (sai tên người dùng hoặc mật khẩu)",
               "3D": "cơ sở dữ liệu ghi trong địa chỉ kho không có trên máy chủ PostgreSQL",
               "08": "mất kết nối tới máy chủ PostgreSQL",
               "08004": "máy chủ PostgreSQL từ chối kết nối (xem nhật ký của máy chủ PostgreSQL)",
               "57": "máy chủ PostgreSQL đang tắt hoặc khởi động lại",
               "42501": "tài khoản PostgreSQL không có quyền ghi đọc kho dữ liệu",
               "53100": "ổ đĩa của máy chủ PostgreSQL đã đầy", "53300": "máy chủ PostgreSQL đã hết chỗ cho kết nối mới",
               "25006": "kho dữ liệu PostgreSQL chỉ cho đọc",
               "42P01": "cơ sở dữ liệu PostgreSQL này không phải kho của baocao",
               "42703": "cơ sở dữ liệu PostgreSQL này không phải kho của baocao"}
UNREACHABLE = ("không kết nối được máy chủ PostgreSQL (sai địa chỉ hoặc cổng, máy chủ chưa chạy, hoặc tường lửa "
               "chặn)")


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
    if isinstance(exc, sqlite3.Error):
        return _SQLITE_REASONS.get(getattr(exc, "sqlite_errorcode", 0) & 0xFF, default)
    state = getattr(exc, "sqlstate", None) or _refusal_state(exc)
    if state:
        return _PG_REASONS.get(state, _PG_REASONS.get(state[:2], default))
    if "psycopg_pool" in sys.modules and isinstance(exc, sys.modules["psycopg_pool"].PoolTimeout):
        return UNREACHABLE
    return default


# libpq gives a refused connection no SQLSTATE, only the server's (English) sentence
_REFUSALS = ((r'FATAL:.*database ".*" does not exist', "3D000"), (r"FATAL:.*too many", "53300"),
             (r"FATAL:.*(authentication|role|pg_hba|permission)", "28000"), (r"FATAL:", "08004"))


def _refusal_state(exc: BaseException) -> str | None:
    pgconn = getattr(exc, "pgconn", None)
    text = pgconn.error_message.decode("utf-8", "replace") if pgconn is not None else ""
    return next((state for pattern, state in _REFUSALS if re.search(pattern, text)), None)


class Db:
    """One connection to the store, migrated to the current schema (a reader's SQLite connection instead
    reads missing tables as empty ones, through temporary tables a read-only connection may create)."""

    def __init__(self, location: Path | str, readonly: bool = False):
        self.location, self.readonly, self.pg = location, readonly, is_url(location)
        self.conn: Any = None
        try:
            self.conn = _pg_connection(location) if self.pg else _sqlite_connection(Path(location), readonly)
            if not self.pg:  # SQLite takes the statements as written: no wrapper on its path (it must not slow)
                self.execute, self.executemany = self.conn.execute, self.conn.executemany
            if self._version() < len(MIGRATIONS):
                if readonly and not self.pg:
                    self._read_as_empty()
                else:
                    self._migrate()  # a PostgreSQL reader too: a database is made by the first opening
            if readonly and self.pg:
                self.conn.execute("SET default_transaction_read_only = on")
        except BaseException as exc:
            self.close()
            if isinstance(exc, BaocaoError):
                raise
            if isinstance(exc, db_errors()):
                raise BaocaoError(store_failure(exc, UNREACHABLE if self.pg else
                                                "không mở được kho dữ liệu (không phải tệp SQLite, bị hỏng hoặc "
                                                "đang bị khóa)"), path=shown(location),
                                  detail=shown(str(exc))) from None
            if isinstance(exc, OSError):  # its folder cannot be made
                raise BaocaoError(f"không tạo được thư mục của kho dữ liệu: {os_reason(exc)}", path=str(location),
                                  detail=str(exc)) from None
            raise

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
    def write(self, key: str | None = None) -> Iterator["Db"]:
        """One write transaction; `key` names what it numbers (PostgreSQL locks only that). A failed statement
        may already have ended it (SQLITE_FULL rolls back by itself, a lost connection too): roll back only
        what is still open, so the real cause is what surfaces."""
        self.execute("BEGIN IMMEDIATE" if not self.pg else "BEGIN")
        try:
            if self.pg and key is not None:
                self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))
            yield self
            self.execute("COMMIT")
        except BaseException:
            if self._in_transaction():
                try:
                    self.execute("ROLLBACK")
                except db_errors():
                    pass  # the connection is gone: the server rolled back already
            raise

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
            conn.close()
            return
        try:
            if self.readonly and not conn.closed:
                conn.execute("RESET default_transaction_read_only")
        except db_errors():
            pass  # a broken connection: the pool replaces it
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


def _naive_time(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is None
    except ValueError:
        return False


def _sqlite_connection(path: Path, readonly: bool) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60, isolation_level=None,
                               check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=60, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=60000")
    return conn


_pools: dict[tuple[int, str], Any] = {}
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
    if pool is None:
        # connect once directly first: a wrong address or password is told now, in its own words, instead of
        # the pool retrying in the background until its timeout
        psycopg.connect(url, connect_timeout=CONNECT_SECONDS).close()
        # check: a connection the server dropped (a restart of PostgreSQL) is replaced, not handed out
        pool = _pools[key] = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True},
                                            timeout=CONNECT_SECONDS * 3, check=ConnectionPool.check_connection,
                                            open=True)
    return pool.getconn()


@atexit.register
def _close_pools() -> None:
    for key in [k for k in _pools if k[0] == os.getpid()]:
        _pools.pop(key).close()
