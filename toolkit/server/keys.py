"""Keys the city issues to its units for the server (`baocao server cap-khoa`).

A key is "<unit code>-<random>", so the server knows which unit claims to speak
before checking it. Only a SHA-256 of each key is kept, in the city store
(SQLite or PostgreSQL); the key itself is shown once, when issued, and lives in the unit's
workbook. A key of 192 random bits needs no slow hash: guessing is the attack, not
a dictionary. Issuing again replaces the unit's key (the old workbook stops working), so `cap-khoa` does it only
when asked by name (--cap-lai) or for all (--tat-ca).

The same tables hold what the server's worker processes must share and keep across restarts: each key's
requests of the last minute (the rate limit) and the download links of the reports it made.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from toolkit.city import Db, failed, store_location
from toolkit.errors import BaocaoError, os_reason
from toolkit.vnformat import stored_time, utc_now

KEY_COLUMNS = ("ma_dvhc", "ten_don_vi", "khoa")
WINDOW = 60.0  # seconds of the rate limit's sliding window


def new_keys(units: list[str]) -> dict[str, str]:
    return {unit: f"{unit}-{secrets.token_urlsafe(24)}" for unit in units}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _address(address: str) -> str:
    """The rate_hit name of an address's wrong keys (never equal to a key's hash: not 64 hex digits)."""
    return f"dia-chi {address}"


class Keys:
    def __init__(self, path: Path | str):
        self.db = Db(store_location(path))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Keys":
        return self

    def __exit__(self, kind, exc, trace) -> None:
        self.close()
        if failed(exc):  # the store, not the caller: said in Vietnamese, naming the store
            raise self.db.failure(exc) from None

    def issue(self, units: list[str], keys: dict[str, str] | None = None) -> dict[str, str]:
        """A new key for each unit (replacing any older one), in one transaction: unit -> key. `keys`: made
        beforehand by new_keys (so that they are written down before the old ones stop working)."""
        keys = keys or new_keys(units)
        now = stored_time(utc_now())
        with self.db.write("keys"):
            self.db.executemany("INSERT INTO unit_key (unit, key_hash, issued_at) VALUES (?,?,?) ON CONFLICT (unit) "
                                "DO UPDATE SET key_hash=excluded.key_hash, issued_at=excluded.issued_at",
                                [(u, _hash(k), now) for u, k in keys.items()])
        return keys

    def holders(self) -> set[str]:
        """The units that have a key."""
        return {row[0] for row in self.db.execute("SELECT unit FROM unit_key").fetchall()}

    def unit_of(self, key: str) -> str | None:
        """The unit a key belongs to, or None when the key is not one the city issued (or was replaced)."""
        unit = key.partition("-")[0]
        row = self.db.execute("SELECT key_hash FROM unit_key WHERE unit=?", (unit,)).fetchone()
        if row and hmac.compare_digest(row[0], _hash(key)):
            return unit
        return None

    def allow(self, key: str, per_minute: int) -> bool:
        """Whether the key may make one more request: at most `per_minute` in any 60 seconds (a sliding window
        over every process of the server; wall-clock time, which they share)."""
        digest, now = _hash(key), time.time()
        with self.db.write(f"rate {digest}", durable=False):
            if self.db.pg:  # one statement, one round trip to the server (SQLite has no DELETE in a WITH)
                return self.db.execute(
                    "WITH gone AS (DELETE FROM rate_hit WHERE key_hash=? AND at <= ?) INSERT INTO rate_hit (key_hash, "
                    "at) SELECT ?, ? WHERE (SELECT COUNT(*) FROM rate_hit WHERE key_hash=? AND at > ?) < ? RETURNING 1",
                    (digest, now - WINDOW, digest, now, digest, now - WINDOW, per_minute)).fetchone() is not None
            self.db.execute("DELETE FROM rate_hit WHERE key_hash=? AND at <= ?", (digest, now - WINDOW))
            if self.db.execute("SELECT COUNT(*) FROM rate_hit WHERE key_hash=?", (digest,)).fetchone()[0] >= per_minute:
                return False
            self.db.execute("INSERT INTO rate_hit (key_hash, at) VALUES (?,?)", (digest, now))
            return True

    def allow_guess(self, address: str, per_minute: int) -> bool:
        """Whether `address` sent fewer than `per_minute` wrong keys in the last 60 seconds (a read: a right key
        costs no write here)."""
        row = self.db.execute("SELECT COUNT(*) FROM rate_hit WHERE key_hash=? AND at > ?",
                              (_address(address), time.time() - WINDOW)).fetchone()
        return row[0] < per_minute

    def wrong_guess(self, address: str) -> None:
        """A wrong key from `address`, counted with the keys' requests (every process of the server sees it)."""
        digest, now = _address(address), time.time()
        with self.db.write(f"rate {digest}", durable=False):
            self.db.execute("DELETE FROM rate_hit WHERE key_hash=? AND at <= ?", (digest, now - WINDOW))
            self.db.execute("INSERT INTO rate_hit (key_hash, at) VALUES (?,?)", (digest, now))

    def add_download(self, name: str, path: Path) -> None:
        """A file the server made, offered at /tai-ve/<name> (`name`: a random token / the file's name)."""
        with self.db.write():
            self.db.execute("INSERT INTO download (name, path, made_at) VALUES (?,?,?)",
                            (name, str(path), stored_time(utc_now())))

    def download(self, name: str) -> Path | None:
        row = self.db.execute("SELECT path FROM download WHERE name=?", (name,)).fetchone()
        return Path(row[0]) if row else None


