"""Where riskclass keeps what it derives on a user's machine (retrained models, the on-disk dictionary)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """RISKCLASS_CACHE_DIR, else $XDG_CACHE_HOME/riskclass, else ~/.cache/riskclass."""
    if env := os.environ.get("RISKCLASS_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "riskclass"
