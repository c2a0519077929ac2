"""Quality evaluation: run the pipeline on a fixed dataset of topics and score what it wrote.

``python -m evals.run`` prints a table and writes JSON; ``evals.metrics`` holds the scores.
"""
