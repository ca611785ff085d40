"""The riskclass terminal app (Textual). `riskclass` with no arguments opens it.

Importing this package loads nothing heavy: Textual and the engine are imported when `run()` is called.
"""

from __future__ import annotations

from collections.abc import Callable


def run(
    lang: str = "zh",
    engine_factory: Callable[[], object] | None = None,
    audit_log: str | None = None,
    register: str | None = None,
) -> int:
    """Open the app full-screen in `lang` ("zh" or "en"); returns the exit code for the shell. `audit_log` is where
    review decisions are recorded (None: RISKCLASS_AUDIT_LOG or the default location, as for the CLI); `register` the
    product register (None: RISKCLASS_REGISTER or the default location, as for `riskclass register`)."""
    from riskclass.tui.app import run as run_app

    return run_app(lang=lang, engine_factory=engine_factory, audit_log=audit_log, register=register)
