"""What-if exploration: grids of incidents, batch decisions, counterfactuals, display, diagrams.

Nothing here needs pandas until a table is asked for (the ``notebook`` extra).
"""
