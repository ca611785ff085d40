"""Tables as files: reading CSV/TSV/.xlsx in any encoding and delimiter, writing CSV/JSONL safely (formula guard),
and atomic files.

Imports only `riskclass.errors`: it knows nothing of assessments.
"""
