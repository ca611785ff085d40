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
    r = run_cli("classify", "-", "--rules-only", input=("人脸识别" * 300_000).encode())
    assert r.returncode == 2
    assert "at most" in _one_line_error(r)


def test_non_utf8_standard_input_exits_2():
    r = run_cli("classify", "-", input="人脸识别门禁".encode("gbk"))
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
    assert r.returncode != 0 and "第五十一条" in _one_line_error(r)


def test_rules_list_and_check():
    r = run_cli("rules")
    assert r.returncode == 0 and b"h4-credit" in r.stdout
    r = run_cli("rules", "--check")
    assert r.returncode == 0 and b"examples behave as declared" in r.stdout


def test_help_lists_the_commands():
    r = run_cli("--help")
    assert r.returncode == 0
    for cmd in (b"classify", b"article", b"rules"):
        assert cmd in r.stdout
