"""The command line: one module per command group, a thin face over the engine and the layers below it.

The top layer with the TUI (which it launches): nothing imports it.
"""
