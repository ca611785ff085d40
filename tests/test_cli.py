"""The command line as scripts use it (CONTRACT.md): JSON, exit codes, one-line errors."""

import json

from .conftest import run_cli


def test_classify_json_contract():
    r = run_cli("classify", "一款为银行筛选贷款申请人的评分模型", "--json", "--rules-only")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout.decode("utf-8"))
    assert d["tier"] == "high"
    assert d["criteria"][0]["id"] == "H4"
    ev = d["criteria"][0]["evidence"][0]
    assert "一款为银行筛选贷款申请人的评分模型"[ev["start"] : ev["end"]] == ev["text"]
    assert {o["title"] for o in d["obligations"]} >= {"事前评估", "风险预警"}


def test_classify_reads_standard_input():
    r = run_cli("classify", "-", "--json", "--rules-only", input="小区人脸识别门禁\n".encode())
    assert r.returncode == 0
    assert json.loads(r.stdout)["tier"] == "high"


def test_human_output_in_chinese_and_english():
    zh = run_cli("classify", "AI简历筛选工具", "--rules-only").stdout.decode()
    assert "高风险" in zh and "事前评估" in zh and "第四十六条" in zh and "不是法律意见" in zh
    assert "【简历筛选】" in zh  # evidence highlighted (brackets when not a terminal)
    en = run_cli("classify", "AI简历筛选工具", "--rules-only", "--lang", "en").stdout.decode()
    assert "High risk" in en and "Required steps" in en and "not legal advice" in en


def test_answers_on_the_command_line():
    r = run_cli("classify", "给租户打分的平台", "--json", "--rules-only", "--answer", "H4=yes")
    assert json.loads(r.stdout)["tier"] == "high"
    r = run_cli("classify", "给租户打分的平台", "--answer", "H4=maybe")
    assert r.returncode == 2 and b"CRITERION=yes|no|unknown" in r.stderr


def _one_line_error(r):
    lines = r.stderr.decode("utf-8").strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in lines[0]
    return lines[0]


def test_empty_description_exits_2_with_one_line():
    for bad in ("", "   ", "。。。！？"):
        r = run_cli("classify", bad, "--rules-only")
        assert r.returncode == 2
        assert r.stdout == b""
        _one_line_error(r)


def test_huge_description_exits_2():
    r = run_cli("classify", "-", "--rules-only", "--lang", "en", input=("人脸识别" * 300_000).encode())
    assert r.returncode == 2
    assert "at most" in _one_line_error(r)


def test_non_utf8_standard_input_exits_2():
    r = run_cli("classify", "-", "--lang", "en", input="人脸识别门禁".encode("gbk"))
    assert r.returncode == 2
    assert "not UTF-8" in _one_line_error(r)


def test_control_characters_and_emoji_are_assessed():
    r = run_cli("classify", "\x07🙂 人脸识别\x1b[31m 门禁 🚪", "--json", "--rules-only")
    assert r.returncode == 0
    assert json.loads(r.stdout)["tier"] == "high"


def test_article_command():
    r = run_cli("article", "46")
    assert r.returncode == 0
    out = r.stdout.decode()
    assert out.startswith("第四十六条（分类监管）") and "事前披露、事后控制" in out
    r = run_cli("article", "99")
    assert r.returncode == 2 and "第五十一条" in _one_line_error(r), "a usage error"


def test_an_answer_to_an_unknown_criterion_is_a_usage_error():
    r = run_cli("classify", "AI简历筛选", "--answer", "H9=yes", "--rules-only")
    assert r.returncode == 2 and "H9" in _one_line_error(r) and "H7" in _one_line_error(r)


def test_rules_list_and_check():
    r = run_cli("rules")
    assert r.returncode == 0 and b"h4-credit" in r.stdout
    r = run_cli("rules", "--check")
    assert r.returncode == 0 and "个示例符合声明" in r.stdout.decode()
    r = run_cli("rules", "--check", "--lang", "en")
    assert r.returncode == 0 and b"examples behave as declared" in r.stdout


def test_help_lists_the_commands():
    r = run_cli("--help")
    assert r.returncode == 0
    for cmd in (b"classify", b"article", b"rules"):
        assert cmd in r.stdout


