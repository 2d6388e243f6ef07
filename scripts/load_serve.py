"""Load test (not a benchmark to tune against): concurrent clients against `rag serve`, on loopback only.

    .venv/bin/python scripts/load_serve.py [--clients 8] [--duration 120] [--questions evals/gold.jsonl]
        [--url http://127.0.0.1:PORT/v1 [--url …] [--pid PID] | --index DIR --model SPEC --top-k K --token
         --replicas N]

Without --url it starts its own `rag serve --host 127.0.0.1 --port 0` (with --index, --model,
--top-k passed through; --token makes that server require a fresh random token, so every request
also goes through the bearer check), reads the port the server announces, and stops it at the end
(terminate, then kill). With --url it uses a running server on 127.0.0.1, ::1 or localhost (any
other host is refused: exit 2), sends $RAG_SERVE_TOKEN as the API key when set, and samples that
server's memory only when --pid names its process; --index and --top-k must then be the server's.

Replicas. `--replicas N` starts N such servers (`rag serve` keeps no per-user state, so any balancer can
spread users over them), and `--url` may be given once per running replica. Client i sends all its requests to
replica i mod N, as a balancer that keeps each user on one replica would. The figures are for all
replicas together: requests, errors, latency, CPU and VmRSS summed over the servers. To measure replicas
sharing one model server, give them `--model openai:NAME` with OPENAI_BASE_URL set to it.

N client threads each ask, one request at a time until the deadline, questions picked (seeded) from
a fixed pool drawn from the gold file, answerable and unanswerable alike, with the official `openai`
client; each client alternates streamed and non-streamed requests. Then it prints requests done,
errors by kind, mixed-up answers (the question and what came back), latency p50/p90/p95/p99/max (and,
for streams, the time to the first content delta), throughput, the CPU the server and this script
used (a server that got far less than the machine's cores was sharing them: read its latencies so),
the server's VmRSS over time, its access lines by status, and each question's answers.
Exit status: 0 clean, 1 any error or mixed-up answer, 2 could not run (bad arguments, no server).

Bounded: a hard deadline of --duration plus a grace period (--timeout + 15 s) for requests in flight,
after which the server is stopped whatever is still running; a per-request timeout (a stream is
also cut when its total time passes it); each client has at most one request in flight, so
nothing queues on this side; starting the server has its own deadline (--start-timeout).

What a mixed-up answer is. The local 0.5B's answers can differ slightly between two askings of
the same question in one process (llama.cpp reuses its KV cache from the previous prompt), so
answers are not compared with each other. Instead every reply is checked against the question it
was asked for. Before the load, the pool's questions are retrieved in this process from the same
index with the same embedder and top-k as the server (what `rag search --json` prints): for each
question, its passages by rank with their similarity scores. A reply to question Q is mixed up when
any of these fails:
  1. every citation `[n]` is passage n of Q's retrieval: same chunk id, document, text, and a
     score within 0.001 of Q's own. The score is the similarity between the passage and the
     question the server actually answered, so even a passage that two questions share at the
     same rank betrays a reply computed for the other question. A citation that is passage n of
     another pool question Q' (and not of Q) is reported as cross-talk from Q';
  2. an answer that is not an abstention has citations, its [n] markers are exactly the cited
     markers, and it contains at least one content term (rag.checks.grounding.key_terms) of its cited
     passages;
  3. an abstention is exactly "Not in the documents." with no citations;
  4. a single-turn request is never rewritten (no `rewritten_question`);
  5. every completion id is seen once in the run, and all chunks of a stream carry the same id.
Before the load the script prints how many possible swaps check 1 would catch: for every ordered
pair of pool questions (Q, Q') and every passage Q' could cite, whether Q''s reply citing it fails
Q's check. A swapped abstention carries nothing question-specific, so it cannot be caught; the
per-question table shows how often each question abstained, for a person to judge.

Errors are failed requests: HTTP errors, timeouts, connection failures, errors sent in a stream,
streams that end without their last chunk, replies missing `citations`/`abstained`, requests
still unfinished at the hard deadline, and tracebacks in the server's log (own server only).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rag.checks.abstention import NOT_IN_DOCUMENTS

SCORE_TOLERANCE = 1e-3  # replies round scores to 4 decimals; two processes' MiniLM may differ in the last bits
LOOPBACK_NAMES = ("localhost",)
ANNOUNCED = re.compile(r"^rag: serving rag \((?P<backend>.+)\) on (?P<url>http://\S+/v1) \(", re.MULTILINE)
ACCESS_LINE = re.compile(r'"((?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH) \S+) HTTP/[\d.]+" (\d{3})')
MAX_TABLE_ROWS = 30  # the memory table is a summary, not a log
ERROR_BACKOFF_S = 1.0  # after a failed request, so a dead server is not hammered in a tight loop
GRACE_MARGIN_S = 15.0  # past the per-request timeout: connecting, and a stream's last chunks after its wait


# --- questions and what each should retrieve ---------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One gold question of the pool."""

    id: str
    text: str
    answerable: bool


