"""Reviewer decisions and the audit log (issue 6): fingerprints, the hash chain, tampering, concurrency, training."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import riskclass.audit.log as audit
import riskclass.training.pipeline as training
from riskclass.audit.log import GENESIS, AuditLog, Suggestion, fingerprint
from riskclass.errors import AuditError, InputError
from riskclass.text.normalise import normalise

from .conftest import DATA, ROOT

VERSIONS = {"riskclass": "0.1.0", "rulebook": "test", "model_sha256": ""}
HIGH = Suggestion("high", ("H4",), 0.85, VERSIONS)
LOW = Suggestion("low", (), 0.65, VERSIONS)


def write_log(path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(path)
    for i in range(n):
        if i % 2:
            log.append(f"产品 {i}：工厂零件缺陷检测", LOW, f"reviewer{i}", "medium", reason=f"理由 {i}")
        else:
            log.append(f"产品 {i}：一款为银行筛选贷款申请人的评分模型", HIGH, f"reviewer{i}")
    return log


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


# ---- fingerprint and format ----------------------------------------------------------------------------------------


def test_fingerprint_is_the_sha256_of_the_normalised_description():
    text = "一款为银行筛选贷款申请人的评分模型"
    assert fingerprint(text) == hashlib.sha256(normalise(text).text.encode("utf-8")).hexdigest()
    # whitespace-only variants: leading, trailing, runs of spaces, newlines, full-width spaces
    assert fingerprint("  人脸识别 门禁\n") == fingerprint("人脸识别\u3000\u3000门禁") == fingerprint("人脸识别 门禁")
    assert fingerprint("會議室門口用人臉辨識開門") == fingerprint("会议室门口用人脸辨识开门")  # 繁 / 简
    assert fingerprint("ＡＩ 简历筛选") == fingerprint("ai 简历筛选")  # width and case
    assert fingerprint("人脸识别门禁") != fingerprint("指纹识别门禁")


def test_decisions_are_appended_chained_and_read_back(tmp_path):
    path = tmp_path / "sub" / "audit.jsonl"  # the directory is created
    log = AuditLog(path)
    assert log.latest_for(fingerprint("x")) is None  # no log yet: nothing to show, no error
    first = log.append("一款为银行筛选贷款申请人的评分模型", HIGH, "  张三 ")
    second = log.append("工厂零件缺陷检测", LOW, "李四", "medium", reason="用于安全部件的检测")
    third = log.append("一款为银行筛选贷款申请人的  评分模型 ", HIGH, "王五", "low", reason="只给参考分")
    assert (first.line, second.line, third.line) == (1, 2, 3)
    d1, d2, d3 = log.entries()
    assert d1.reviewer == "张三" and d1.accepted and d1.decided_tier == "high" and d1.reason == ""
    assert d1.prev == GENESIS and d2.prev == d1.hash and d3.prev == d2.hash
    assert not d2.accepted and d2.suggested.tier == "low" and d2.decided_tier == "medium"
    assert d1.timestamp.endswith("Z") and "T" in d1.timestamp
    assert d1.versions == VERSIONS and d1.suggested.criteria == ("H4",) and d1.suggested.confidence == 0.85
    raw = json.loads(lines_of(path)[0])
    assert raw["schema"] == audit.SCHEMA and raw["description"] == "一款为银行筛选贷款申请人的评分模型"
    assert raw["hash"] == hashlib.sha256(audit.canonical(raw)).hexdigest()
    # the latest decision about a fingerprint wins, whatever whitespace it was typed with
    assert log.latest_for(fingerprint("一款为银行筛选贷款申请人的 评分模型")).reviewer == "王五"
    assert log.latest_for(fingerprint("不存在的产品")) is None
    check = log.verify()
    assert check.ok and check.entries == 3 and check.intact == 3 and check.head == d3.hash


def test_append_from_an_assessment_records_what_was_suggested(tmp_path, rules_engine):
    a = rules_engine.assess("给租户打分的平台", answers={"H4": True})
    r = AuditLog(tmp_path / "a.jsonl").record(a, "张三")
    d = r.decision
    assert d.suggested.tier == a.tier == d.decided_tier and d.accepted
    assert d.suggested.criteria == tuple(h.id for h in a.criteria) and d.suggested.answers == {"H4": True}
    assert d.versions == a.versions and d.fingerprint == fingerprint(a.description)


@pytest.mark.parametrize(
    ("reviewer", "tier", "reason", "message"),
    [
        ("", None, "", "reviewer name is required"),
        ("   ", None, "", "reviewer name is required"),
        ("张三\n李四", None, "", "one line"),
        ("张\x1b[31m三", None, "", "control characters"),
        ("x" * 201, None, "", "at most 200"),
        ("张三", "medium", "", r"a reason is required when the decided tier \(medium\) differs"),
        ("张三", "medium", "  ", "a reason is required"),
        ("张三", "urgent", "x", "must be one of high, medium, low"),
    ],
)
def test_unusable_decisions_are_refused_and_nothing_is_written(tmp_path, reviewer, tier, reason, message):
    path = tmp_path / "audit.jsonl"
    with pytest.raises(InputError, match=message):
        AuditLog(path).append("一款为银行筛选贷款申请人的评分模型", HIGH, reviewer, tier, reason)
    assert not path.exists()


def test_choosing_the_suggested_tier_is_accepting_it(tmp_path):
    d = AuditLog(tmp_path / "a.jsonl").append("人脸识别门禁", HIGH, "张三", "high").decision
    assert d.accepted and d.reason == ""


# ---- the chain: what verify finds ---------------------------------------------------------------------------------


def _edit(lines):
    entry = json.loads(lines[2])
    entry["decided_tier"] = "low"  # a quiet change of the decision
    lines[2] = json.dumps(entry, ensure_ascii=False) + "\n"
    return lines, 3, "edited"


def _edit_and_rehash(lines):
    entry = json.loads(lines[2])
    entry["reason"] = "改过的理由"
    entry["hash"] = audit.entry_hash(entry)  # the forger recomputes the entry's own hash: the next link breaks
    lines[2] = json.dumps(entry, ensure_ascii=False) + "\n"
    return lines, 4, "deleted"


def _delete(lines):
    del lines[1]
    return lines, 2, "deleted"


def _delete_first(lines):
    del lines[0]
    return lines, 1, "deleted"


def _reorder(lines):
    lines[1], lines[2] = lines[2], lines[1]
    return lines, 2, "reordered"


def _duplicate(lines):
    lines.insert(2, lines[1])
    return lines, 3, "duplicated"


def _not_json(lines):
    lines[3] = "{ this is not json\n"
    return lines, 4, "not_json"


def _torn(lines):
    lines[-1] = lines[-1][:40]  # a write cut short: no newline, not JSON
    return lines, 5, "torn"


def _insert(lines):
    forged = json.loads(lines[1])  # a well-formed entry chained to entry 1, slipped in before entry 2
    forged["reviewer"], forged["decided_tier"] = "forger", "low"
    forged["hash"] = audit.entry_hash(forged)
    lines.insert(1, json.dumps(forged, ensure_ascii=False) + "\n")
    return lines, 3, "inserted"


def _nan(lines):
    lines[1] = lines[1].replace('"confidence": 0.65', '"confidence": NaN')
    return lines, 2, "malformed"


def _concatenated(lines):
    other = json.loads(lines[0])  # the first entry of another log (prev = GENESIS) appended at the end
    other["reviewer"] = "another team"
    other["hash"] = audit.entry_hash(other)
    return [*lines, json.dumps(other, ensure_ascii=False) + "\n"], 6, "restarted"


@pytest.mark.parametrize(
    "tamper",
    [
        _edit,
        _edit_and_rehash,
        _delete,
        _delete_first,
        _reorder,
        _duplicate,
        _insert,
        _not_json,
        _nan,
        _torn,
        _concatenated,
    ],
)
def test_verify_names_the_first_broken_entry(tmp_path, tamper):
    path = tmp_path / "audit.jsonl"
    write_log(path)
    assert AuditLog(path).verify().ok
    lines, line, kind = tamper(lines_of(path))
    path.write_text("".join(lines), encoding="utf-8")
    check = AuditLog(path).verify()
    assert not check.ok
    assert (check.problem.line, check.problem.kind) == (line, kind)
    assert check.intact == line - 1
    said = audit.describe_break(check.problem, "en")
    assert said.startswith(f"entry {line}") and "\n" not in said
    if kind not in ("not_json", "torn"):
        assert check.problem.reviewer and check.problem.reviewer in said  # who and when, when readable
        assert check.problem.timestamp in said


def test_entries_are_still_listed_when_the_chain_is_broken(tmp_path):
    path = tmp_path / "audit.jsonl"
    write_log(path)
    lines, _, _ = _not_json(lines_of(path))
    path.write_text("".join(lines), encoding="utf-8")
    log = AuditLog(path)
    assert [d.reviewer for d in log.entries()] == ["reviewer0", "reviewer1", "reviewer2", "reviewer4"]


def test_append_refuses_after_a_damaged_last_entry_and_on_a_foreign_file(tmp_path):
    path = tmp_path / "audit.jsonl"
    write_log(path, 2)
    lines, _, _ = _torn(lines_of(path))
    path.write_text("".join(lines), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(AuditError, match="not JSON"):
        AuditLog(path).append("人脸识别门禁", HIGH, "张三")
    path.write_bytes(before[: before.rfind(b"\n") + 1])  # drop the torn line: the chain is whole again
    entry = json.loads(lines_of(path)[-1])
    entry["reviewer"] = "someone else"
    path.write_text("".join([*lines_of(path)[:-1], json.dumps(entry, ensure_ascii=False) + "\n"]), encoding="utf-8")
    with pytest.raises(AuditError, match="does not match its hash"):
        AuditLog(path).append("人脸识别门禁", HIGH, "张三")

    foreign = tmp_path / "other.jsonl"
    foreign.write_text('{"event": "login", "user": "x"}\n{"event": "logout", "user": "x"}\n', encoding="utf-8")
    with pytest.raises(AuditError, match="not a riskclass audit log"):
        AuditLog(foreign).append("人脸识别门禁", HIGH, "张三")
    with pytest.raises(AuditError, match="not a riskclass audit log"):
        AuditLog(foreign).verify()
    assert foreign.read_text(encoding="utf-8").count("\n") == 2  # untouched


def test_unusable_locations_are_one_line_errors(tmp_path):
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(AuditError, match="is a directory"):
        AuditLog(tmp_path / "dir.jsonl").append("人脸识别门禁", HIGH, "张三")
    with pytest.raises(AuditError, match="is a directory"):
        AuditLog(tmp_path / "dir.jsonl").verify()
    (tmp_path / "file").write_text("x")
    with pytest.raises(AuditError, match="cannot write the audit log"):
        AuditLog(tmp_path / "file" / "audit.jsonl").append("人脸识别门禁", HIGH, "张三")
    with pytest.raises(AuditError, match="no audit log at"):
        AuditLog(tmp_path / "missing.jsonl").verify()


def test_the_location_follows_option_then_environment_then_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKCLASS_AUDIT_LOG", str(tmp_path / "env.jsonl"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert audit.audit_log_path(tmp_path / "opt.jsonl") == tmp_path / "opt.jsonl"
    assert audit.audit_log_path() == tmp_path / "env.jsonl"
    monkeypatch.delenv("RISKCLASS_AUDIT_LOG")
    assert audit.audit_log_path() == tmp_path / "xdg" / "riskclass" / "audit.jsonl"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert audit.audit_log_path() == Path.home() / ".local" / "share" / "riskclass" / "audit.jsonl"


# ---- two processes at once ----------------------------------------------------------------------------------------

WORKER = """
import pathlib, sys, time
from riskclass.audit.log import AuditLog, Suggestion
path, who, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), pathlib.Path(sys.argv[4])
log = AuditLog(path)
suggestion = Suggestion("high", ("H5",), 0.85, {"riskclass": "t", "rulebook": "t", "model_sha256": ""})
deadline = time.monotonic() + 30
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.002)
for i in range(n):
    log.append(f"{who} 的第 {i} 个产品：人脸识别门禁", suggestion, who)
