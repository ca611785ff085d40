"""The shipped model as the faces load it: retrained once, by this pipeline, when this runtime cannot read the file."""

from __future__ import annotations

from collections.abc import Callable


def shipped_model(notify: Callable[[str], None] | None = None):
    """`load_shipped_model`, with the training pipeline as the way to rebuild a model this runtime cannot read."""
    from riskclass.model.classifier import load_shipped_model
    from riskclass.training.pipeline import retrain_shipped

    return load_shipped_model(notify=notify, retrain=retrain_shipped)
