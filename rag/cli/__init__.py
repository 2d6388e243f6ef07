"""The `rag` command: the parser and `main` (`rag.cli.main`), and one module per group of commands.

    indexing   rag index, rag status
    asking     rag ask, rag search, rag chat
    serving    rag serve, rag ui
    measuring  rag eval, rag bench (the work itself lives in rag.evals)

Commands read settings once (`rag.config.load_settings`) and get their components from
`rag.compose`. Heavy libraries (faiss, llama_cpp, onnxruntime) are imported inside the commands
that need them, so `rag --help` and `rag --version` stay instant.
"""

from rag.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
