"""AgenticAI Lab: the conversational brain (graph, tools, channels)."""

__version__ = "0.1.0"
