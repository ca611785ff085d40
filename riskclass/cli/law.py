"""`riskclass article` and `riskclass rules`: the draft's text and the rulebook."""

from __future__ import annotations

import argparse
import json
import sys

from riskclass.cli.common import _out_lang
from riskclass.errors import ExitCode


def cmd_article(args: argparse.Namespace) -> int:
    from riskclass.errors import InputError, LawError
    from riskclass.law.draft import load_draft

    try:
        article = load_draft().article(args.number)
    except LawError as exc:  # the number is the user's input: a usage error (exit 2), not a broken draft
        raise InputError(str(exc), zh=exc.zh) from None
    if args.json:
        print(
            json.dumps(
                {
                    "number": article.number,
                    "label": article.label,
                    "title": article.title,
                    "chapter": article.chapter,
                    "text": article.text,
                },
                ensure_ascii=False,
            )
        )
    else:
        print(f"{article.label}（{article.title}）  {article.chapter}\n{article.text}")
    return ExitCode.OK


def cmd_rules(args: argparse.Namespace) -> int:
    from riskclass.rulebook.rules import load_rulebook

    rb = load_rulebook()
    lang = _out_lang(args)
    if args.check:
        from riskclass.rulebook.examples import check_examples

        failures = check_examples(rb)
        for f in failures:
            print(f.text(lang), file=sys.stderr)
        n = sum(len(r.positive) + len(r.negative) for r in rb.rules)
        print(
            f"规则库 {rb.version}：{len(rb.rules)} 条规则有效；{n - len(failures)}/{n} 个示例符合声明"
            if lang == "zh"
            else f"rulebook {rb.version}: {len(rb.rules)} rules valid; "
            f"{n - len(failures)}/{n} examples behave as declared"
        )
        return ExitCode.OK if not failures else ExitCode.INTERNAL
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "criterion": r.criterion,
                        "tier": r.tier,
                        "strength": r.strength,
                        "title": r.title.zh,
                        "title_en": r.title.en,
                        "articles": [c.article for c in r.articles],
                    }
                    for r in rb.rules
                ],
                ensure_ascii=False,
            )
        )
        return ExitCode.OK
    print(
        f"规则库 {rb.version}：{len(rb.rules)} 条规则"
        if lang == "zh"
        else f"rulebook {rb.version}: {len(rb.rules)} rules"
    )
    for r in rb.rules:
        title = r.title.zh if lang == "zh" else r.title.en
        articles = " ".join(dict.fromkeys(c.article for c in r.articles))
        print(f"  {r.criterion:3} {r.id:32} {r.strength:6} {title}  [{articles}]")
    return ExitCode.OK
