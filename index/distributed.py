"""`rag index --ray`: reading, chunking and embedding as Ray Data stages on a cluster (or a local Ray).

The build still decides in this process what changed and writes the index here, atomically, as always;
only the work in between moves to Ray:

    articles to (re)index --> map_batches(read + chunk + date) --> map_batches(embed, actor pool) --> this process

Both stages run the same `rag.index.pipeline.prepare` and the same MiniLM as a local build, so each passage gets
the same vector. Each embedding actor loads the model once and is given one CPU, with one ONNX thread
to match, so N workers use N cores; Ray Data streams blocks through the stages and holds back reading
when embedding falls behind.

On a real cluster every node needs this rag installed and must see the article files at the same paths
(a shared filesystem): the workers read them. Dump rows travel with the work, since this process reads dumps.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from rag.errors import ClusterError, InputError
from rag.index.chunking import Chunker, ChunkingSettings
from rag.index.pipeline import Indexed, Prepared, Work, embed_chunks, prepare, split_rows
from rag.net import connect_error

# Work is cut into about 16 blocks a worker, of 1 to 256 articles: the last blocks must be small beside the whole job,
# or one worker finishes alone (150 articles in blocks of 32 kept 2 workers at 1.62x one), and a million articles
# must not become a million blocks.
BLOCKS_PER_WORKER = 16
MAX_ARTICLES_PER_BLOCK = 256
ARTICLES_PER_BATCH = 8  # articles embedded per actor call (a news article is 10-30 passages)
LOCAL = "local"  # --ray local: always start a Ray of this machine's cores, even when RAY_ADDRESS is set


@functools.cache
def _embedder(model_id: str, models_dir: str):
    """The embedder of a Ray worker process, loaded once however many batches it runs; one thread, as it has one CPU."""
    from rag.embedders import open_embedder

    return open_embedder(model_id, Path(models_dir), threads=1)


def _prepare_batch(batch: dict[str, np.ndarray], model_id: str, models_dir: str,
                   chunking: ChunkingSettings) -> dict[str, np.ndarray]:
    """Ray stage 1: read and chunk a batch of work (pickled `Work` in, pickled `Prepared` out)."""
    chunker = Chunker(_embedder(model_id, models_dir).count_tokens, chunking)
    done = [prepare(pickle.loads(w), chunker) for w in batch["work"]]
    return {"prepared": np.array([pickle.dumps(p) for p in done], dtype=object)}


def _embed_actor(model_id: str, models_dir: str) -> type:
    """Ray stage 2's actor class, bound to one model: an actor that embeds prepared articles' passages with the model
    it loaded once."""

    class EmbedActor:
        def __init__(self) -> None:
            self.embedder = _embedder(model_id, models_dir)

        def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            prepared: list[Prepared] = [pickle.loads(p) for p in batch["prepared"]]
            matrix = embed_chunks(self.embedder, [c for p in prepared for c in p.chunks])
            return {"indexed": np.array([pickle.dumps(i) for i in split_rows(prepared, matrix)], dtype=object)}

    return EmbedActor


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for the duration (the user's own values win), then put back what was there."""
    ours = {k: v for k, v in values.items() if k not in os.environ}
    os.environ.update(ours)
    try:
        yield
    finally:
        for key in ours:
            os.environ.pop(key, None)


def _host(address: str) -> str:
    return address.removeprefix("ray://").rstrip("/").rpartition(":")[0].strip("[]")


