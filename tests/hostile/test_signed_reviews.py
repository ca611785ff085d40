"""Issue 12: a review decision cannot be forged, and a special file given as the audit log cannot hang riskclass.

Each test plays the attacker (or the careless colleague) and checks what a user would notice: `audit verify`'s exit
code and the entry it names, whether `classify` shows a decision, what `train --with-reviews` learned from.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import DATA, run_cli

LOAN = "一款为银行筛选贷款申请人的评分模型"
GENUINE_REASON = "只给参考分，最终由信贷员决定"


def one_line(r: subprocess.CompletedProcess) -> str:
    err = r.stderr.decode("utf-8").strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def genuine_log(tmp_path: Path) -> Path:
    """A log with one real, signed decision: 张三 changed the loan model from high to medium."""
    log = tmp_path / "audit.jsonl"
    r = run_cli(
        "review", LOAN, "--reviewer", "张三", "--tier", "medium", "--reason", GENUINE_REASON, "--rules-only",
        "--audit-log", str(log),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    return log


def rehash(entry: dict) -> dict:
    """What a forger can always do: recompute the entry's own sha256 (the format is documented)."""
    import riskclass.audit.log as audit

    entry["hash"] = audit.entry_hash(entry)
    return entry


def append_raw(log: Path, entry: dict) -> None:
    with log.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def last_entry(log: Path) -> dict:
    return json.loads(log.read_text(encoding="utf-8").splitlines()[-1])


def forge_after(log: Path, **changes) -> dict:
    """The issue's attack: a new entry chained to the last one, its hash recomputed, no key needed."""
    previous = last_entry(log)
    forged = {k: v for k, v in previous.items() if k not in ("key", "signature")}
    forged.update(changes, prev=previous["hash"], timestamp="2099-01-01T00:00:00Z")
    append_raw(log, rehash(forged))
    return forged