@dataclass(frozen=True)
class Retrieved:
    """Passage `rank` of a question's retrieval, as a reply's citation would show it."""

    rank: int
    chunk_id: str
    doc_id: str
    text: str
    score: float

    def matches(self, citation: dict[str, Any]) -> bool:
        """Whether `citation` is this passage cited as `[rank]` for this question."""
        return (citation.get("marker") == self.rank and citation.get("chunk_id") == self.chunk_id
                and citation.get("doc_id") == self.doc_id and citation.get("text") == self.text
                and isinstance(citation.get("score"), int | float)
                and abs(citation["score"] - self.score) <= SCORE_TOLERANCE)


Expected = dict[str, list[Retrieved]]  # question id -> its passages by rank


def load_pool(path: Path, size: int, seed: int) -> list[Question]:
    """A fixed pool of `size` gold questions, about a third of them unanswerable, chosen with `seed`."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [Question(r["id"], r["question"], bool(r.get("answerable", True))) for r in rows]
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    rng = random.Random(seed)
    want_unanswerable = min(len(unanswerable), max(1, round(size / 3))) if unanswerable else 0
    picked = rng.sample(unanswerable, want_unanswerable) + rng.sample(answerable, min(len(answerable),
                                                                                     size - want_unanswerable))
    return sorted(picked, key=lambda q: q.id)


def retrieve_all(retriever: Any, questions: Sequence[Question], k: int) -> Expected:
    """Each question's top-k passages, retrieved as the server does (the cleaned question, same k)."""
    from rag.assistant import clean_question

    expected: Expected = {}
    for q in questions:
        passages = retriever.retrieve(clean_question(q.text), k)
        expected[q.id] = [Retrieved(p.rank, p.chunk.id, p.chunk.article_id, p.chunk.text, round(p.score, 4))
                          for p in passages]
    return expected


def open_retriever(index: str | None, top_k: int | None) -> tuple[Any, int, Path, Path]:
    """The retriever the server builds from the same settings (rag.toml, RAG_*, flags).

    Returns (retriever, k, index folder, the generation of the index that was read)."""
    from rag import store
    from rag.compose import open_retriever as compose_retriever
    from rag.config import load_settings
    from rag.errors import InputError

    settings = load_settings({"index": index, "top_k": top_k})
    if not store.exists(settings.index):
        # `rag serve` would build one from ./seeds; building it here as well would race with the server.
        raise InputError(f"no index at {settings.index}: build it first with `rag index PATH --index {settings.index}`")
    generation = index_generation(settings.index)
    loaded = store.load(settings.index)
    if index_generation(settings.index) != generation:
        raise InputError(f"the index at {settings.index} changed while it was read (`rag index` running?): run again")
    return compose_retriever(settings, loaded), settings.top_k, settings.index, generation


def index_generation(index: Path) -> Path:
    """The generation folder `current` points at: the index's exact contents (`rag index` only moves it forward)."""
    return (index / "current").resolve()


def swap_coverage(expected: Expected) -> tuple[int, int]:
    """(caught, possible): replies of Q' citing one of its passages, delivered to Q != Q', that fail Q's check 1."""
    caught = possible = 0
    for asked, own in expected.items():
        for other, passages in expected.items():
            if other == asked:
                continue
            for p in passages:
                citation = {"marker": p.rank, "chunk_id": p.chunk_id, "doc_id": p.doc_id, "text": p.text, "score": p.score}
                possible += 1
                caught += not any(mine.matches(citation) for mine in own)
    return caught, possible


# --- the mix-up check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What came back for one request, as the client saw it."""

    answer: str
    abstained: bool
    citations: list[dict[str, Any]]
    ids: tuple[str, ...]  # distinct completion ids: one for a response, every chunk's for a stream
    rewritten: str | None


def mixups(question: Question, reply: Reply, expected: Expected) -> list[str]:
    """Why `reply` does not belong to `question` (the module docstring's checks 1-4); [] when it does."""
    problems = []
    if len(reply.ids) != 1:
        problems.append(f"the stream's chunks carry {len(reply.ids)} completion ids: {', '.join(reply.ids)}")
    if reply.rewritten is not None:
        problems.append(f"a single-turn question came back rewritten as {reply.rewritten!r}")
    if reply.abstained:
        if reply.answer != NOT_IN_DOCUMENTS or reply.citations:
            problems.append(f"abstained, yet answered {reply.answer!r} with {len(reply.citations)} citation(s)")
        return problems
    if not reply.citations:
        problems.append("an answer without citations")
    for citation in reply.citations:
        problems.extend(_citation_problems(question, citation, expected))
    problems.extend(_answer_problems(reply))
    return problems


