"""A benchmark command's ending: print its report, and keep it as JSON when asked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def emit(report: dict[str, Any], printer: Callable[[dict[str, Any]], None], json_path: str | None) -> int:
    """Print ``report`` with ``printer``, write it to ``json_path`` if given; the exit status."""
    printer(report)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0
