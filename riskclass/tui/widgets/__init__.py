"""Widgets of the riskclass TUI, one per module."""
