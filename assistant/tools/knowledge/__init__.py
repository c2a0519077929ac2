"""The user's knowledge base: loaders (files to sections), chunking, embeddings, and the
store that keeps files, manifest and vectors."""

from assistant.tools.knowledge.store import AddResult, KnowledgeBase

__all__ = ["AddResult", "KnowledgeBase"]
