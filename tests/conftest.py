import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def run_cli(*args: str, input: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m riskclass` as a user would, in a separate process."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "riskclass", *args], input=input, capture_output=True, env=full_env, timeout=120
    )


@pytest.fixture(scope="session")
def rules_engine():
    from riskclass.engine import Engine

    return Engine(model=None)