def _citation_problems(question: Question, citation: dict[str, Any], expected: Expected) -> list[str]:
    """Check 1 for one citation, naming the pool question it belongs to when it is not this one's."""
    if any(p.matches(citation) for p in expected[question.id]):
        return []
    shown = f"[{citation.get('marker')}] {citation.get('chunk_id')} (score {citation.get('score')})"
    owners = [other for other, passages in expected.items()
              if other != question.id and any(p.matches(citation) for p in passages)]
    if owners:
        return [f"cross-talk: citation {shown} is what {', '.join(owners)} retrieved, not this question"]
    own = next((p for p in expected[question.id] if p.rank == citation.get("marker")), None)
    mine = f"{own.chunk_id} (score {own.score})" if own else "nothing"
    return [f"citation {shown} is not this question's passage at that rank, which is {mine}, nor any pool question's"]


def _answer_problems(reply: Reply) -> list[str]:
    """Check 2: the answer's markers are its citations and it says something its cited passages say."""
    from rag.checks.citations import MARKER
    from rag.checks.grounding import Evidence, key_terms

    problems = []
    written = {int(n) for m in MARKER.finditer(reply.answer) for n in re.split(r"[,;]", m.group(1))}
    cited = {c.get("marker") for c in reply.citations}
    if written != cited:
        problems.append(f"the answer's markers {sorted(written)} are not its citations {sorted(cited, key=str)}")
    terms = key_terms(reply.answer)
    evidence = Evidence.of(" ".join(str(c.get("text", "")) for c in reply.citations))
    if terms and not any(evidence.has(t) for t in terms):
        problems.append(f"none of the answer's terms {terms} is in its cited passages")
    return problems


# --- one request -------------------------------------------------------------------------------------


class RequestFailed(Exception):
    """A request that failed; `kind` groups failures in the report."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class Outcome:
    """One finished request: its reply, or the failure."""

    question: Question
    stream: bool
    started: float  # seconds since the load began
    latency: float
    first_content: float | None = None  # streams: seconds to the first content delta
    reply: Reply | None = None
    error: RequestFailed | None = None
    problems: list[str] = field(default_factory=list)


def ask(client: Any, question: Question, stream: bool, timeout: float, t0: float) -> Outcome:
    """Ask one question; every failure becomes an Outcome with `error` set, never an exception."""
    import openai

    outcome = Outcome(question, stream, time.monotonic() - t0, 0.0)
    started = time.monotonic()
    try:
        if stream:
            outcome.reply, outcome.first_content = _ask_streamed(client, question, timeout, started)
        else:
            outcome.reply = _ask_whole(client, question)
    except RequestFailed as exc:
        outcome.error = exc
    except openai.APIStatusError as exc:
        outcome.error = RequestFailed(f"HTTP {exc.status_code} {exc.code or ''}".strip(), exc.message)
    except openai.APITimeoutError as exc:
        outcome.error = RequestFailed("timeout", str(exc))
    except openai.APIConnectionError as exc:
        outcome.error = RequestFailed("connection", f"{exc}: {exc.__cause__!r}")
    except openai.APIError as exc:  # an error event inside a stream
        outcome.error = RequestFailed(f"in-stream error {getattr(exc, 'code', None) or ''}".strip(), exc.message)
    except Exception as exc:  # the load must report anything, never die of it
        outcome.error = RequestFailed(type(exc).__name__, str(exc))
    outcome.latency = time.monotonic() - started
    return outcome


def _messages(question: Question) -> list[dict[str, str]]:
    return [{"role": "user", "content": question.text}]


def _ask_whole(client: Any, question: Question) -> Reply:
    completion = client.chat.completions.create(model="rag", messages=_messages(question))
    if len(completion.choices) != 1 or completion.choices[0].finish_reason != "stop":
        raise RequestFailed("bad response", f"choices {completion.choices!r}")
    return _reply(completion.choices[0].message.content or "", completion.model_extra or {}, (completion.id,))


def _ask_streamed(client: Any, question: Question, timeout: float, started: float) -> tuple[Reply, float | None]:
    ids: list[str] = []
    pieces: list[str] = []
    first_content = None
    last = None
    with client.chat.completions.create(model="rag", messages=_messages(question), stream=True) as stream:
        for chunk in stream:
            if time.monotonic() - started > timeout:  # the read timeout bounds each gap, this the whole stream
                raise RequestFailed("timeout", f"the stream took over {timeout:.0f} s")
            ids.append(chunk.id)
            if chunk.choices and chunk.choices[0].delta.content:
                first_content = first_content if first_content is not None else time.monotonic() - started
                pieces.append(chunk.choices[0].delta.content)
            if chunk.choices and chunk.choices[0].finish_reason:
                last = chunk
    if last is None:
        raise RequestFailed("incomplete stream", f"{len(ids)} chunks and no finish_reason")
    if last.choices[0].finish_reason != "stop":
        raise RequestFailed("bad response", f"finish_reason {last.choices[0].finish_reason!r}")
    return _reply("".join(pieces), last.model_extra or {}, tuple(dict.fromkeys(ids))), first_content


def _reply(answer: str, extra: dict[str, Any], ids: tuple[str, ...]) -> Reply:
    citations, abstained = extra.get("citations"), extra.get("abstained")
    if not isinstance(citations, list) or not isinstance(abstained, bool):
        raise RequestFailed("bad response", f"citations {citations!r}, abstained {abstained!r}")
    return Reply(answer, abstained, citations, ids, extra.get("rewritten_question"))


# --- the run: clients, tally, memory -----------------------------------------------------------------


@dataclass
class Client:
    """One client thread's state: what it is asking now, for the hard-deadline report."""

    index: int
    current: tuple[Question, bool, float] | None = None  # question, streamed, started (monotonic)


