"""The committed rulebook index: the two YAML files' data and what each pattern needs, generated at build time.

`load_rulebook` reads it instead of the YAML when it was generated from the very same files (sha256 of both): no YAML
parser, no parse of ~700 regular expressions, and patterns compiled only when a description can match them. The
first `classify` after an install is fast because of it, with no cache to build. Generating it compiles every pattern,
so a source it lists is known to compile.

After changing `rulebook.yaml` or `obligations.yaml` (or the pattern analysis in `rules.py`), regenerate it:

    python -m riskclass.rulebook.index

A stale index is never wrong, only slow: `load_rulebook` falls back to the YAML. A test fails until it is regenerated.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from riskclass.errors import RulebookError
from riskclass.law.draft import load_draft
from riskclass.rulebook.rules import (
    INDEX_FILE,
    INDEX_SCHEMA,
    OBLIGATIONS_FILE,
    RULEBOOK_FILE,
    Plan,
    _parse_yaml,
    _yaml_bytes,
    parse_rulebook,
    plan_of,
    yaml_digest,
)

REGENERATE = "python -m riskclass.rulebook.index"


def plan_to_json(plan: Plan) -> list:
    """A `Plan` as JSON: every set as a sorted list, so the same plan always gives the same text."""
    parts, requirements = plan
    return [
        parts,
        [None if req is None else [sorted(sorted(strings) for strings in alt) for alt in req] for req in requirements],
    ]


def build_index() -> str:
    """The index text for the YAML files in the package (one line of JSON; deterministic)."""
    rules, obligations = _yaml_bytes()
    raw_rules, raw_obligations = _parse_yaml(RULEBOOK_FILE, rules), _parse_yaml(OBLIGATIONS_FILE, obligations)
    for name, raw in ((RULEBOOK_FILE, raw_rules), (OBLIGATIONS_FILE, raw_obligations)):
        try:
            same = json.loads(json.dumps(raw, ensure_ascii=False)) == raw
        except (TypeError, ValueError):
            same = False
        if not same:
            raise RulebookError(
                f"{name}: holds a value JSON cannot carry as it is (a date, a number as key): quote it",
                zh=f"{name}：含有 JSON 无法原样保存的值（日期、用作键的数字）：请加引号",
            )
    rulebook = parse_rulebook(raw_rules, raw_obligations, load_draft())  # compiles every pattern: validates them
    plans = {p.pattern: plan_to_json(plan_of(p)) for p in rulebook.all_patterns()}
    index = {
        "schema": INDEX_SCHEMA,
        "generated_by": REGENERATE,
        "yaml_sha256": yaml_digest(rules, obligations),
        "plans": dict(sorted(plans.items())),
        "rulebook": raw_rules,
        "obligations": raw_obligations,
    }
    return json.dumps(index, ensure_ascii=False, separators=(",", ":")) + "\n"


def index_path() -> Path:
    """Where the index lives in the source tree."""
    return Path(__file__).resolve().parents[1] / "data" / INDEX_FILE


def main() -> int:
    path = index_path()
    path.write_text(build_index(), encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