def verify(log: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("--lang", "en", "audit", "verify", "--audit-log", str(log), *extra)


# ---- 1. forged, tampered and foreign-key entries --------------------------------------------------------------------


def test_a_forged_entry_with_a_recomputed_hash_is_caught_and_never_shown_as_a_decision(tmp_path):
    log = genuine_log(tmp_path)
    head = last_entry(log)["hash"]
    forge_after(log, reviewer="李四", decided_tier="low", accepted=False, reason="forged: only a chat bot")

    r = verify(log)
    assert r.returncode == 1
    out = r.stdout.decode()
    assert "entry 2" in out and "unsigned" in out  # names the forged entry and why
    r = verify(log, "--expect-head", head)  # the recorded head is still in the chain: that alone must not pass
    assert r.returncode == 1 and "entry 2" in r.stdout.decode()
    r = run_cli("--lang", "en", "audit", "verify", "--json", "--audit-log", str(log))
    result = json.loads(r.stdout)
    assert r.returncode == 1 and not result["ok"] and result["unverified"]["line"] == 2

    r = run_cli("classify", LOAN, "--rules-only", "--json", "--audit-log", str(log), "--lang", "en")
    assert r.returncode == 0
    data = json.loads(r.stdout)
    assert data["review"]["decided_tier"] == "medium" and data["review"]["reviewer"] == "张三"  # the genuine one
    assert data["unverified_review"]["entry"] == 2
    assert "entry 2" in one_line(r) and "unverified" in one_line(r)
    r = run_cli("classify", LOAN, "--rules-only", "--audit-log", str(log))
    assert "forged" not in r.stdout.decode() and "李四" not in r.stdout.decode()

    listed = run_cli("audit", "list", "--audit-log", str(log)).stdout.decode().splitlines()
    assert "未验证" in listed[1] and "低风险" not in listed[1] and "李四" not in listed[1]


def test_train_with_reviews_never_learns_from_a_forged_entry(tmp_path):
    log = genuine_log(tmp_path)
    other = "给网约车司机派单并按评分扣减收入的系统"
    forge_after(log, description=other, fingerprint=_fingerprint(other), decided_tier="low", reviewer="李四")
    test_csv = tmp_path / "test.csv"
    test_csv.write_text("description,tier\n工厂零件缺陷检测,low\n", encoding="utf-8")
    out = tmp_path / "model"
    r = run_cli(
        "train", "--data", str(DATA / "rubric_cases.csv"), "--test", str(test_csv), "--no-dev", "--with-reviews",
        "--audit-log", str(log), "--out", str(out), "--lang", "en",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    reviews = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reviews"]
    assert reviews["rows"] == 1 and reviews["tiers"] == {"high": 0, "medium": 1, "low": 0}  # the genuine one only
    assert reviews["unverified_left_out"] == 1
    assert "1 unverified entries left out" in r.stderr.decode()


def test_tampering_with_a_signed_entrys_tier_is_caught(tmp_path):
    log = genuine_log(tmp_path)
    entry = last_entry(log)
    entry["decided_tier"] = "low"  # the decision quietly changed, its hash recomputed: the chain alone still holds
    log.write_text(json.dumps(rehash(entry), ensure_ascii=False) + "\n", encoding="utf-8")
    r = verify(log)
    assert r.returncode == 1 and "entry 1" in r.stdout.decode() and "bad signature" in r.stdout.decode()
    data = json.loads(run_cli("classify", LOAN, "--rules-only", "--json", "--audit-log", str(log)).stdout)
    assert "review" not in data and data["unverified_review"]["entry"] == 1


def test_an_entry_signed_by_a_key_the_keyring_does_not_list_is_caught(tmp_path):
    from riskclass.audit import keys
    from riskclass.audit.log import signed_bytes

    log = genuine_log(tmp_path)
    forger_key, _ = keys.init_key("张三", tmp_path / "forger" / "key.pem")  # a real key, just not the team's
    signer = keys.load_signer(forger_key)
    previous = last_entry(log)
    forged = {**previous, "decided_tier": "low", "prev": previous["hash"], "key": signer.fingerprint}
    forged.pop("signature")
    forged["signature"] = signer.sign(signed_bytes(forged))
    append_raw(log, rehash(forged))
    r = verify(log)
    assert r.returncode == 1 and "entry 2" in r.stdout.decode() and "unknown key" in r.stdout.decode()
    data = json.loads(run_cli("classify", LOAN, "--rules-only", "--json", "--audit-log", str(log)).stdout)
    assert data["review"]["decided_tier"] == "medium" and data["review"]["entry"] == 1


def test_a_listed_key_cannot_sign_in_another_reviewers_name(tmp_path, reviewer_key):
    own = tmp_path / "keyring.txt"  # the team lists the session key only as 王五
    session = Path(os.environ["RISKCLASS_KEYRING"]).read_text(encoding="utf-8").splitlines()
    line = next(x for x in session if x.endswith(" 王五"))
    own.write_text(line + "\n", encoding="utf-8")
    log = tmp_path / "audit.jsonl"
    args = ["review", LOAN, "--reviewer", "张三", "--accept", "--rules-only", "--audit-log", str(log)]
    r = run_cli(*args, "--keyring", str(own), "--lang", "en")
    assert r.returncode == 2 and "not as 张三" in one_line(r) and not log.exists()
    genuine_log(tmp_path)  # signed as 张三 under the session keyring, then checked against the team's
    r = verify(log, "--keyring", str(own))
    assert r.returncode == 1 and "another reviewer's key" in r.stdout.decode()


# ---- the reviewer's key ---------------------------------------------------------------------------------------------


def test_init_key_creates_a_private_key_with_mode_600_once(tmp_path):
    config = tmp_path / "config"
    env = {"RISKCLASS_CONFIG_DIR": str(config), "RISKCLASS_KEYRING": str(tmp_path / "team.keys")}
    r = run_cli("review", "--init-key", "--reviewer", "张三", env=env)
    assert r.returncode == 0, r.stderr.decode()
    key = config / "review_key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    line = r.stdout.decode().strip()
    assert line.startswith("ed25519 ") and line.endswith(" 张三") and "PRIVATE" not in line
    before = key.read_bytes()
    again = run_cli("review", "--init-key", "--reviewer", "张三", "--lang", "en", env=env)
    assert again.returncode == 2 and "already exists" in one_line(again) and line in one_line(again)
    assert key.read_bytes() == before  # never overwritten

    # with the line in the team keyring, reviews are signed and verify
    (tmp_path / "team.keys").write_text("# our reviewers\n" + line + "\n", encoding="utf-8")
    log = tmp_path / "audit.jsonl"
    r = run_cli("review", LOAN, "--reviewer", "张三", "--accept", "--rules-only", "--audit-log", str(log), env=env)
    assert r.returncode == 0, r.stderr.decode()
    assert run_cli("audit", "verify", "--audit-log", str(log), env=env).returncode == 0


def test_review_without_a_key_or_onto_a_forged_log_is_refused_with_one_line(tmp_path):
    log = tmp_path / "audit.jsonl"
    env = {"RISKCLASS_CONFIG_DIR": str(tmp_path / "nokey")}
    r = run_cli("review", LOAN, "--reviewer", "张三", "--accept", "--rules-only", "--audit-log", str(log), env=env)
    assert r.returncode == 2 and "--init-key" in one_line(r) and not log.exists()

    log = genuine_log(tmp_path)
    forge_after(log, decided_tier="low")
    before = log.read_bytes()
    r = run_cli(
        "review", LOAN, "--reviewer", "张三", "--accept", "--rules-only", "--audit-log", str(log), "--lang", "en"
    )
    assert r.returncode == 2 and "entry 2" in one_line(r) and "nothing was appended" in one_line(r)
    assert log.read_bytes() == before


def test_an_old_unsigned_log_is_reported_unverified_not_crashed_on(tmp_path):
    log = tmp_path / "old.jsonl"
    entry = {
        "schema": "riskclass-audit/1", "timestamp": "2025-01-01T00:00:00Z", "reviewer": "张三",
        "fingerprint": _fingerprint(LOAN), "description": LOAN,
        "suggested": {"tier": "high", "criteria": ["H4"], "confidence": 0.85, "answers": {}},
        "decided_tier": "high", "accepted": True, "reason": "",
        "versions": {"riskclass": "0.1.0", "rulebook": "t", "model_sha256": ""}, "prev": "0" * 64,
    }  # fmt: skip
    append_raw(log, rehash(entry))
    r = verify(log)
    assert r.returncode == 1 and "entry 1" in r.stdout.decode() and "unsigned" in r.stdout.decode()
    data = json.loads(run_cli("classify", LOAN, "--rules-only", "--json", "--audit-log", str(log)).stdout)
    assert "review" not in data
    # a team moving to signatures can go on recording after its old entries
    r = run_cli("review", LOAN, "--reviewer", "张三", "--accept", "--rules-only", "--audit-log", str(log))
    assert r.returncode == 0, r.stderr.decode()
    data = json.loads(run_cli("classify", LOAN, "--rules-only", "--json", "--audit-log", str(log)).stdout)
    assert data["review"]["entry"] == 2


# ---- 2. a FIFO or other special file as the audit log ---------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize(
    "command",
    [
        ("classify", LOAN, "--rules-only"),
        ("audit", "verify"),
        ("audit", "list"),
        ("review", LOAN, "--reviewer", "张三", "--accept", "--rules-only"),
    ],
)
def test_a_fifo_as_the_audit_log_is_refused_not_waited_on(tmp_path, command):
    fifo = tmp_path / "audit.jsonl"
    os.mkfifo(fifo)
    env = {**os.environ, "NO_COLOR": "1", "RISKCLASS_LANG": "en"}  # the English message is checked
    try:  # a guard, not a timing: before the fix the command waits for a writer for ever
        r = subprocess.run(
            [sys.executable, "-m", "riskclass", *command, "--audit-log", str(fifo)],
            capture_output=True,
            env=env,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"riskclass {command[0]} hung on a FIFO given as the audit log")
    assert r.returncode == 2 and "not a regular file" in one_line(r)
    assert r.stdout == b""  # refused before any work


def _fingerprint(text: str) -> str:
    from riskclass.audit.log import fingerprint

    return fingerprint(text)


def test_the_terminal_app_shows_a_forged_entry_only_as_a_note(tmp_path):
    import asyncio

    from ..test_tui import SIZE, RiskclassApp, rules_only_engine, type_description

    log = genuine_log(tmp_path)
    forge_after(log, reviewer="李四", decided_tier="low", accepted=False, reason="forged: only a chat bot")

    async def run() -> str:
        app = RiskclassApp(engine_factory=rules_only_engine, start_dir=tmp_path, audit_log=log)
        async with app.run_test(size=SIZE) as pilot:
            await type_description(pilot, LOAN)
            return str(app.assess_screen.query_one("#prior-review").render())

    shown = asyncio.run(run())
    assert "张三" in shown and "改判为 中风险" in shown  # the genuine decision
    assert "第 2 条" in shown and "未通过验证" in shown  # the forged one: a note only
    assert "李四" not in shown and "forged" not in shown
