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


# Every reviewer name the tests record decisions under: the session's signing key is listed under each in the keyring.
TEST_REVIEWERS = ("张三", "李四", "王五", "赵六", "甲", "乙", "Li", *(f"reviewer{i}" for i in range(5)))


@pytest.fixture(scope="session", autouse=True)
def reviewer_key(tmp_path_factory):
    """Decisions are signed (issue 12): every test, and every `riskclass` process a test starts, gets a session-private
    config directory holding a signing key (never ~/.config/riskclass) and a keyring listing it under TEST_REVIEWERS.
    Returns the config directory; tests that need their own keys pass RISKCLASS_CONFIG_DIR / RISKCLASS_KEYRING."""
    from riskclass.audit import keys

    config = tmp_path_factory.mktemp("xdg-config") / "riskclass"
    keyring = config / "keyring.txt"
    saved = {k: os.environ.get(k) for k in (keys.CONFIG_ENV, keys.KEYRING_ENV)}
    os.environ[keys.CONFIG_ENV] = str(config)
    os.environ[keys.KEYRING_ENV] = str(keyring)
    _, line = keys.init_key(TEST_REVIEWERS[0])
    algorithm, public, _ = line.split(" ", 2)
    keyring.write_text("".join(f"{algorithm} {public} {name}\n" for name in TEST_REVIEWERS), encoding="utf-8")
    yield config
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def rules_engine():
    from riskclass.engine.decide import Engine

    return Engine(model=None)


_JIEBA: list = []


def jieba_tokens(normalised: str) -> list[str]:
    """jieba's own tokens (HMM off, spaces dropped) over jieba's own in-memory dictionary with the domain words, as
    jieba builds it: the reference the committed sorted dictionary and every faster cut must reproduce."""
    if not _JIEBA:
        import logging
        from importlib import resources

        import jieba

        jieba.setLogLevel(logging.CRITICAL)
        tok = jieba.Tokenizer()
        with tok.get_dict_file() as fh:
            tok.FREQ, tok.total = tok.gen_pfdict(fh)
        tok.initialized = True
        with resources.files("riskclass.data").joinpath("userdict.txt").open("rb") as fh:
            tok.load_userdict(fh)
        _JIEBA.append(tok)
    return [t for t in _JIEBA[0].lcut(normalised, HMM=False) if t.strip()]
