"""Core modules never import the UI, and the CLI pays only for what it uses (lazy imports)."""

import subprocess
import sys

CORE = [
    "riskclass.law.draft",
    "riskclass.text.normalise",
    "riskclass.rulebook.rules",
    "riskclass.engine.decide",
    "riskclass.engine.assessment",
    "riskclass.reports.terminal",
    "riskclass.rulebook.examples",
    "riskclass.cli.main",
    "riskclass.errors",
    "riskclass.audit.log",
    "riskclass.register",
    "riskclass.cli.register",
]


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_core_imports_without_textual():
    for module in CORE:
        loaded = _loaded_after(f"import {module}")
        assert not any(m == "textual" or m.startswith("textual.") for m in loaded), f"{module} imports textual"


def test_importing_the_cli_loads_no_model_libraries():
    loaded = _loaded_after("import riskclass.cli.main")
    for heavy in ("sklearn", "jieba", "joblib", "numpy", "yaml", "opencc", "textual"):
        assert heavy not in loaded, f"import riskclass.cli pulled in {heavy}"


def test_rules_only_classification_does_not_load_jieba_or_sklearn():
    loaded = _loaded_after("from riskclass.engine.decide import Engine\nEngine().assess('AI简历筛选工具')")
    assert "jieba" not in loaded and "sklearn" not in loaded


def test_classify_with_the_model_never_imports_scikit_learn_or_scipy():
    loaded = _loaded_after(
        "from riskclass.engine.decide import Engine\nfrom riskclass.model.classifier import load_shipped_model\n"
        "Engine(model=load_shipped_model()).assess('AI简历筛选工具')"
    )
    assert "sklearn" not in loaded and "scipy" not in loaded and "textual" not in loaded


def test_one_description_with_the_model_never_imports_numpy():
    """One description is scored in plain Python over the model file (`Floats`): NumPy is for batches."""
    loaded = _loaded_after(
        "from riskclass.text.normalise import use_on_disk_dictionary\nuse_on_disk_dictionary()\n"
        "from riskclass.engine.decide import Engine\nfrom riskclass.model.classifier import load_shipped_model\n"
        "a = Engine(model=load_shipped_model()).assess('一款为银行筛选贷款申请人的评分模型')\nassert a.model.used"
    )
    assert "numpy" not in loaded and "jieba" not in loaded


def test_the_terminal_app_paints_its_first_frame_before_loading_the_engine():
    """The engine, the rulebook and the audit log are loaded by the app's worker after the first frame, not imported
    with the app: each import before it delays what the user first sees."""
    loaded = _loaded_after("import riskclass.tui.app")
    for late in ("riskclass.engine.assessment", "riskclass.rulebook.rules", "riskclass.audit.log", "numpy"):
        assert late not in loaded, f"the terminal app imports {late} before its first frame"
