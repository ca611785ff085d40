"""`riskclass review` and `riskclass audit`: reviewers' decisions in the audit log."""

from __future__ import annotations

import argparse
import json
import sys

from riskclass.cli.assess import _assess_for
from riskclass.cli.common import (
    AUDIT_EPILOG,
    AUDIT_LOG_HELP,
    KEYRING_HELP,
    OUTPUT_LANG_HELP,
    _add_assessment_options,
    _audit_log_arg,
    _keyring_arg,
    _out_lang,
    _paren,
    _warn,
)
from riskclass.cli.usage import bi
from riskclass.errors import ExitCode, InputError


def _add_review_parsers(sub) -> None:
    p = sub.add_parser(
        "review",
        help=bi(
            "record a reviewer's decision on a suggested tier in the audit log",
            "在审计日志中记录复核人对建议等级的决定",
        ),
        description=bi(
            "Assess a description (or read a saved assessment), then record a named reviewer's decision — "
            "accept the suggested tier or change it, with a reason — in the tamper-evident audit log.",
            "评估一条描述（或读取保存的评估），然后把具名复核人的决定——接受建议的等级，或说明理由改判——记入防篡改的"
            "审计日志。",
        ),
        epilog=bi(AUDIT_EPILOG),
    )
    p.add_argument(
        "description",
        nargs="?",
        help=bi("the description, or - to read it from standard input", "描述，或用 - 从标准输入读取"),
    )
    p.add_argument(
        "--from-json",
        metavar="FILE",
        help=bi(
            "review a saved assessment (classify --json or report JSON)",
            "复核保存的评估（classify --json 或报告 JSON 的输出）",
        ),
    )
    p.add_argument(
        "--reviewer",
        required=True,
        metavar="NAME",
        help=bi("who decides (required, one line)", "作出决定的人（必填，一行）"),
    )
    decision = p.add_mutually_exclusive_group()  # one of them is required unless --init-key (checked in cmd_review)
    decision.add_argument("--accept", action="store_true", help=bi("accept the suggested tier", "接受建议的等级"))
    decision.add_argument(
        "--tier", choices=["high", "medium", "low"], help=bi("the tier the reviewer decides", "复核人决定的等级")
    )
    decision.add_argument(
        "--init-key",
        action="store_true",
        help=bi(
            "create your signing key once (mode 600 in $RISKCLASS_CONFIG_DIR, $XDG_CONFIG_HOME/riskclass or "
            "~/.config/riskclass; never overwritten) and print the line to add to the team keyring",
            "创建一次你的签名密钥（权限 600，位于 $RISKCLASS_CONFIG_DIR、$XDG_CONFIG_HOME/riskclass 或 "
            "~/.config/riskclass；从不覆盖），并显示要加入团队密钥环的那一行",
        ),
    )
    p.add_argument(
        "--reason",
        default="",
        metavar="TEXT",
        help=bi("why (required when --tier differs from the suggestion)", "理由（--tier 与建议不同时必填）"),
    )
    _add_assessment_options(
        p,
        bi(
            "answer a follow-up question as a fact before assessing (repeatable)",
            "评估前把追问的回答作为事实（可重复）",
        ),
    )
    p.add_argument("--audit-log", metavar="PATH", help=bi(AUDIT_LOG_HELP))
    p.add_argument("--keyring", metavar="PATH", help=bi(KEYRING_HELP))
    p.add_argument(
        "--json",
        action="store_true",
        help=bi("print the recorded entry as one JSON object", "以一个 JSON 对象输出记录的条目"),
    )
    p.add_argument("--lang", choices=["zh", "en"], help=bi(OUTPUT_LANG_HELP))
    p.add_argument(
        "--id",
        metavar="ID",
        help=bi(
            "review a product of the register: its current description, assessed with its saved answers (and any "
            "--answer), and the decision linked to it (`riskclass register show ID` lists it)",
            "复核登记册中的一个产品：用保存的回答（及任何 --answer）评估其当前描述，决定与该产品关联"
            "（`riskclass register show ID` 会列出）",
        ),
    )
    p.add_argument(
        "--register",
        metavar="PATH",
        help=bi(
            "the register for --id (see `riskclass register --help`)",
            "--id 所用的登记册（见 `riskclass register --help`）",
        ),
    )

    p = sub.add_parser(
        "audit",
        help=bi("verify or list the audit log of review decisions", "验证或列出复核决定的审计日志"),
        description=bi("Check or list the audit log of review decisions.", "检查或列出复核决定的审计日志。"),
        epilog=bi(AUDIT_EPILOG),
    )
    audit_sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = audit_sub.add_parser(
        "verify",
        help=bi(
            "check the hash chain and every signature; exit 0 intact, 1 broken or unverified (naming the entry)",
            "检查哈希链和每个签名；完好时退出码 0，断开或未验证时 1（并指出条目）",
        ),
        description=bi(
            "Check the audit log's hash chain and every entry's signature against the keyring. Exit 0 when "
            "intact and verified, 1 when broken (the first broken entry is named: edited, deleted, inserted, "
            "reordered, not JSON) or when an entry is unverified (unsigned, bad signature, unknown key, another "
            "reviewer's key), 2 when there is no usable log.",
            "对照密钥环检查审计日志的哈希链和每个条目的签名。完好且已验证时退出码 0；断开时（指出第一处断开：被修改、"
            "删除、插入、调换顺序、不是 JSON）或有条目未验证时（未签名、签名无效、未知密钥、他人的密钥）为 1；没有"
            "可用的日志时为 2。",
        ),
        epilog=bi(AUDIT_EPILOG),
    )
    v.add_argument("--audit-log", metavar="PATH", help=bi(AUDIT_LOG_HELP))
    v.add_argument("--keyring", metavar="PATH", help=bi(KEYRING_HELP))
    v.add_argument(
        "--expect-head",
        metavar="HASH",
        help=bi(
            "a head hash recorded earlier (12+ hex digits): fail unless that entry is still in the chain",
            "早先记下的链头哈希（至少 12 位十六进制）：该条目已不在链中时判为失败",
        ),
    )
    v.add_argument(
        "--json", action="store_true", help=bi("print the result as one JSON object", "以一个 JSON 对象输出结果")
    )
    v.add_argument("--lang", choices=["zh", "en"], help=bi(OUTPUT_LANG_HELP))
    li = audit_sub.add_parser(
        "list",
        help=bi("list the decisions, oldest first", "列出复核决定，最早的在前"),
        description=bi("List the decisions.", "列出复核决定。"),
    )
    li.add_argument("--audit-log", metavar="PATH", help=bi(AUDIT_LOG_HELP))
    li.add_argument("--keyring", metavar="PATH", help=bi(KEYRING_HELP))
    li.add_argument(
        "--json", action="store_true", help=bi("print one JSON array of the entries", "以一个 JSON 数组输出各条目")
    )
    li.add_argument("--lang", choices=["zh", "en"], help=bi(OUTPUT_LANG_HELP))


