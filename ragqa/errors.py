"""The errors ragqa shows to people. Each message says what happened and what to do."""


class RagqaError(Exception):
    """Base class: the CLI and the UI print the message, never a traceback."""


class ConfigError(RagqaError):
    """config.yaml (or an override) has an unknown key or a bad value."""


class IndexMissingError(RagqaError):
    """There is no index yet at the configured folder."""


class IndexMismatchError(RagqaError):
    """The index was built with other model or chunk settings than the config asks for."""


class IndexFormatError(IndexMismatchError):
    """The index was written by a newer ragqa, in a format this one cannot read."""


class IndexBusyError(RagqaError):
    """Another ingest holds the index's write lock."""


class ModelUnavailableError(RagqaError):
    """The embedding model cannot be found locally and the hub is unreachable."""


class LLMError(RagqaError):
    """The language model endpoint failed; the message says how to fix it."""


class NoteNotFoundError(RagqaError):
    """A note path that is not in the index (not ingested, skipped, or outside the notes folder)."""


class HistoryError(RagqaError):
    """The saved conversations cannot be read or written (a bad id, a file that is not a history)."""


class HistoryFormatError(HistoryError):
    """The history file was written by a newer ragqa; it is left as it is."""


class NotePathError(RagqaError):
    """A path a client gave is not a note's or folder's path inside the notes folder ('..', absolute, NUL…)."""
