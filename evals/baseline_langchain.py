"""The recipe users copy from LangChain's RAG tutorial, run on the same gold set for comparison.

RecursiveCharacterTextSplitter(1000, 200), LangChain's FAISS vector store, the same MiniLM,
top-4, the same GGUF through llama-cpp-python, and the tutorial prompt as one user message.
It does not cite, so every retrieved article counts as cited; "I don't know"-style replies
count as abstentions. Comparison code only: the product itself never imports langchain-community.
"""

from __future__ import annotations

import time

from rag.backends import ChatBackend, GenerationParams
from rag.checks.abstention import declines
from rag.embedders.minilm import Embedder
from rag.types import Answer, Article, Chunk, Citation, Passage

TUTORIAL_PROMPT = (
    "You are an assistant for question-answering tasks. Use the following pieces of retrieved context to answer "
    "the question. If you don't know the answer, just say that you don't know. Use three sentences maximum and "
    "keep the answer concise.\nQuestion: {question} \nContext: {context} \nAnswer:"
)
NOTE = "LangChain tutorial recipe: it does not cite, so every retrieved article counts as cited."


class LangChainRecipe:
    """`answer(question) -> Answer`, like the assistant, so the same scoring and report apply."""

    def __init__(self, articles: list[Article], embedder: Embedder, backend: ChatBackend | None, k: int = 4):
        from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document
        from langchain_core.embeddings import Embeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        class SameMiniLM(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                return embedder.embed_documents(texts).tolist()

            def embed_query(self, text: str) -> list[float]:
                return embedder.embed_query(text).tolist()

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        docs = splitter.split_documents(
            [Document(page_content=a.text, metadata={"doc_id": a.id, "title": a.title}) for a in articles])
        for i, doc in enumerate(docs):
            doc.metadata["ordinal"] = i
        self.store = FAISS.from_documents(docs, SameMiniLM())
        self.backend = backend  # used only when answering: `rag bench speed` sets it after timing the build
        self.k = k
        self.params = GenerationParams(max_tokens=256)  # "three sentences maximum"

    @property
    def name(self) -> str:
        """The model column of reports: the recipe and the backend it asks."""
        return f"langchain-recipe+{self.backend.name}"

    def answer(self, question: str) -> Answer:
        """Retrieve top-k, ask with the tutorial prompt, keep the reply as it is."""
        started = time.perf_counter()
        hits = self.store.similarity_search_with_score(question, k=self.k)
        retrieve_ms = (time.perf_counter() - started) * 1000
        passages = []
        for rank, (doc, distance) in enumerate(hits, start=1):
            meta = doc.metadata
            chunk = Chunk(f"{meta['doc_id']}:lc{meta['ordinal']}", meta["doc_id"], meta["ordinal"], doc.page_content,
                          meta["start_index"], meta["start_index"] + len(doc.page_content), meta["title"])
            # LangChain's FAISS store returns squared L2; for unit vectors cosine = 1 - d/2.
            passages.append(Passage(chunk, round(1.0 - float(distance) / 2.0, 4), rank))
        context = "\n\n".join(doc.page_content for doc, _ in hits)  # the tutorial's format_docs
        messages = [{"role": "user", "content": TUTORIAL_PROMPT.format(question=question, context=context)}]
        pieces, first = [], 0.0
        for piece in self.backend.stream(messages, self.params):
            if not pieces:
                first = (time.perf_counter() - started) * 1000
            pieces.append(piece)
        text = "".join(pieces).strip()
        total = (time.perf_counter() - started) * 1000
        usage = {"prompt_tokens": self.backend.count_tokens(messages[0]["content"]),
                 "completion_tokens": self.backend.count_tokens(text)}
        return Answer(question, text, tuple(Citation(p.rank, p) for p in passages), tuple(passages), self.name,
                      declines(text), (), {"retrieve": round(retrieve_ms, 1), "first_token": round(first, 1),
                                                       "generate": round(total - retrieve_ms, 1), "total": round(total, 1)},
                      text, usage)