REVIEW_WORDS = {
    "zh": {
        "recorded": "已记录复核决定：{path} 第 {line} 条",
        "reviewer": "复核人",
        "time": "时间",
        "suggested": "建议",
        "decided": "决定",
        "accepted": "接受建议",
        "changed": "改判",
        "reason": "理由",
        "versions": "版本",
        "fingerprint": "指纹",
        "hash": "条目哈希",
        "rules_only": "仅规则",
        "confidence": "置信度",
        "rulebook": "规则库",
        "model": "模型",
        "intact": "审计日志完好：{n} 条决定（{path}）",
        "broken": "审计日志已损坏（{path}）：{problem}",
        "intact_part": "前 {n} 条完好",
        "head": "链头哈希",
        "truncation": "注意：从末尾截去的条目无法由链本身发现。请在别处记下条数和链头哈希，日后用 --expect-head 核对。",
        "expect_found": "记录的链头仍在链中（第 {line} 条），其后新增 {more} 条",
        "expect_missing": "链中没有哈希为 {head} 的条目：日志被截断、重写或换成了另一份",
        "none": "审计日志中还没有决定（{path}）",
        "colon": "：",
        "intact_signed": "，签名均已验证（密钥环 {keyring}）",
        "unverified": "审计日志中有未验证的条目（{path}）：{problem}",
        "verified_count": "{n} / {total} 条签名已验证",
        "unverified_mark": "【未验证：{why}，不是复核决定】",
        "signed_by": "签名密钥",
        "product": "登记册产品",
        "key_created": "已创建签名密钥：{path}（权限 600，仅本人可读）。"
        "请把标准输出上的这一行加入团队密钥环 {keyring}：",
    },
    "en": {
        "recorded": "Decision recorded: {path}, entry {line}",
        "reviewer": "reviewer",
        "time": "time",
        "suggested": "suggested",
        "decided": "decided",
        "accepted": "accepted the suggestion",
        "changed": "changed",
        "reason": "reason",
        "versions": "versions",
        "fingerprint": "fingerprint",
        "hash": "entry hash",
        "rules_only": "rules only",
        "confidence": "confidence",
        "rulebook": "rulebook",
        "model": "model",
        "intact": "Audit log intact: {n} decisions ({path})",
        "broken": "Audit log broken ({path}): {problem}",
        "intact_part": "the first {n} entries are intact",
        "head": "head hash",
        "truncation": "Note: entries cut off at the end cannot be detected by the chain itself. Record the count and "
        "the head hash elsewhere and check later with --expect-head.",
        "expect_found": "the recorded head is still in the chain (entry {line}); {more} entries added since",
        "expect_missing": "no entry with hash {head} in the chain: the log was truncated, rewritten or replaced",
        "none": "no decisions in the audit log yet ({path})",
        "colon": ": ",
        "intact_signed": ", every signature verified (keyring {keyring})",
        "unverified": "Audit log has unverified entries ({path}): {problem}",
        "verified_count": "{n} of {total} signatures verified",
        "unverified_mark": "[UNVERIFIED: {why}; not a decision]",
        "signed_by": "signing key",
        "product": "register product",
        "key_created": "Signing key created: {path} (mode 600, readable by you only). Add the line on standard output "
        "to the team keyring {keyring}:",
    },
}


