"""`rag serve`: the assistant as an OpenAI-compatible chat model over HTTP.

Modules, each with one job (only `app` and `server` import FastAPI and uvicorn, and the CLI
imports them inside `rag serve`, so `rag --help` stays instant):

- `protocol`: the request schema and the response, chunk and error objects of the OpenAI API.
- `conversation`: `question_from(messages)`, the last user message rewritten into a standalone question.
- `auth`: the bearer token check and the rule that only loopback may go without a token.
- `app`: `create_app(assistant, token)`, the FastAPI application (testable without uvicorn).
- `server`: `run(assistant, host, port, token)`, which binds the socket and runs uvicorn.
"""
