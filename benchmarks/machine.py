"""What every benchmark prints first: the machine's load, which its wall times follow (CPU seconds do not)."""
from __future__ import annotations

import os


def print_load() -> None:
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times grow with "
          "it; CPU seconds do not)", flush=True)