# ---- reviews and the audit log (issue 6) ---------------------------------------------------------------------------

LOAN = "一款为银行筛选贷款申请人的评分模型"


def test_review_then_classify_shows_the_earlier_decision(tmp_path):
    log = tmp_path / "audit.jsonl"
    env = {"RISKCLASS_AUDIT_LOG": str(log)}
    r = run_cli("review", LOAN, "--reviewer", "张三", "--tier", "medium", "--rules-only", env=env)
    assert r.returncode == 2 and "不同时必须说明理由" in _one_line_error(r)  # in Chinese, the default
    assert not log.exists()  # nothing recorded
    r = run_cli(
        "review", "-", "--reviewer", "张三", "--tier", "medium", "--reason", "只给参考分，最终由信贷员决定",
        "--rules-only", input=f"  {LOAN}\n".encode(), env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "已记录复核决定" in out and "第 1 条" in out and "中风险（改判）" in out and "张三" in out

    # the same product, typed with other spacing and in 繁體: its decision is shown with the new assessment
    variant = "一款为银行篩選貸款申請人的評分模型 "
    r = run_cli("classify", variant, "--rules-only", env=env)
    assert r.returncode == 0 and r.stderr == b""
    out = r.stdout.decode()
    assert "复核记录（审计日志第 1 条）" in out and "张三 于" in out and "改判为 中风险（建议为 高风险）" in out
    assert "理由：只给参考分" in out and "版本与现在相同" in out and "与复核决定（中风险）不同" in out
    r = run_cli("classify", variant, "--rules-only", "--json", env=env)
    review = json.loads(r.stdout)["review"]
    assert review["reviewer"] == "张三" and review["decided_tier"] == "medium" and review["suggested_tier"] == "high"
    assert review["versions_changed"] == [] and review["chain_intact"] and review["entry"] == 1
    assert "review" not in json.loads(run_cli("classify", "工厂零件缺陷检测", "--json", "--rules-only", env=env).stdout)

    # a broken log does not stop classify: one warning line, the result as usual. The edited entry is no longer
    # shown as a decision (issue 12: its signature does not match), only named as unverified.
    log.write_text(log.read_text(encoding="utf-8").replace("张三", "李四"), encoding="utf-8")
    r = run_cli("classify", LOAN, "--rules-only", "--json", "--lang", "en", env=env)
    data = json.loads(r.stdout)
    assert r.returncode == 0 and "review" not in data and data["unverified_review"]["entry"] == 1
    warning = _one_line_error(r)
    assert warning.startswith("riskclass: warning:") and "entry 1" in warning and "edited" in warning
    warning = _one_line_error(run_cli("classify", LOAN, "--rules-only", "--json", env=env))  # zh, the default
    assert warning.startswith("riskclass: 警告：") and "第 1 条" in warning and "内容被修改" in warning


def test_review_from_a_saved_assessment_and_audit_commands(tmp_path, capsys, monkeypatch):
    import riskclass.text.normalise as text
    from riskclass.cli.main import main

    monkeypatch.setattr(text, "use_on_disk_dictionary", lambda: None)  # in-process: keep the tokenizer as it is
    log = str(tmp_path / "audit.jsonl")
    saved = tmp_path / "saved.json"
    assert main(["classify", "小区人脸识别门禁", "--json", "--rules-only", "--audit-log", log]) == 0
    saved.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["review", "--from-json", str(saved), "--reviewer", "王五", "--accept", "--audit-log", log]) == 0
    assert "高风险（接受建议）" in capsys.readouterr().out
    args = ["review", "工厂零件缺陷检测", "--rules-only", "--reviewer", "Li", "--tier", "medium"]
    assert main([*args, "--reason", "safety part", "--json", "--audit-log", log]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["entry"] == 2 and entry["decided_tier"] == "medium" and not entry["accepted"]
    assert entry["suggested"]["tier"] == "low" and entry["audit_log"] == log

    assert main(["audit", "verify", "--audit-log", log]) == 0
    out = capsys.readouterr().out
    assert "审计日志完好：2 条决定" in out and entry["hash"] in out and "--expect-head" in out
    assert main(["--lang", "en", "audit", "verify", "--audit-log", log, "--expect-head", entry["prev"][:16]]) == 0
    assert "still in the chain (entry 1); 1 entries added since" in capsys.readouterr().out
    assert main(["audit", "list", "--json", "--audit-log", log]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["entry"], e["reviewer"]) for e in listed] == [(1, "王五"), (2, "Li")]
    assert main(["audit", "list", "--audit-log", log]) == 0
    out = capsys.readouterr().out
    assert "低风险 → 中风险（改判）" in out and "理由：safety part" in out

    lines = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "audit.jsonl").write_text(lines[1], encoding="utf-8")  # the first entry deleted
    assert main(["--lang", "en", "audit", "verify", "--audit-log", log]) == 1
    out = capsys.readouterr().out
    assert "Audit log broken" in out and "entry 1 (" in out and "Li" in out and "deleted" in out
    assert main(["audit", "verify", "--json", "--audit-log", log]) == 1
    result = json.loads(capsys.readouterr().out)
    assert not result["ok"] and result["problem"]["line"] == 1 and result["problem"]["kind"] == "deleted"


