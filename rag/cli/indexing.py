"""`rag index` and `rag status`: build or re-sync an index, and describe one."""

from __future__ import annotations

import json
from pathlib import Path

from rag.compose import DEFAULT_SOURCES, build_embedder
from rag.config import Settings
from rag.errors import InputError
from rag.terminal import report_build, say


def cmd_index(args, settings: Settings) -> int:
    """Add the given files, folders and URLs to the index, or re-sync its recorded ones (./seeds for a new index)."""
    from rag.index.build import build_index
    from rag.index.fetch import fetch, is_url
    from rag.store import recorded_sources
    from rag.store.engine import parse_store

    urls = [a for a in args.paths if is_url(a)]
    paths = [Path(p) for p in args.paths if not is_url(p)]
    missing = next((p for p in paths if not p.exists()), None)
    if missing:  # build_index says the same, but only after the embedder has loaded
        raise InputError(f"no such file or folder: {missing}")
    fields = field_names(args.field)
    if urls:
        pages = settings.index / "pages"  # the fetched copies: indexed and re-synced like any folder
        for url in urls:
            say(f"fetched {url} -> {fetch(url, pages)}")
        paths.append(pages)
    if not paths and not recorded_sources(settings.index):
        paths = [DEFAULT_SOURCES]
    if args.ray_workers is not None and not args.ray:
        raise InputError("--ray-workers needs --ray")
    store_spec = parse_store(args.store) if args.store else None
    embedder = build_embedder(settings, settings.index, paths, args.rebuild, say)
    pipeline = None
    if args.ray:
        from rag.index.chunking import ChunkingSettings
        from rag.index.distributed import RayPipeline

        pipeline = RayPipeline(args.ray, embedder.model_id, settings.models_dir, ChunkingSettings(), args.ray_workers)
    report = build_index(settings.index, paths, embedder, rebuild=args.rebuild, say=say, progress=True, fields=fields,
                         pipeline=pipeline, store_spec=store_spec)
    return report_build(report, say)


def field_names(given: list[str]) -> dict[str, str]:
    """`--field ROLE=NAME` flags as {role: name}; a malformed flag or an unknown role is an error."""
    from rag.index.readers.dumps import FIELD_NAMES

    fields = {}
    for flag in given:
        role, sep, name = flag.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--field {flag}: give ROLE=NAME, e.g. --field text=story")
        if role.strip() not in FIELD_NAMES:
            raise InputError(f"--field {flag}: unknown role {role.strip()!r}: use one of {', '.join(FIELD_NAMES)}")
        fields[role.strip()] = name.strip()
    return fields


def cmd_status(args, settings: Settings) -> int:
    """The index's embedder, size, sources and articles, and which packaged models are assembled."""
    from rag import store
    from rag.backends.gguf import PACKAGED_MODELS
    from rag.backends.weights import copy_name, resolve
    from rag.store.vector_index import is_compressed

    manifest = store.load(settings.index, open_engine=False).manifest  # status needs no engine
    models = {name: (settings.models_dir / m.filename).exists() for name, m in PACKAGED_MODELS.items()}
    # the copy `weights` loads for each model, if any: made (True) or to be made on first use (False)
    chosen = {name: resolve(m, settings.weights) for name, m in PACKAGED_MODELS.items()}
    copies = {name: (settings.models_dir / copy_name(m, chosen[name])).exists()
              for name, m in PACKAGED_MODELS.items() if chosen[name] != "packaged"}
    if args.json:
        print(json.dumps({"index": str(settings.index), "manifest": manifest.to_dict(), "models_assembled": models,
                          "weights": settings.weights, "weights_copies_made": copies}, indent=2))
        return 0
    print(f"index     {settings.index} (built {manifest.created})")
    print(f"embedder  {manifest.embedder.id} ({manifest.embedder.dim}-d, {manifest.metric})")
    if manifest.store != "faiss":
        print(f"vectors   {manifest.passages} passages, in {manifest.store} (collection {manifest.collection}, "
              f"{manifest.faiss_index.removeprefix('Milvus ')} index)")
    else:
        exact_beside = ", exact vectors memory-mapped from vectors.npy" if is_compressed(manifest.faiss_index) else ""
        print(f"vectors   {manifest.passages} passages, FAISS {manifest.faiss_index}{exact_beside}")
    print(f"sources   {', '.join(manifest.sources)}")
    print(f"articles  {len(manifest.articles)}")
    for article_id, a in sorted(manifest.articles.items()):
        print(f"  {article_id}  {a.published or '          '}  {a.chunks:>3} chunks  {a.title}")
    for name, present in models.items():
        state = "assembled" if present else "not assembled yet (assembled on first use)"
        if name in copies:
            state += f"; {chosen[name]} copy {'made' if copies[name] else 'made on first use'}"
        print(f"model     local:{name}: {state}")
    return 0
