"""The reference evaluator: a small tree-walking interpreter and the decision procedure."""