def test_review_and_audit_errors_are_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKCLASS_LANG", "en")  # the English messages are checked (Chinese: test_lang_config.py)
    r = run_cli("review", LOAN, "--reviewer", "  ", "--accept", "--audit-log", str(tmp_path / "a.jsonl"))
    assert r.returncode == 2 and "reviewer name is required" in _one_line_error(r)
    r = run_cli("review", LOAN, "--reviewer", "张三", "--accept", "--rules-only", "--audit-log", str(tmp_path))
    assert r.returncode == 2 and "is a directory" in _one_line_error(r)
    r = run_cli("audit", "verify", "--audit-log", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "no audit log at" in _one_line_error(r)
    r = run_cli("review", LOAN, "--reviewer", "张三", "--audit-log", str(tmp_path / "a.jsonl"))
    assert r.returncode == 2 and b"--accept" in r.stderr  # one of --accept / --tier is required (argparse)
    help_text = run_cli("audit", "verify", "--help").stdout.decode()
    assert "cannot show entries cut off at the end" in " ".join(help_text.split())


def test_lang_before_the_command_is_honoured_and_after_it_wins():
    first = run_cli("--lang", "en", "classify", "AI简历筛选", "--rules-only", "--color", "never")
    assert first.returncode == 0 and first.stdout.decode().startswith("[High risk]")
    both = run_cli("--lang", "en", "classify", "AI简历筛选", "--rules-only", "--lang", "zh", "--color", "never")
    assert both.stdout.decode().startswith("[高风险]")
    report = run_cli("--lang", "en", "report", "AI简历筛选", "--rules-only", "--format", "md")
    assert report.returncode == 0 and "High risk" in report.stdout.decode()


def test_each_duty_and_pointer_says_what_brought_it_in_text_and_json():
    face_gate = "小区人脸识别门禁，业主刷脸进出"
    en = run_cli("classify", face_gate, "--rules-only", "--lang", "en").stdout.decode()
    assert "Pre-launch assessment" in en and "(owed by every high-risk product)" in en
    pointer = next(line for line in en.splitlines() if "第二十八条、第二十九条" in line)
    assert "(brought by H5" in pointer
    assert "标识办法" not in en and "labelling" not in en.lower()  # recognising a face generates nothing to label
    zh = run_cli("classify", face_gate, "--rules-only").stdout.decode()
    assert "（由 H5" in zh and "（高风险产品均须履行）" in zh
    d = json.loads(run_cli("classify", face_gate, "--rules-only", "--json").stdout)
    assert d["obligations"][0]["because"] == {"tier": "high", "criteria": [], "words": []}
    sensitive = next(n for n in d["national"] if n["article"] == "第二十八条、第二十九条")
    assert "H5" in sensitive["because"]["criteria"]
    assert all(m["because"]["criteria"] or m["because"]["words"] for m in d["article50"])
    h5 = next(h for h in d["criteria"] if h["id"] == "H5")
    assert h5["citations"] and all(c["quote"] for c in h5["citations"])