def _probe(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, with one line naming the address, when nothing listens there: `ray.init` would retry a down
    cluster for minutes, logging as it goes."""
    host, sep, port = address.removeprefix("ray://").rstrip("/").rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise InputError(f"--ray {address}: give the cluster as HOST:PORT (its head node's GCS, e.g. 10.0.0.5:6379), "
                         "ray://HOST:PORT, auto or local")
    exc = connect_error(host, int(port), timeout)
    if exc is not None:
        reason = exc.strerror or type(exc).__name__.replace("Error", " error").strip()
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {reason.lower()}") from exc


@contextlib.contextmanager
def ray_cluster(address: str, say: Callable[[str], None] = lambda _: None) -> Iterator[int]:
    """Connect to the Ray cluster at `address` ("auto": RAY_ADDRESS if set, else a local Ray; "local": a local Ray)
    and yield how many CPUs it has. A Ray this process started is stopped on exit; one already running is left."""
    try:
        import ray
        from ray._private import ray_constants
    except ImportError as exc:
        raise InputError("--ray needs Ray: pip install 'ray[data]' (./scripts/setup.sh installs it)") from exc
    if ray.is_initialized():
        yield int(ray.cluster_resources().get("CPU", 1))
        return
    target = os.environ.get("RAY_ADDRESS", "") if address == "auto" else "" if address == LOCAL else address
    if target:
        _probe(target)
    # Ray's own notices (token authentication on, progress bars off, and a C++ line logged as an error for every
    # Ray Data actor: ray-project/ray#53727) are not the user's business; failures still raise, and say why.
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    cluster_mode = ray_constants.ENABLE_RAY_CLUSTER
    # Ray takes this node's address from the network, and turns a loopback address it is given into that one, unless
    # it runs as on a laptop (this switch, read by the processes it starts and, once imported, from the constant).
    # So a Ray rag starts is a private pool of this machine's cores whose every server listens on 127.0.0.1 only, and
    # a cluster given as 127.0.0.1:PORT is reached there, not at the node's outside address where it does not listen.
    loopback = not target or _host(target) in ("127.0.0.1", "localhost", "::1")
    try:
        with _environment(RAY_BACKEND_LOG_LEVEL="fatal", **({"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"} if loopback else {})):
            ray_constants.ENABLE_RAY_CLUSTER = cluster_mode and not loopback
            if target:
                say(f"connecting to the Ray cluster at {target}")
                ray.init(address=target, **quiet)
            else:
                say(f"starting a local Ray with {os.cpu_count()} CPUs")
                # "local": a new Ray, never one an earlier `ray start` recorded in /tmp/ray (it may be long gone)
                ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, **quiet)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        ray_constants.ENABLE_RAY_CLUSTER = cluster_mode
        where = f"the Ray cluster at {target}" if target else "a local Ray"
        # a cluster started by `ray start` asks for a token by default, and a client sends one only when told to
        hint = " (if it asks for a token, set RAY_AUTH_MODE=token)" if target else ""
        raise ClusterError(f"cannot reach {where}: {_first_line(exc)}{hint}") from exc
    try:
        yield int(ray.cluster_resources().get("CPU", 1))
    finally:
        ray.shutdown()
        ray_constants.ENABLE_RAY_CLUSTER = cluster_mode


class RayPipeline:
    """Reads, chunks and embeds on Ray: `workers` embedding actors of one CPU each (default: one per CPU of the cluster)."""

    def __init__(self, address: str, model_id: str, models_dir: Path, settings: ChunkingSettings,
                 workers: int | None = None):
        if workers is not None and workers < 1:
            raise InputError(f"--ray-workers {workers}: give 1 or more")
        self.address = address
        self.model_id = model_id
        self.models_dir = str(Path(models_dir).resolve())  # workers do not share this process's working folder
        self.settings = settings
        self.workers = workers

    def run(self, work: Sequence[Work], say: Callable[[str], None], progress: bool) -> list[Indexed]:
        """Every piece of work read, chunked and embedded on Ray, returned in `work`'s order."""
        if not work:
            return []
        with ray_cluster(self.address, say) as cpus:
            import ray.data
            from tqdm import tqdm

            context = ray.data.DataContext.get_current()
            context.enable_progress_bars = False  # one bar for the whole job, below
            context.print_on_execution_start = False
            # a failed job is reported below in one line; Ray Data would log its whole stack trace first
            logging.getLogger("ray.data").setLevel(logging.CRITICAL)
            workers = self.workers or max(1, cpus)
            say(f"indexing {len(work)} articles on Ray with {workers} embedding worker(s)")
            per_block = min(MAX_ARTICLES_PER_BLOCK, max(1, len(work) // (BLOCKS_PER_WORKER * workers)))
            blocks = math.ceil(len(work) / per_block)
            kwargs = {"model_id": self.model_id, "models_dir": self.models_dir}
            dataset = (
                ray.data.from_items([{"work": pickle.dumps(w)} for w in work], override_num_blocks=blocks)
                .map_batches(_prepare_batch, fn_kwargs={**kwargs, "chunking": self.settings},
                             batch_size=ARTICLES_PER_BATCH, num_cpus=1)
                .map_batches(_embed_actor(**kwargs), batch_size=ARTICLES_PER_BATCH, num_cpus=1,
                             compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=2))
            )
            done: dict[int, Indexed] = {}
            passages = 0
            try:
                with tqdm(total=len(work), unit="article", desc="indexing on Ray", disable=not progress) as bar:
                    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                        for blob in batch["indexed"]:
                            indexed: Indexed = pickle.loads(blob)
                            done[indexed.prepared.slot] = indexed
                            passages += len(indexed.prepared.chunks)
                            bar.update(1)
                        bar.set_postfix(passages=passages)
            except (ray.exceptions.RayError, ray.data.exceptions.SystemException) as exc:
                # Ray wraps a failure in layers (a task error around the error in the worker); the innermost one says
                # what happened, except Ray Data's bare SystemException marker
                cause: BaseException = exc
                while cause.__cause__ is not None and not isinstance(cause.__cause__, ray.data.exceptions.SystemException):
                    cause = cause.__cause__
                raise ClusterError(f"the Ray job failed, and the index was left as it was: {type(cause).__name__}: "
                                   f"{_first_line(cause)} (Ray's logs: /tmp/ray/session_latest/logs)") from exc
        say(f"embedded {passages} passages on Ray")
        return [done[w.slot] for w in work]
