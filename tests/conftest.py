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


@pytest.fixture(scope="session", autouse=True)
def private_audit_log(tmp_path_factory):
    """No test reads or writes the real audit log (~/.local/share/riskclass/audit.jsonl): every test, and every
    `riskclass` process a test starts, gets a session-private location unless it passes its own."""
    data_home = tmp_path_factory.mktemp("xdg-data")
    saved = {k: os.environ.get(k) for k in ("RISKCLASS_AUDIT_LOG", "XDG_DATA_HOME")}
    os.environ["RISKCLASS_AUDIT_LOG"] = str(data_home / "riskclass" / "audit.jsonl")
    os.environ["XDG_DATA_HOME"] = str(data_home)
    yield data_home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def rules_engine():
    from riskclass.engine.decide import Engine

    return Engine(model=None)
