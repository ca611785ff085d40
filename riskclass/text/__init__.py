"""Text as riskclass reads it: normalisation with a map back to the original characters, tokenisation, n-gram codes.

The lowest layer: imports only `riskclass.errors` and `riskclass.cache`.
"""