"""


def test_two_processes_appending_at_once_lose_nothing_and_keep_one_chain(tmp_path):
    path, go, n = tmp_path / "audit.jsonl", tmp_path / "go", 200
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(path), who, str(n), str(go)], cwd=ROOT)
        for who in ("甲", "乙")
    ]
    time.sleep(0.3)  # both interpreters up and waiting
    go.touch()
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    log = AuditLog(path)
    check = log.verify()
    assert check.ok and check.entries == 2 * n == check.intact
    decisions = log.entries()
    for who in ("甲", "乙"):
        mine = [d.description for d in decisions if d.reviewer == who]
        assert mine == [f"{who} 的第 {i} 个产品：人脸识别门禁" for i in range(n)]  # none lost, each in order
    switches = sum(a.reviewer != b.reviewer for a, b in itertools.pairwise(decisions))
    assert switches > 1, "the two writers did not overlap: the test proved nothing"


# ---- training with reviews ----------------------------------------------------------------------------------------


def test_train_with_reviews_adds_them_apart_from_the_corpus_and_leaves_held_out_rows_out(tmp_path, capsys, monkeypatch):
    from riskclass.cli.main import main

    corpus = DATA / "rubric_cases.csv"
    corpus_bytes = corpus.read_bytes()
    test_csv = tmp_path / "test.csv"
    test_csv.write_text(
        "description,tier\n人脸识别门禁系统，刷脸进出小区,high\n工厂零件缺陷检测,low\n智能客服机器人，回答订单问题,medium\n",
        encoding="utf-8",
    )
    dev_description = training.read_labelled_csv(training.training_data_dir() / "dev2.csv").examples[0].description
    log_path = tmp_path / "audit.jsonl"
    log = AuditLog(log_path)
    log.append("陪独居老人聊天、提醒吃药的 AI 音箱", LOW, "张三", "medium", reason="面向老人，涉及情感陪伴")
    log.append("  人臉識別門禁系統，刷臉進出小區 ", HIGH, "李四")  # the held-out row, in 繁體 with spaces: left out
    log.append(dev_description, LOW, "王五", "high", reason="开发集里的一行")  # a development row: left out
    log.append("给网约车司机派单并按评分扣减收入的系统", HIGH, "张三")
    log.append("陪独居老人聊天、提醒吃药的 AI 音箱", LOW, "赵六", "low", reason="复议：只是聊天")  # latest wins

    out = tmp_path / "model"
    args = ["train", "--data", str(corpus), "--test", str(test_csv), "--no-dev", "--with-reviews"]
    assert main([*args, "--out", str(out), "--audit-log", str(log_path), "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert "2 reviewed descriptions" in err and "2 left out" in err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    reviews = manifest["reviews"]
    assert reviews["rows"] == 2 and reviews["left_out_held_out"] == 2 and reviews["log_entries"] == 5
    assert reviews["tiers"] == {"high": 1, "medium": 0, "low": 1}  # the later decision (low) replaced medium
    assert reviews["head"] == log.verify().head
    held = [training.read_labelled_csv(test_csv), training.read_labelled_csv(training.training_data_dir() / "dev2.csv")]
    rows = training.review_rows(log_path, held)
    assert [e.description for e in rows.examples] == [
        "给网约车司机派单并按评分扣减收入的系统",
        "陪独居老人聊天、提醒吃药的 AI 音箱",  # in the order of their latest decision
    ]
    assert reviews["sha256"] == rows.sha256
    assert manifest["training_data"]["sha256"] == training.sha256_bytes(corpus_bytes)
    assert manifest["training_data"]["rows"] == 72  # the corpus alone: reviews are counted on their own
    assert corpus.read_bytes() == corpus_bytes  # never written into the curated data
    assert "Reviewed decisions: 2 descriptions" in (out / "README.md").read_text(encoding="utf-8")

    # without --with-reviews the manifest has no trace of them (the shipped model's drift test relies on it)
    plain = training.export(
        training.train(training.read_labelled_csv(corpus)), training.read_labelled_csv(corpus), tmp_path / "plain"
    )
    assert "reviews" not in plain and plain["model_sha256"] != manifest["model_sha256"]

    # a broken chain is refused before anything is trained or written
    lines = lines_of(log_path)
    lines[1], lines[2] = lines[2], lines[1]
    log_path.write_text("".join(lines), encoding="utf-8")
    assert main([*args, "--out", str(tmp_path / "refused"), "--audit-log", str(log_path), "--lang", "en"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("riskclass: the audit log") and "entry 2" in err and "reordered" in err
    assert "not training" in err
    assert not (tmp_path / "refused").exists()