class Tally:
    """Outcomes of the run, shared by the client threads; closed at the hard deadline."""

    def __init__(self, expected: Expected):
        self.expected = expected
        self.outcomes: list[Outcome] = []
        self.ids: Counter[str] = Counter()
        self.closed = False
        self.lock = threading.Lock()

    def record(self, outcome: Outcome, client: Client) -> None:
        """Keep `outcome`, with its mix-ups (check 5 needs every id seen so far, hence under the lock).

        The client's request stops being "current" under the same lock, so at the hard deadline every
        request is either recorded or reported unfinished, never neither."""
        with self.lock:
            client.current = None
            if self.closed:  # a request the hard deadline already counted as unfinished
                return
            if outcome.reply is not None:
                outcome.problems = mixups(outcome.question, outcome.reply, self.expected)
                for id_ in outcome.reply.ids:
                    self.ids[id_] += 1
                    if self.ids[id_] > 1:
                        outcome.problems.append(f"completion id {id_} was already returned to another request")
            self.outcomes.append(outcome)

    def counts(self) -> tuple[int, int, int]:
        """(done, errors, mixed-up) so far."""
        with self.lock:
            done = sum(o.error is None for o in self.outcomes)
            return done, len(self.outcomes) - done, sum(bool(o.problems) for o in self.outcomes)


def client_loop(client_state: Client, make_client: Any, pool: Sequence[Question], seed: int, deadline: float,
                timeout: float, t0: float, tally: Tally, stop: threading.Event) -> None:
    """Ask questions one at a time until the deadline; streams and whole responses alternate."""
    rng = random.Random(seed * 1000 + client_state.index)
    stream = client_state.index % 2 == 0  # half the clients start streamed, so both kinds run from the start
    client = make_client()
    while time.monotonic() < deadline and not stop.is_set():
        question = rng.choice(pool)
        client_state.current = (question, stream, time.monotonic())
        outcome = ask(client, question, stream, timeout, t0)
        tally.record(outcome, client_state)
        stream = not stream
        if outcome.error is not None:
            stop.wait(ERROR_BACKOFF_S)


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system, all threads) a process has used, from /proc; None when unknown."""
    if not pid:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": comm may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14 and 15


def own_cpu_seconds() -> float:
    """CPU time this script has used (every thread), to show the clients did not starve the server."""
    times = os.times()
    return times.user + times.system


def rss_kib(pid: int) -> tuple[int | None, int | None]:
    """(VmRSS, VmHWM) of a process in KiB, from /proc; (None, None) when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None, None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)

    def kib(name: str) -> int | None:
        return int(fields[name].split()[0]) if name in fields else None

    return kib("VmRSS"), kib("VmHWM")


class MemorySampler(threading.Thread):
    """Samples the servers' VmRSS (summed) every `every` seconds and prints a progress line to stderr."""

    def __init__(self, pids: list[int], every: float, t0: float, tally: Tally):
        super().__init__(daemon=True)
        self.pids, self.every, self.t0, self.tally = pids, every, t0, tally
        self.samples: list[tuple[float, int | None, int]] = []  # (seconds, KiB, requests done)
        self.peak: int | None = None
        self.finished = threading.Event()

    def sample(self) -> None:
        """Take one sample now (also called once more at the end)."""
        done, errors, mixed = self.tally.counts()
        rss, hwm = _summed([rss_kib(pid) for pid in self.pids])
        self.peak = hwm or self.peak
        elapsed = time.monotonic() - self.t0
        self.samples.append((elapsed, rss, done))
        memory = f", server RSS {rss / 1024:.0f} MiB" if rss else ""
        print(f"load: {elapsed:5.1f} s: {done} done, {errors} errors, {mixed} mixed-up{memory}", file=sys.stderr, flush=True)

    def run(self) -> None:
        while not self.finished.wait(self.every):
            self.sample()