def _init_key(args: argparse.Namespace) -> int:
    """`review --init-key`: the reviewer's key, created once; the keyring line alone on stdout (`>> keyring.txt`)."""
    from riskclass.audit import keys
    from riskclass.audit.log import check_reviewer

    if args.description is not None or args.from_json:
        raise InputError(
            "--init-key creates your signing key; it takes no description (review one afterwards)",
            zh="--init-key 用于创建你的签名密钥，不接受描述（之后再复核）",
        )
    name = check_reviewer(args.reviewer)
    path, line = keys.init_key(name)
    W = REVIEW_WORDS[_out_lang(args)]
    print(W["key_created"].format(path=path, keyring=keys.keyring_path(_keyring_arg(args))), file=sys.stderr)
    print(line)
    return ExitCode.OK


def cmd_review(args: argparse.Namespace) -> int:
    import riskclass.audit.log as audit
    from riskclass.audit import keys

    if args.init_key:
        return _init_key(args)
    if not args.accept and not args.tier:
        raise InputError(
            "one of --accept or --tier TIER is required (or --init-key to create your signing key)",
            zh="需要 --accept 或 --tier TIER 之一（或用 --init-key 创建签名密钥）",
        )
    reviewer = audit.check_reviewer(args.reviewer)  # before assessing: a missing name should not cost a model load
    log = audit.AuditLog(_audit_log_arg(args), _keyring_arg(args))
    log.check_usable()
    signer = keys.load_signer()  # no key, or one the keyring does not list: said before the assessment is made
    log.check_signer(signer, reviewer)
    register = _register_for(args)
    try:
        assessment = _assess_product(args, register) if register is not None else _assess_for(args)
        recorded = log.record(assessment, args.reviewer, None if args.accept else args.tier, args.reason, signer=signer)
        if register is not None:
            register.link_decision(args.id, recorded)
    finally:
        if register is not None:
            register.close()
    d = recorded.decision
    if args.json:
        out = {**d.to_dict(), "entry": recorded.line, "audit_log": str(recorded.path)}
        if register is not None:
            out["product"] = args.id
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return ExitCode.OK
    lang = _out_lang(args)
    W, T, c = REVIEW_WORDS[lang], audit.TIER_NAMES[lang], REVIEW_WORDS[lang]["colon"]
    s = d.suggested
    model = d.versions.get("model_sha256", "")[:12] or W["rules_only"]
    lines = [
        W["recorded"].format(path=recorded.path, line=recorded.line),
        f"  {W['reviewer']}{c}{audit.printable(d.reviewer)}",
        f"  {W['time']}{c}{d.timestamp}",
        f"  {W['suggested']}{c}{T[s.tier]}"
        + _paren(f"{', '.join(s.criteria) or '-'}; {W['confidence']} {s.confidence:.2f}", lang),
        f"  {W['decided']}{c}{T[d.decided_tier]}" + _paren(W["accepted"] if d.accepted else W["changed"], lang),
    ]
    if d.reason:
        lines.append(f"  {W['reason']}{c}{audit.printable(d.reason)}")
    lines += [
        f"  {W['versions']}{c}riskclass {d.versions.get('riskclass', '?')} · {W['rulebook']} "
        f"{d.versions.get('rulebook', '?')} · {W['model']} {model}",
        f"  {W['fingerprint']}{c}{d.fingerprint}",
        f"  {W['signed_by']}{c}{d.key[:16]}…",
        f"  {W['hash']}{c}{d.hash}",
    ]
    if register is not None:
        lines.append(f"  {W['product']}{c}{audit.printable(args.id)}")
    print("\n".join(lines))
    return ExitCode.OK


