"""Where runs are written: a folder the user names, else a timestamped one under `var/`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path


def run_folder(given: str | None, parent: Path, label: str) -> Path:
    """`given`, else `parent/YYYYMMDD-HHMMSS-LABEL` with the label made safe for a file name."""
    if given:
        return Path(given)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return parent / f"{stamp}-{label.replace(':', '-').replace('/', '_')}"
