"""The rulebook: loading and validating rules (data, each citing the draft), matching them, and the batch screen.

May import `riskclass.law` and `riskclass.text`; never the model, the engine or anything above.
"""
