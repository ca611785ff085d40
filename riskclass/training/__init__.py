"""The training pipeline: prepare → train → evaluate → export, the data readers and the engine's evaluation.

May import the engine, the model, audit and tables; never batch, reports or the faces. `training/` at the top of
the repository holds the data and the scripts that call this package.
"""
