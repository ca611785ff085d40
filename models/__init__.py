"""The shipped tier model and its manifest (package data: see riskclass.model)."""
