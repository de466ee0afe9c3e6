"""Keys the city issues to its units for the server (`baocao server cap-khoa`).

A key is "<unit code>-<random>", so the server knows which unit claims to speak
before checking it. Only a SHA-256 of each key is kept, in the city store
(SQLite or PostgreSQL); the key itself is shown once, when issued, and lives in the unit's
workbook. A key of 192 random bits needs no slow hash: guessing is the attack, not
a dictionary. Issuing again replaces the unit's key (the old workbook stops working).

The same tables hold what the server's worker processes must share and keep across restarts: each key's
requests of the last minute (the rate limit) and the download links of the reports it made.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import secrets
import time
from datetime import datetime
from pathlib import Path

from toolkit.city import Db, failed, store_location
from toolkit.errors import BaocaoError

KEY_COLUMNS = ("ma_dvhc", "ten_don_vi", "khoa")
WINDOW = 60.0  # seconds of the rate limit's sliding window


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

    def issue(self, units: list[str]) -> dict[str, str]:
        """A new key for each unit (replacing any older one), in one transaction: unit -> key."""
        keys = {unit: f"{unit}-{secrets.token_urlsafe(24)}" for unit in units}
        now = datetime.now().isoformat(timespec="seconds")
        with self.db.write("keys"):
            self.db.executemany("INSERT INTO unit_key (unit, key_hash, issued_at) VALUES (?,?,?) ON CONFLICT (unit) "
                                "DO UPDATE SET key_hash=excluded.key_hash, issued_at=excluded.issued_at",
                                [(u, _hash(k), now) for u, k in keys.items()])
        return keys

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
                            (name, str(path), datetime.now().isoformat(timespec="seconds")))

    def download(self, name: str) -> Path | None:
        row = self.db.execute("SELECT path FROM download WHERE name=?", (name,)).fetchone()
        return Path(row[0]) if row else None


def issue_to_csv(store: Path | str, units: list[str] | None, out: Path) -> int:
    """Issue keys to `units` (all units of the form when None) and write unit code, name, key to a CSV file."""
    from toolkit.atomic import atomic_path
    from toolkit.definition import load_form

    form = load_form()
    wanted = units or [u.code for u in form.units]
    unknown = [u for u in wanted if form.unit_by_code(u) is None]
    if unknown:
        raise BaocaoError(f"mã đơn vị không có trong danh sách: {', '.join(unknown)}")
    with Keys(store) as keys:
        issued = keys.issue(wanted)
    with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(KEY_COLUMNS)
        writer.writerows((u, form.unit_by_code(u).name, k) for u, k in issued.items())
    return len(issued)


def read_csv(path: Path) -> list[tuple[str, str]]:
    """(unit code, key) of each row of a key file written by issue_to_csv."""
    try:
        with Path(path).open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise BaocaoError(f"không đọc được tệp khóa ({exc.strerror})", path=str(path)) from None
    if not rows or tuple(rows[0]) != KEY_COLUMNS or any(len(r) != 3 for r in rows[1:]):
        raise BaocaoError(f"không phải tệp khóa do «baocao server cap-khoa» ghi ra (cần các cột "
                          f"{', '.join(KEY_COLUMNS)})", path=str(path))
    return [(r[0], r[2]) for r in rows[1:]]