def _summed(readings: list[tuple[int | None, int | None]]) -> tuple[int | None, int | None]:
    """(VmRSS, VmHWM) summed over processes; None unless every process could be read."""
    if not readings or any(rss is None or hwm is None for rss, hwm in readings):
        return None, None
    return sum(r for r, _ in readings if r), sum(h for _, h in readings if h)


def servers_cpu(servers: Sequence[Server]) -> float | None:
    """CPU seconds the servers used, summed; None when any server's PID is unknown."""
    seconds = [cpu_seconds(s.pid) for s in servers]
    return None if any(x is None for x in seconds) else sum(x for x in seconds if x is not None)


# --- the server --------------------------------------------------------------------------------------


class SetupError(Exception):
    """The load cannot run (exit 2)."""


def loopback_problem(url: str) -> str | None:
    """Why `url` is not a loopback http(s) URL, or None when it is."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"--url must be an http:// or https:// URL, not {url!r}"
    host = parts.hostname or ""
    if host.lower() in LOOPBACK_NAMES:
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return (f"refusing to load {host or url!r}: this script only loads a server on this machine "
            "(127.0.0.1, ::1 or localhost)")


@dataclass
class Server:
    """The server under load: its URL, the model behind it, and (own server) its process and log."""

    url: str
    backend: str
    pid: int | None = None
    process: subprocess.Popen | None = None
    log: Path | None = None

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log else ""


def start_server(args: argparse.Namespace, token: str | None, workdir: Path, replica: int = 0) -> Server:
    """`rag serve --host 127.0.0.1 --port 0` with the run's flags; returns once it answers GET /v1/models."""
    command = [sys.executable, "-m", "rag.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
    for flag, value in (("--index", args.index), ("--model", args.model), ("--top-k", args.top_k)):
        if value is not None:
            command += [flag, str(value)]
    env = {k: v for k, v in os.environ.items() if k != "RAG_SERVE_TOKEN"}
    if token:
        env["RAG_SERVE_TOKEN"] = token  # through the environment, as users do: never on a command line
    log = workdir / f"serve-{replica}.log"
    with log.open("w") as stderr:  # a file, not a pipe: a full pipe would block the server's access log
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    server = Server("", "", process.pid, process, log)
    try:
        _wait_until_serving(server, token, args.start_timeout)
    except BaseException:
        stop_server(server)
        raise
    return server


def _wait_until_serving(server: Server, token: str | None, timeout: float) -> None:
    import httpx

    assert server.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SetupError(f"rag serve exited with {server.process.returncode}:\n{server.log_text()[-3000:]}")
        announced = ANNOUNCED.search(server.log_text())  # --port 0: the server names the port it got
        if announced:
            server.url, server.backend = announced.group("url"), announced.group("backend")
            try:
                if models(server.url, token or "none").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # bound, but uvicorn not accepting yet
        time.sleep(0.25)
    raise SetupError(f"rag serve did not answer within {timeout:.0f} s:\n{server.log_text()[-3000:]}")


def models(url: str, api_key: str) -> Any:
    """GET {url}/models, never through a proxy (loopback traffic must stay on loopback)."""
    import httpx

    return httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=10, trust_env=False)


def attach_server(url: str, api_key: str, pid: int | None) -> Server:
    """A server someone else runs at `url` (already checked to be loopback)."""
    import httpx

    try:
        response = models(url.rstrip("/"), api_key)
    except httpx.TransportError as exc:
        raise SetupError(f"no server at {url}: {exc}") from None
    if response.status_code != 200:
        raise SetupError(f"GET {url}/models answered {response.status_code}: {response.text[:300]}")
    backend = next((m.get("backend", "?") for m in response.json().get("data", []) if m.get("id") == "rag"), "?")
    return Server(url.rstrip("/"), backend, pid)


def stop_server(server: Server) -> None:
    """Terminate our server, then kill it if it has not gone within 15 s."""
    if server.process is None or server.process.poll() is not None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=15)


# --- the report --------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (an observed value, no interpolation)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_row(name: str, values: Sequence[float]) -> str:
    if not values:
        return f"  {name:<22}{0:>5}"
    cells = "".join(f"{percentile(values, p):>7.2f}" for p in (50, 90, 95, 99)) + f"{max(values):>7.2f}"
    return f"  {name:<22}{len(values):>5}{cells}"


