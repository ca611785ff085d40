"""Where riskclass keeps what it derives on a user's machine, all of it safe to delete (it is rebuilt on demand):
the SQLite copy of jieba's dictionary used by one-off `classify`, the
marshalled jieba dictionary batch workers load (jieba-dictionary-*.marshal) and the rule-screening plan
(rule-screen-*.marshal, keyed on the patterns and the analysis code, so a changed rulebook never reads an old one)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """RISKCLASS_CACHE_DIR, else $XDG_CACHE_HOME/riskclass, else ~/.cache/riskclass."""
    if env := os.environ.get("RISKCLASS_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "riskclass"
