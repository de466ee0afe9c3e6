"""A small real disk for tests of a full disk: a tmpfs mounted for the test (needs root), filled on demand."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


class SmallDisks:
    """Mount tmpfs file systems under `base`; `unmount_all()` when done."""

    def __init__(self, base: Path):
        self.base, self.mounted = base, []

    def mount(self, size: str) -> Path:
        point = self.base / f"dia{len(self.mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"không gắn được tmpfs (cần quyền root): {done.stderr.strip()}")
        self.mounted.append(point)
        return point

    def unmount_all(self) -> None:
        for point in self.mounted:
            subprocess.run(["umount", "-l", str(point)], check=False)


def fill(folder: Path, leave: int) -> None:
    """Fill the disk of `folder` until at most `leave` bytes remain."""
    block = b"\0" * 4096
    with open(folder / "day.bin", "wb") as fh:
        try:
            while shutil.disk_usage(folder).free > leave:
                fh.write(block)
                fh.flush()
        except OSError:
            pass