def report(tally: Tally, sampler: MemorySampler, servers: Sequence[Server], unfinished: list[str], wall: float,
           cpu: tuple[float | None, float]) -> int:
    """Print the figures; the exit status (1 on any error or mix-up). `cpu`: seconds the server and
    this script used during the load (the server's None when its PID is unknown)."""
    outcomes = tally.outcomes
    done = [o for o in outcomes if o.error is None]
    failed = [o for o in outcomes if o.error is not None]
    mixed = [o for o in done if o.problems]
    streamed = [o for o in done if o.stream]
    end = max((o.started + o.latency for o in done), default=wall)
    print("\n== load results ==")
    print(f"requests done   {len(done)} ({len(streamed)} streamed, {len(done) - len(streamed)} not) in {end:.1f} s: "
          f"{len(done) / end if end else 0:.2f} req/s ({60 * len(done) / end if end else 0:.0f} per minute)")
    errors = _errors(failed, unfinished, servers)
    print(f"errors          {sum(n for n, _ in errors.values())}")
    for kind, (count, example) in sorted(errors.items()):
        print(f"  {count:>4} × {kind}: {example}")
    print(f"mixed-up        {len(mixed)}")
    for o in mixed:
        assert o.reply is not None
        print(f"  {o.question.id} ({'stream' if o.stream else 'whole'}) asked {o.question.text!r}")
        print(f"    got {o.reply.answer!r}, abstained {o.reply.abstained}, citations "
              f"{[(c.get('marker'), c.get('chunk_id'), c.get('score')) for c in o.reply.citations]}")
        for problem in o.problems:
            print(f"    - {problem}")
    print(f"{'latency (s)':<24}{'n':>5}{'p50':>7}{'p90':>7}{'p95':>7}{'p99':>7}{'max':>7}")
    print(latency_row("all", [o.latency for o in done]))
    print(latency_row("whole response", [o.latency for o in done if not o.stream]))
    print(latency_row("stream, to the end", [o.latency for o in streamed]))
    print(latency_row("stream, first content", [o.first_content for o in streamed if o.first_content is not None]))
    _print_cpu(cpu, wall, len(done))
    _print_memory(sampler, servers)
    _print_access_log(servers)
    _print_questions(done)
    return 1 if errors or mixed else 0


def _errors(failed: list[Outcome], unfinished: list[str], servers: Sequence[Server]) -> dict[str, tuple[int, str]]:
    """Errors by kind: (count, first message)."""
    errors: dict[str, tuple[int, str]] = {}

    def add(kind: str, message: str) -> None:
        count, example = errors.get(kind, (0, message))
        errors[kind] = (count + 1, example)

    for o in failed:
        assert o.error is not None
        add(o.error.kind, f"{o.question.id}: {str(o.error)[:300]}")
    for what in unfinished:
        add("unfinished at the hard deadline", what)
    for server in servers:
        log = server.log_text()
        for traceback in re.findall(r"^Traceback \(most recent call last\):\n(?:[ \t].*\n)*.*", log, re.MULTILINE):
            add("traceback in the server log", traceback.splitlines()[-1][:300])
        if server.process is not None and server.process.poll() not in (None, 0, -15):
            add("server exited", f"status {server.process.returncode}")
    return errors


def _print_memory(sampler: MemorySampler, servers: Sequence[Server]) -> None:
    if not sampler.pids or len(sampler.pids) < len(servers):
        print("memory          not sampled: the server's PID is unknown (give --pid with --url)")
        return
    pids = ", ".join(str(pid) for pid in sampler.pids)
    rows = [s for s in sampler.samples if s[1] is not None]
    if not rows:
        print(f"memory          not sampled: /proc/PID/status was not readable (pids {pids})")
        return
    step = math.ceil(len(rows) / MAX_TABLE_ROWS)
    shown = rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else [])
    first, last = rows[0][1], rows[-1][1]
    assert first is not None and last is not None
    whose = f"servers' VmRSS summed (pids {pids})" if len(sampler.pids) > 1 else f"server VmRSS (pid {pids})"
    print(f"memory          {whose}: start {first / 1024:.0f} MiB, end {last / 1024:.0f} MiB "
          f"({(last - first) / 1024:+.0f} MiB), max sampled {max(r[1] or 0 for r in rows) / 1024:.0f} MiB, "
          f"peak since start (VmHWM) {(sampler.peak or 0) / 1024:.0f} MiB")
    print(f"  {'t (s)':>7}{'RSS (MiB)':>11}{'requests done':>15}")
    for elapsed, kib, done_then in shown:
        print(f"  {elapsed:>7.1f}{(kib or 0) / 1024:>11.1f}{done_then:>15}")


