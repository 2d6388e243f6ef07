"""Errors whose messages are shown to the user verbatim (the CLI exits 2 on them)."""


class RagError(Exception):
    """Base class: a problem the user can act on, described in one line."""


class InputError(RagError):
    """The question, a flag or a config value is unusable."""


class IndexMissingError(RagError):
    """There is no index where one was expected."""


class IndexCorruptError(RagError):
    """The index on disk is damaged or was built with other settings."""


class ModelError(RagError):
    """A model file is missing, corrupt or cannot be loaded."""


class BackendError(RagError):
    """A chat backend failed while answering."""


class ClusterError(RagError):
    """A cluster rag hands work to (Ray) cannot be reached, or failed during the job."""


class EngineError(RagError):
    """The vector engine an index keeps its vectors in (Milvus) cannot be reached, or failed a request."""
