"""`rag.as_langchain_retriever`: our ranking, unchanged, inside a LangChain chain."""

from __future__ import annotations

import pytest

import rag
from rag.errors import IndexMissingError


def test_documents_keep_our_ranking_and_ids(retriever):
    question = "Who is the chairman of CATL?"
    documents = rag.as_langchain_retriever(top_k=3, retriever=retriever).invoke(question)
    expected = retriever.retrieve(question, 3)
    assert [d.metadata["chunk_id"] for d in documents] == [p.chunk.id for p in expected]
    assert [d.metadata["rank"] for d in documents] == [1, 2, 3]
    assert documents[0].page_content == expected[0].chunk.text
    assert documents[0].metadata["doc_id"] == "002_9ad4130286e12838"  # the hashed embedder's top hit
    assert set(documents[0].metadata) == {"doc_id", "chunk_id", "title", "published", "score", "rank"}


def test_it_composes_in_a_langchain_chain(retriever):
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    def numbered(documents) -> str:
        return "\n\n".join(f"[{d.metadata['rank']}] {d.page_content}" for d in documents)

    prompt = ChatPromptTemplate.from_template("Passages:\n{context}\n\nQuestion: {question}")
    seen = []
    chain = ({"context": rag.as_langchain_retriever(top_k=2, retriever=retriever) | numbered,
              "question": RunnablePassthrough()} | prompt | RunnableLambda(lambda value: seen.append(value) or "ok"))
    assert chain.invoke("Who is the chairman of CATL?") == "ok"
    text = seen[0].to_messages()[0].content
    top = retriever.retrieve("Who is the chairman of CATL?", 2)
    assert text == f"Passages:\n[1] {top[0].chunk.text}\n\n[2] {top[1].chunk.text}\n\nQuestion: Who is the chairman of CATL?"


def test_a_missing_index_is_reported_before_any_query(tmp_path):
    with pytest.raises(IndexMissingError, match="no index at"):
        rag.as_langchain_retriever(index=tmp_path / "nothing")
