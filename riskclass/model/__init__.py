"""The tier model: its file format, verified loading, and scoring descriptions (features and probabilities).

May import `riskclass.text` and `riskclass.rulebook` (for the versions it records); never the engine. Retraining a
model this runtime cannot read is the training pipeline's job, asked for by the face that needs it.
"""
