"""The law: the Chengdu draft's text and its articles, as shipped in `riskclass/data/`.

Imports only `riskclass.errors`.
"""
