"""Our retriever as a LangChain `BaseRetriever`, so LangChain chains can use the index directly.

The assistant itself stays plain Python; this adapter is for users who compose their own chains.
LangChain is imported at the top because this module is itself only imported on request
(`rag.as_langchain_retriever`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.retrieval import Retriever


class RagRetriever(BaseRetriever):
    """Passages from a `rag` index, best first, as LangChain `Document`s."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    inner: Any  # a rag `Retriever`
    k: int

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [Document(page_content=p.chunk.text, metadata={
            "doc_id": p.chunk.article_id, "chunk_id": p.chunk.id, "title": p.chunk.title,
            "published": p.chunk.published, "score": round(p.score, 4), "rank": p.rank})
            for p in self.inner.retrieve(query, self.k)]


def as_langchain_retriever(index: str | Path | None = None, top_k: int | None = None, *,
                           retriever: Retriever | None = None, models_dir: str | Path | None = None) -> RagRetriever:
    """A LangChain retriever over an index built by `rag index` (or over any `Retriever` given).

    Each result's `page_content` is the passage text; `metadata` has `doc_id`, `chunk_id`, `title`,
    `published`, `score` and `rank`. What is not given comes from the settings `rag ask` reads
    (`rag.toml`, `RAG_*` variables, the defaults), so the `retrieval` setting applies here too. The index
    is checked and its embedding model loaded once, here; unlike `rag ask`, a missing index is an error.
    """
    from rag.config import load_settings

    settings = load_settings({"index": index, "top_k": top_k, "models_dir": models_dir})
    if retriever is None:
        from rag import store
        from rag.compose import open_retriever

        retriever = open_retriever(settings, store.load(settings.index))
    return RagRetriever(inner=retriever, k=settings.top_k)