def _print_cpu(cpu: tuple[float | None, float], wall: float, done: int) -> None:
    """CPU used during the load: a server that got much less than the machine's cores was sharing them."""
    server, own = cpu
    if server is None:
        print(f"cpu             server not measured (PID unknown); this script {own:.1f} s")
        return
    per_request = f", {server / done:.1f} s per request done" if done else ""
    print(f"cpu             server {server:.1f} s in {wall:.1f} s ({server / wall:.2f} cores of {os.cpu_count()}"
          f"{per_request}); this script {own:.1f} s")


def _print_access_log(servers: Sequence[Server]) -> None:
    """What each server itself logged: its access lines by route and status (own servers only; the GET is the
    readiness check)."""
    for i, server in enumerate(servers):
        if server.log is None:
            continue
        statuses = Counter(ACCESS_LINE.findall(server.log_text()))
        shown = ", ".join(f"{route} {status} ×{n}" for (route, status), n in sorted(statuses.items())) or "none"
        print(f"{'server log' if len(servers) == 1 else f'replica {i} log':<16}{shown}")


def _print_questions(done: list[Outcome]) -> None:
    """Per question: how often asked, answered or abstained, and its distinct answers (for a person to judge)."""
    by_question: dict[str, list[Outcome]] = defaultdict(list)
    for o in done:
        by_question[o.question.id].append(o)
    print(f"{'per question':<18}{'asked':>6}{'answered':>9}{'abstained':>10}  answers (count)")
    for qid, asked in sorted(by_question.items()):
        replies = [o.reply for o in asked if o.reply is not None]
        answers = Counter(r.answer for r in replies)
        shown = "; ".join(f"{a[:80]!r} ×{n}" for a, n in answers.most_common(3)) + (" …" if len(answers) > 3 else "")
        answered = sum(not r.abstained for r in replies)
        print(f"  {qid:<16}{len(asked):>6}{answered:>9}{len(replies) - answered:>10}  {shown}")


