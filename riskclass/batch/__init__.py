"""Running the engine over a table: chunks, workers, result columns, and comparing two runs.

May import tables, reports and everything below the engine; never training or the faces.
"""
