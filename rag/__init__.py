"""rag: answers questions about news articles with verified citations, offline."""

__version__ = "0.1.0"
