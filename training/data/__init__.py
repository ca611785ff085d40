"""The labelled corpus and held-out test set (package data: see riskclass.training)."""
