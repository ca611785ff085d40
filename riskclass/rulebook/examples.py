"""Each rule's own positive and negative examples, run as the rule's specification (semgrep-rules style)."""

from __future__ import annotations

from riskclass.errors import Text
from riskclass.rulebook.rules import Rule, Rulebook
from riskclass.text.normalise import normalise


def rule_applies(rule: Rule, description: str) -> bool:
    """True when the rule's patterns (and requirements) match and no exclusion rules it out (as the engine reads)."""
    text = normalise(description).text
    found = rule.match(text)
    return bool(rule.unexcluded(text, found.spans, own=found.own)[0])


def check_examples(rulebook: Rulebook) -> list[Text]:
    """One message per example that does not behave as its rule declares, in both languages (`rules --check`)."""
    failures = []
    for rule in rulebook.rules:
        for example in rule.positive:
            if not rule_applies(rule, example):
                failures.append(
                    Text(
                        f"{rule.id}: positive example does not fire: {example!r}",
                        f"{rule.id}：正例没有触发：{example!r}",
                    )
                )
        for example in rule.negative:
            if rule_applies(rule, example):
                failures.append(
                    Text(f"{rule.id}: negative example fires: {example!r}", f"{rule.id}：反例触发了：{example!r}")
                )
    return failures