@dataclass
class Issued:
    """What one `cap-khoa` did: keys issued (`revoked` of them replaced a unit's older key), units left with the
    key they have, rows of the key file kept as they were."""
    issued: int
    revoked: int
    skipped: list[str]
    kept: int


def issue_to_csv(store: Path | str, out: Path, units: list[str] | None = None, reissue: list[str] | None = None,
                 everyone: bool = False) -> Issued:
    """Issue keys to the units among `units` (all units of the form when None) that have none yet, and new
    keys (the old ones revoked) to those in `reissue`, or to all of them with `everyone`. The new keys are
    merged into `out`: a unit's row is replaced, every other row stays, so a key file never loses a line."""
    from toolkit.atomic import atomic_path
    from toolkit.definition import load_form

    form = load_form()
    reissue = reissue or []
    wanted = list(dict.fromkeys((units or ([] if reissue else [u.code for u in form.units])) + reissue))
    unknown = [u for u in wanted if form.unit_by_code(u) is None]
    if unknown:
        raise BaocaoError(f"mã đơn vị không có trong danh sách: {', '.join(unknown)}")
    try:
        rows = read_rows(out) if out.exists() else {}
    except BaocaoError as exc:  # someone else's file: refused, not overwritten
        raise BaocaoError(f"{exc}; không ghi đè tệp này, hãy chọn tên khác cho --ra") from None
    with Keys(store) as keys:
        holders = keys.holders()
        renew = set(wanted) if everyone else set(reissue)
        todo = [u for u in wanted if u not in holders or u in renew]
        skipped = [u for u in wanted if u not in todo]
        if not todo:
            raise BaocaoError(f"không cấp khóa nào: {_units(skipped)} đã có khóa (khóa đã gửi vẫn dùng được). "
                              "Cấp lại, khóa cũ hết hiệu lực: --cap-lai MA… hoặc --tat-ca")
        issued = new_keys(todo)
        rows.update((u, (form.unit_by_code(u).name, k)) for u, k in issued.items())
        with atomic_path(out) as tmp:
            os.chmod(tmp, 0o600)  # the keys of every unit: readable by the city's administrator only
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:  # the BOM: Excel on Windows reads UTF-8
                writer = csv.writer(fh)
                writer.writerow(KEY_COLUMNS)
                writer.writerows((u, name, k) for u, (name, k) in rows.items())
            keys.issue(todo, issued)  # only once the file is written: a full disk revokes no key
    return Issued(len(issued), sum(u in holders for u in issued), skipped, len(rows) - len(issued))


def _units(codes: list[str]) -> str:
    return f"đơn vị {codes[0]}" if len(codes) == 1 else f"{len(codes)} đơn vị"


def read_rows(path: Path) -> dict[str, tuple[str, str]]:
    """unit code -> (name, key) of a key file written by issue_to_csv, also after Excel saved it again
    (with a byte-order mark, or with «;» between columns as Excel does where the decimal mark is a comma)."""
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else "không phải văn bản UTF-8"
        raise BaocaoError(f"không đọc được tệp khóa ({reason})", path=str(path)) from None
    header = text.partition("\n")[0]
    rows = list(csv.reader(text.splitlines(), delimiter=";" if header.count(";") > header.count(",") else ","))
    rows = [r for r in rows if any(cell.strip() for cell in r)]  # Excel keeps blank lines as ";;"
    if not rows or tuple(c.strip() for c in rows[0]) != KEY_COLUMNS or any(len(r) != 3 for r in rows[1:]):
        raise BaocaoError(f"không phải tệp khóa do «baocao server cap-khoa» ghi ra (cần các cột "
                          f"{', '.join(KEY_COLUMNS)})", path=str(path))
    return {r[0].strip(): (r[1].strip(), r[2].strip()) for r in rows[1:]}


def read_csv(path: Path) -> list[tuple[str, str]]:
    """(unit code, key) of each row of a key file written by issue_to_csv."""
    return [(unit, key) for unit, (_, key) in read_rows(path).items()]
