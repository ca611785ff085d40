"""`riskclass register rescore`: every product assessed again with the current rulebook and model.

After a rulebook or model change a team needs to know which products moved, not a new spreadsheet to diff by hand:
each product's current description is assessed again (with its saved answers), a new assessment is stored where
anything differs from the latest one (tier, criteria, confidence, the versions that made it …), and every change of
tier is reported by id with the criteria gained and lost. One transaction, as for an import.
"""

from __future__ import annotations

from riskclass.register.assessing import Stored
from riskclass.register.importing import UNDECODABLE_ERROR, ProgressFn, _answers, _states
from riskclass.register.records import AssessmentRecord, ImportResult


def _same(a: AssessmentRecord, s: Stored) -> bool:
    """Whether a new assessment would store nothing new (so a rescore with nothing changed adds no rows)."""
    return (
        a.tier == s.tier
        and a.confidence == s.confidence
        and a.needs_review == s.needs_review
        and ";".join(a.criteria) == s.criteria
        and ";".join(a.red_flags) == s.red_flags
        and ";".join(a.obligations) == s.obligations
        and ";".join(a.possible_criteria) == s.possible_criteria
        and ";".join(str(i) for i in a.article50) == s.article50
        and a.decided_by == s.decided_by
        and a.error == s.error
        and (a.versions.riskclass, a.versions.rulebook, a.versions.model_sha256)
        == (s.riskclass_version, s.rulebook_version, s.model_sha256)
    )


def _unreadable(latest: AssessmentRecord | None) -> bool:
    """The description held bytes valid in no encoding when it was imported: it stays unassessed until re-imported."""
    return latest is not None and latest.error.startswith(UNDECODABLE_ERROR)


def rescore(register, progress: ProgressFn | None = None) -> ImportResult:
    """Assess every product of `register` again; `changed` counts those stored anew, `unchanged` the others."""
    from riskclass.register.api import insert_assessment, now_utc, tier_change
    from riskclass.register.importing import _undecodable_result

    with register._lock:
        states = _states(register.db)
        saved = _answers(register.db)
    assessor = register.assessor
    items = [(s.text, saved.get(pid)) for pid, s in states.items() if s.version and not _unreadable(s.latest)]
    assessor.assess(items, (lambda d, t: progress("assess", d, t)) if progress else None)
    result = ImportResult()
    stamp = now_utc()
    with register.transaction() as db:
        states = _states(db)  # again under the write lock: an import may have finished meanwhile
        saved = _answers(db)
        for n, (pid, state) in enumerate(sorted(states.items()), start=1):
            if progress:
                progress("write", n, len(states))
            if not state.version:
                result.unchanged += 1
                continue
            if _unreadable(state.latest):
                outcome = _undecodable_result(register)  # bytes that no encoding could read stay unassessed
            else:
                outcome = assessor.assess([(state.text, saved.get(pid))])[0]
            result.assessed += 1
            if outcome.error:  # reported whether or not it is new: the product still has no tier
                result.errors.append((pid, outcome.error))
                if outcome.error_zh:
                    result.errors_zh[pid] = outcome.error_zh
            if state.latest is not None and _same(state.latest, outcome):
                result.unchanged += 1
                continue
            result.changed += 1
            insert_assessment(db, pid, state.version, outcome, stamp)
            change = tier_change(pid, state.name, state.latest, outcome)
            if change is not None:
                result.tier_changes.append(change)
    return result