# --- main --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--duration", type=float, default=120, help="seconds of load (default 120)")
    parser.add_argument("--url", action="append", help="a running server's base URL, on loopback; once per replica "
                        "(default: start our own)")
    parser.add_argument("--pid", type=int, help="with --url: the server's process, to sample its memory")
    parser.add_argument("--index", help="index folder, passed to the server (default: rag's)")
    parser.add_argument("--model", help="model spec, passed to the server (default: rag's)")
    parser.add_argument("-k", "--top-k", type=int, dest="top_k", help="passages per question, passed to the server")
    parser.add_argument("--token", action="store_true", help="own server: require a fresh random token")
    parser.add_argument("--replicas", type=int, default=1, help="own servers to start, clients spread over them "
                        "(default 1)")
    parser.add_argument("--questions", default="evals/gold.jsonl", help="gold questions (default evals/gold.jsonl)")
    parser.add_argument("--pool", type=int, default=12, help="questions in the pool (default 12, a third unanswerable)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120, help="per request, seconds; also the grace period (default 120)")
    parser.add_argument("--sample-every", type=float, default=5, help="memory sampling period, seconds (default 5)")
    parser.add_argument("--start-timeout", type=float, default=300, help="seconds for the server to start (default 300)")
    args = parser.parse_args(argv)
    if (args.clients < 1 or args.duration <= 0 or args.timeout <= 0 or args.pool < 2 or args.sample_every <= 0
            or args.replicas < 1):
        parser.error("--clients, --duration, --timeout, --sample-every, --replicas must be positive and --pool at "
                     "least 2")
    if args.pid is not None and len(args.url or ()) != 1:
        parser.error("--pid only goes with one --url (the script knows its own servers' PIDs)")
    if args.url and args.replicas != 1:
        parser.error("--replicas starts our own servers; for running ones, give --url once per replica")
    return args


def make_client_factory(url: str, api_key: str, timeout: float) -> Any:
    """A function making one OpenAI client per thread: no retries (they would hide errors), no proxies."""
    import httpx
    from openai import OpenAI

    limit = httpx.Timeout(timeout, connect=10)

    def make() -> Any:
        return OpenAI(base_url=url, api_key=api_key, max_retries=0, timeout=limit,
                      http_client=httpx.Client(trust_env=False, timeout=limit))

    return make


def run_load(args: argparse.Namespace, servers: Sequence[Server], api_key: str, pool: list[Question],
             expected: Expected) -> int:
    """The load itself, then the report; returns the exit status."""
    tally = Tally(expected)
    stop = threading.Event()
    t0 = time.monotonic()
    deadline, hard_deadline = t0 + args.duration, t0 + args.duration + args.timeout + GRACE_MARGIN_S
    sampler = MemorySampler([s.pid for s in servers if s.pid], args.sample_every, t0, tally)
    sampler.sample()  # the baseline, before any request
    cpu_before = servers_cpu(servers), own_cpu_seconds()
    sampler.start()
    makers = [make_client_factory(s.url, api_key, args.timeout) for s in servers]
    clients = [Client(i) for i in range(args.clients)]
    threads = [threading.Thread(target=client_loop, daemon=True, name=f"client-{c.index}",
                                args=(c, makers[c.index % len(makers)], pool, args.seed, deadline, args.timeout, t0,
                                      tally, stop))
               for c in clients]
    for thread in threads:
        thread.start()
    try:
        _wait_for(threads, servers, deadline, hard_deadline, stop)
    finally:
        stop.set()
        with tally.lock:
            tally.closed = True  # later records would be requests counted here as unfinished
            unfinished = [f"{c.current[0].id} ({'stream' if c.current[1] else 'whole'}) running for "
                          f"{time.monotonic() - c.current[2]:.0f} s" for c in clients if c.current is not None]
        sampler.finished.set()
    sampler.join(timeout=5)
    sampler.sample()  # the end, after the last request
    server_cpu = servers_cpu(servers)
    cpu = (server_cpu - cpu_before[0] if server_cpu is not None and cpu_before[0] is not None else None,
           own_cpu_seconds() - cpu_before[1])
    return report(tally, sampler, servers, unfinished, time.monotonic() - t0, cpu)


def _wait_for(threads: list[threading.Thread], servers: Sequence[Server], deadline: float, hard_deadline: float,
              stop: threading.Event) -> None:
    """Until every client is done or the hard deadline; stops early when one of our servers dies."""
    while any(t.is_alive() for t in threads) and time.monotonic() < hard_deadline:
        if any(s.process is not None and s.process.poll() is not None for s in servers):
            stop.set()  # its clients have nothing left to load: the report shows the status
            return
        next(t for t in threads if t.is_alive()).join(timeout=min(1.0, max(0.0, hard_deadline - time.monotonic())))


def prepare(args: argparse.Namespace) -> tuple[list[Question], Expected, int, Path, Path]:
    """The pool, each question's retrieval (as `rag search --json` would print it), k, the index and
    the generation of it that was read (to check the server reads the same one)."""
    pool = load_pool(Path(args.questions), args.pool, args.seed)
    retriever, k, index, generation = open_retriever(args.index, args.top_k)
    return pool, retrieve_all(retriever, pool, k), k, index, generation


def describe(args: argparse.Namespace, servers: Sequence[Server], pool: list[Question], expected: Expected, k: int,
             index: Path) -> None:
    caught, possible = swap_coverage(expected)
    answerable = sum(q.answerable for q in pool)
    for server in servers:
        print(f"load: rag serve at {server.url} ({server.backend}), pid {server.pid or 'unknown'}, index {index}, "
              f"top-k {k}")
    grace = args.timeout + GRACE_MARGIN_S
    print(f"load: {args.clients} clients for {args.duration:.0f} s (+ up to {grace:.0f} s for requests in flight), "
          f"pool of {len(pool)} questions ({answerable} answerable, {len(pool) - answerable} not; seed {args.seed})")
    print(f"load: pool {', '.join(q.id for q in pool)}")
    print(f"load: cross-talk check: {caught} of {possible} possible swaps of a cited reply between pool questions "
          "would be caught (swapped abstentions cannot be)", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load and print the figures; the exit status (0 clean, 1 errors or mix-ups, 2 could not run)."""
    args = parse_args(argv)
    for url in args.url or ():
        if problem := loopback_problem(url):
            print(f"load_serve: {problem}", file=sys.stderr)
            return 2
    from rag.errors import RagError

    token = secrets.token_hex(16) if args.token and not args.url else None
    api_key = (os.environ.get("RAG_SERVE_TOKEN") if args.url else token) or "none"
    with tempfile.TemporaryDirectory(prefix="load_serve-") as workdir:
        servers: list[Server] = []
        try:
            for url in args.url or ():  # a wrong URL fails at once, before MiniLM loads
                servers.append(attach_server(url, api_key, args.pid))
            pool, expected, k, index, generation = prepare(args)  # before our servers start: one MiniLM load at a time
            if not args.url:
                for replica in range(args.replicas):  # one at a time: each loads its MiniLM and model
                    servers.append(start_server(args, token, Path(workdir), replica))
                if index_generation(index) != generation:  # `rag index` ran meanwhile: a server may hold another
                    raise SetupError(f"the index at {index} changed while the servers started: run again")
            describe(args, servers, pool, expected, k, index)
            return run_load(args, servers, api_key, pool, expected)
        except (SetupError, RagError, OSError, ValueError, KeyError) as exc:
            print(f"load_serve: {exc}", file=sys.stderr)
            return 2
        finally:
            for server in servers:
                stop_server(server)


if __name__ == "__main__":
    sys.exit(main())
