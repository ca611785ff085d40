"""The engine: an `Assessment` of one description from the rules' findings and the model's opinion (the decision
policy), with the obligations the tier owes.

May import the model, the rulebook, the law and text; never tables, batch, reports, audit, training or the faces.
"""
