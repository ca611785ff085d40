"""The audit log: reviewers' decisions in an append-only, hash-chained file.

May import the engine and below; never batch, reports, training or the faces.
"""
