"""What a GGUF file says about itself: its name, architecture, trained context length and chat template.

GGUF (llama.cpp's model format) opens with a header of typed key/value pairs before the tensors: magic
`GGUF`, a version, the tensor and key counts, then each key as (string, value type, value). Only that
header is read (memory-mapped, so the tokenizer's 150,000-entry arrays are skipped, not copied): a 7 GB
file is described in a few milliseconds, without llama.cpp.
"""
from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from ragqa.errors import LLMError

MAGIC = b"GGUF"
# value type -> struct format of one scalar (8: string, 9: array are read by hand)
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9
_SKIPPED = object()  # an array's value: only its length is of use here


class NotGGUFError(LLMError):
    """A model file that is missing or is not a GGUF; `reason` is the short why."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    name: str  # general.name, else the file name without .gguf
    architecture: str  # general.architecture: llama, qwen2, gemma3…
    context_length: int | None  # <architecture>.context_length: the context it was trained for
    chat_template: str | None  # tokenizer.chat_template (Jinja), which llama.cpp's server applies
    size: int  # bytes

    @property
    def takes_system_role(self) -> bool:
        """Whether the chat template has a place for a system message (a few, such as Mistral's first
        ones, raise an error on one). Without a template llama.cpp uses ChatML, which has one."""
        return self.chat_template is None or "system" in self.chat_template


def _read_header(data, limit: int) -> dict:
    """The header's keys and values (arrays of more than 64 items left out), from a buffer."""
    def unpack(fmt: str, at: int):
        return struct.unpack_from("<" + fmt, data, at)[0], at + struct.calcsize(fmt)

    def string(at: int) -> tuple[str, int]:
        length, at = unpack("Q", at)
        if length > limit:
            raise ValueError("string past the end")
        return bytes(data[at:at + length]).decode("utf-8", errors="replace"), at + length

    def value(kind: int, at: int):
        if kind in _SCALARS:
            return unpack(_SCALARS[kind], at)
        if kind == _STRING:
            return string(at)
        if kind != _ARRAY:
            raise ValueError(f"unknown value type {kind}")
        item, at = unpack("I", at)
        count, at = unpack("Q", at)
        if item in _SCALARS:  # fixed-size items: jump over them
            size = struct.calcsize(_SCALARS[item])
            return (_SKIPPED if count > 64 else list(struct.unpack_from(f"<{count}{_SCALARS[item]}", data, at)),
                    at + count * size)
        if count > 64 and item == _STRING:  # the tokenizer's vocabulary and merges: walk over the lengths only
            length = struct.Struct("<Q").unpack_from
            for _ in range(count):
                at += 8 + length(data, at)[0]
            return _SKIPPED, at
        items = []
        for _ in range(count):
            one, at = value(item, at)
            if count <= 64:
                items.append(one)
        return (items if count <= 64 else _SKIPPED), at

    if bytes(data[:4]) != MAGIC:
        raise ValueError("it does not start with GGUF")
    version, at = unpack("I", 4)
    if version < 2:
        raise ValueError(f"GGUF version {version} is too old (llama.cpp reads 2 and later)")
    _, at = unpack("Q", at)  # tensor count
    keys, at = unpack("Q", at)
    found = {}
    for _ in range(keys):
        key, at = string(at)
        kind, at = unpack("I", at)
        found[key], at = value(kind, at)
    return found


def read_gguf(path: str | Path) -> GGUFInfo:
    """The GGUF's own description of itself; LLMError (one line) if it is missing or not a GGUF file."""
    path = Path(path)
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            meta = _read_header(data, len(data))
    except FileNotFoundError:
        raise NotGGUFError(f"llm.local_model: no file at {path}: give the path of a .gguf model file",
                           "no such file") from None
    except IsADirectoryError:
        raise NotGGUFError(f"llm.local_model: {path} is a folder: give the path of a .gguf file in it",
                           "a folder") from None
    except (OSError, ValueError, struct.error) as err:
        reason = f"not a GGUF model file ({err or type(err).__name__})"
        raise NotGGUFError(f"llm.local_model: {path} is {reason}: give the path of a .gguf file (llama.cpp's "
                           "format; Hugging Face repos named *-GGUF hold them)", reason) from None
    arch = str(meta.get("general.architecture") or "")
    context = meta.get(f"{arch}.context_length")
    template = meta.get("tokenizer.chat_template")
    return GGUFInfo(path=path, name=str(meta.get("general.name") or "").strip() or path.name.removesuffix(".gguf"),
                    architecture=arch, context_length=int(context) if isinstance(context, int) else None,
                    chat_template=template if isinstance(template, str) and template.strip() else None,
                    size=path.stat().st_size)