def _register_for(args: argparse.Namespace):
    """The register a `review --id` decision is linked to (opened before the assessment: an unknown id or an unusable
    register is said at once), or None without --id."""
    if args.id is None:
        if args.register:
            raise InputError(
                "--register is for --id ID (a product of the register)", zh="--register 需与 --id 编号 一起使用"
            )
        return None
    if args.description is not None or args.from_json:
        raise InputError(
            "--id reviews the product's current description in the register: give --id or a description, not both",
            zh="--id 复核登记册中该产品的当前描述：请给出 --id 或描述，不要同时给出",
        )
    from riskclass.register import Register

    register = Register.open(args.register, audit_log=_audit_log_arg(args), keyring=_keyring_arg(args))
    try:
        register.product(args.id)  # an unknown id: one line naming close ones, before any model is loaded
    except BaseException:
        register.close()
        raise
    return register


def _assess_product(args: argparse.Namespace, register):
    """The product's current description, assessed as the register assesses it: with its saved answers, then
    --answer on top (a fact given now wins)."""
    from riskclass.cli.assess import _shipped_model
    from riskclass.engine.decide import Engine

    product = register.product(args.id)
    answers = {k: v for k, v in product.answers.items() if v is not None}
    answers.update(dict(args.answer))
    engine = Engine(model=None if args.rules_only else _shipped_model())
    return engine.assess(product.description, answers=answers)


