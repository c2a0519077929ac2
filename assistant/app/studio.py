"""What a channel, the CLI or the evals open: the services jobs run with.

The graph owns :class:`Services` (its nodes are given it), so it lives beside them in
assistant/graph/services.py; everything above the application reaches it through here and
never imports the graph itself.
"""

from assistant.graph.services import Services

__all__ = ["Services"]
