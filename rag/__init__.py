"""rag: answers questions about news articles with verified citations, offline."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def as_langchain_retriever(*args: Any, **kwargs: Any) -> Any:
    """A LangChain `BaseRetriever` over a `rag` index; see `rag.interop.as_langchain_retriever`."""
    from rag.interop import as_langchain_retriever as build  # LangChain loads only when asked for

    return build(*args, **kwargs)
