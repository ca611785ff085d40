"""Measure the shipped engine on every real held-out set and write models/real-held-out.json and the model card.

    python training/real_figures.py [--records DIR]

The last step after `python training/pipeline.py` and `python training/combine.py`: it reads each real held-out set
(`REAL_HELD_OUT_FILES`, text from ../shared/data), so every run is a reading of each of them — count it in
training/README.md, and run it only once every choice is made. The figures are keyed to the model, rulebook and
combiner measured; the model card shows them only while those are the shipped ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import riskclass.training.pipeline as training  # noqa: E402 - after the path tweak, so a checkout works without installing
from riskclass.errors import RiskclassError  # noqa: E402
from riskclass.model.classifier import MANIFEST_FILE, load_shipped_model  # noqa: E402

OUT = HERE.parent / "models"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", help="folder of the shared records (default: ../shared/data)")
    args = parser.parse_args()
    try:
        figures = training.real_held_out_figures(load_shipped_model(), OUT, args.records)
    except RiskclassError as exc:
        print(f"real_figures: {exc}", file=sys.stderr)
        return 2
    (OUT / training.REAL_FIGURES_FILE).write_text(
        json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    manifest = json.loads((OUT / MANIFEST_FILE).read_text(encoding="utf-8"))
    (OUT / "README.md").write_text(
        training.model_card(manifest, training.current_real_figures(OUT, manifest)), encoding="utf-8"
    )
    for r in figures["sets"]:
        print(
            f"{r['file']:22} {r['rows']:4} rows  κ {r['kappa']:.3f}  macro-F1 {r['macro_f1']:.3f}  high recall"
            f" {r['high_recall']:.3f}  needs_review {r['needs_review']:.1%}  ECE {r['ece']:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