def cmd_audit(args: argparse.Namespace) -> int:
    import riskclass.audit.log as audit

    log = audit.AuditLog(_audit_log_arg(args), _keyring_arg(args))
    lang = _out_lang(args)
    W, c = REVIEW_WORDS[lang], REVIEW_WORDS[lang]["colon"]
    contents = log.read()  # AuditError (exit 2) when there is no usable log
    check = contents.verification
    if args.audit_command == "list":
        if not check.chain_ok:
            where = audit.describe_break(check.problem, lang)
            _warn(
                f"the audit log is broken at {where}: see `audit verify`"
                if lang == "en"
                else f"审计日志在{where}处损坏：见 `audit verify`",
                lang,
            )
        if check.unverified is not None:
            n, where = check.entries - check.verified, audit.describe_break(check.unverified, lang)
            _warn(
                f"{n} entries are unverified, the first at {where}: they are marked and are not decisions"
                if lang == "en"
                else f"{n} 条未验证，第一条在{where}：已标出，它们不是复核决定",
                lang,
            )
        if args.json:
            rows = [
                {"entry": e.line, "verified": e.trusted, "trust": e.trust, **e.decision.to_dict()}
                for e in contents.entries
            ]
            sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
            return ExitCode.OK
        if not contents.entries:
            print(W["none"].format(path=log.path))
        T = audit.TIER_NAMES[lang]
        for e in contents.entries:
            d = e.decision
            if not e.trusted:  # who and what it claims are not shown as a decision: only that it is there
                desc = audit.printable(d.description)
                desc = desc if len(desc) <= 40 else desc[:39] + "…"
                why = audit.BREAK_WORDS[lang].get(e.trust, e.trust)
                print(f"{e.line:>4}  {d.timestamp}  {W['unverified_mark'].format(why=why)}  “{desc}”")
                continue
            verdict = (
                T.get(d.decided_tier, "?") + _paren(W["accepted"], lang)
                if d.accepted
                else f"{T.get(d.suggested.tier, '?')} → {T.get(d.decided_tier, '?')}" + _paren(W["changed"], lang)
            )
            desc = audit.printable(d.description)
            desc = desc if len(desc) <= 40 else desc[:39] + "…"
            reason = f"  {W['reason']}{c}{audit.printable(d.reason)}" if d.reason else ""
            print(f"{e.line:>4}  {d.timestamp}  {audit.printable(d.reviewer)}  {verdict}  “{desc}”{reason}")
        return ExitCode.OK

    # verify
    found = None
    if args.expect_head:
        want = args.expect_head.strip().lower()
        if len(want) < 12 or any(ch not in "0123456789abcdef" for ch in want):
            raise InputError(
                "--expect-head takes a head hash printed by `riskclass audit verify` (12+ hex digits)",
                zh="--expect-head 需要 `riskclass audit verify` 打印的链头哈希（12 位以上十六进制）",
            )
        found = next((e.line for e in contents.entries if e.decision.hash.startswith(want)), None)
    if args.json:
        p = check.problem
        out = {
            "ok": check.ok and (not args.expect_head or found is not None),
            "path": check.path,
            "entries": check.entries,
            "intact": check.intact,
            "head": check.head,
            "problem": None if p is None else {**p.__dict__, "message": audit.describe_break(p, "en")},
            "verified": check.verified,
            "unverified": None
            if check.unverified is None
            else {**check.unverified.__dict__, "message": audit.describe_break(check.unverified, "en")},
            "keyring": check.keyring,
        }
        if args.expect_head:
            out["expected_head_entry"] = found
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return ExitCode.OK if out["ok"] else ExitCode.INTERNAL
    if check.problem is not None:
        print(W["broken"].format(path=log.path, problem=audit.describe_break(check.problem, lang)))
        print(f"  {W['intact_part'].format(n=check.intact)}; {W['head']}{c}{check.head}")
        return 1  # a finding, not a crash: "broken" is the one non-zero answer scripts test for
    if check.unverified is not None:
        print(W["unverified"].format(path=log.path, problem=audit.describe_break(check.unverified, lang)))
        n = W["verified_count"].format(n=check.verified, total=check.entries)
        print(f"  {n}; {W['head']}{c}{check.head}")
        return 1  # signed evidence that does not verify is as much a finding as a broken chain
    print(W["intact"].format(n=check.entries, path=log.path) + W["intact_signed"].format(keyring=check.keyring))
    print(f"  {W['head']}{c}{check.head}")
    if args.expect_head:
        if found is None:
            print(W["expect_missing"].format(head=args.expect_head))
            return 1
        print(W["expect_found"].format(line=found, more=check.entries - found))
    print(W["truncation"])
    return ExitCode.OK
