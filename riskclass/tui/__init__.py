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
    import gc

    # Start-up makes objects that live as long as the app (Textual's modules and styles, the rulebook, the model), and
    # the collector's full passes over them while they are made are wasted work: one fell in the first frame and cost
    # 15–40 ms of the first paint (benchmarks/bench_tui_startup.py, three alternating rounds: median 0.29–0.31 s
    # before, 0.27–0.28 s after). The app resumes collecting, with those objects frozen out of its passes, once its
    # engine is final.
    gc.disable()
    try:
        from riskclass.tui.app import run as run_app

        return run_app(lang=lang, engine_factory=engine_factory, audit_log=audit_log, register=register, resume_gc=True)
    finally:
        gc.enable()
