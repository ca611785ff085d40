"""Turning an assessment into paperwork (Markdown, HTML, JSON) and into terminal text.

May import the engine and below, and `riskclass.tables` for files; never batch, audit, training or the faces.
"""
