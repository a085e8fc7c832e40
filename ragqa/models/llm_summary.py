"""What `ragqa status` says of the language model: which one, from where, on how many threads and GPU layers,
with what context. Nothing is started, fetched or assembled to say it, and a problem is one line in it."""
from __future__ import annotations

from ragqa.errors import RagqaError


def llm_summary(settings) -> dict:
    """{"provider","model","source","path","threads","gpu_layers","context_window","model_context","problem"}
    for the whole Settings (a relative llm.local_model path is config.yaml's)."""
    from ragqa.models.chat import llm_settings

    llm = llm_settings(settings)
    row = {"provider": llm.provider, "model": None, "source": None, "path": None, "threads": None,
           "gpu_layers": None, "context_window": llm.context_window, "model_context": None, "problem": None}
    if llm.provider == "none":
        return {**row, "context_window": None}
    if llm.provider == "ollama":
        from ragqa.models.ollama import base_url

        unset = "llm.model is not set: name one of Ollama's models (`ragqa models list`)"
        return {**row, "model": llm.model, "source": "ollama", "path": base_url(llm),
                "problem": None if llm.model else unset}
    if llm.provider == "openai":
        from ragqa.models.openai_chat import DEFAULT_BASE_URL

        return {**row, "model": llm.model, "source": "endpoint", "path": llm.base_url or DEFAULT_BASE_URL}
    return {**row, **_local(llm, settings)}


def _local(llm, settings) -> dict:
    from ragqa.models.hardware import describe_gpu_layers, threads_for

    row = {"model": llm.local_model, "threads": threads_for(llm.threads),
           "gpu_layers": describe_gpu_layers(llm.gpu_layers)}
    try:
        row.update(_local_file(llm, settings))
    except RagqaError as err:
        row["problem"] = str(err)
    return row


def _local_file(llm, settings) -> dict:
    from ragqa.models.hf_models import cached_file, missing
    from ragqa.models.local_files import LOCAL_MODELS, cache_path, installed_parts
    from ragqa.models.model_sources import ServedModel, check_context, served_model, source_of

    source = source_of(llm.local_model)
    if source == "bundled":  # where its file is, or will be once assembled: nothing is assembled to say so
        model = LOCAL_MODELS[llm.local_model]
        parts = installed_parts(model)
        cache = settings.resolve(settings.embedding.cache_dir) if hasattr(settings, "embedding") else None
        path = parts[0] if len(parts) == 1 else cache_path(cache) / "models" / f"{model.name}.gguf"
        served = ServedModel(model.name, model.name, path, model.max_context, source)
    elif source == "hf" and cached_file(llm.local_model) is None:
        return {"source": source, "problem": missing(llm.local_model)}
    else:
        served = served_model(llm.model_copy(update={"local_model_sha256": None}))  # no hashing for a status line
    row = {"source": source, "path": str(served.path), "model": served.name, "model_context": served.max_context}
    try:
        check_context(served, llm.context_window)
    except RagqaError as err:
        row["problem"] = str(err)
    return row


def summary_line(row: dict) -> str:
    """One line of `ragqa status`.

    >>> summary_line({"provider": "local", "model": "smollm2-135m", "source": "bundled", "threads": 2,
    ...               "gpu_layers": "0 (auto: no GPU)", "context_window": 2048, "model_context": 8192, "path": "x",
    ...               "problem": None})
    'llm smollm2-135m (local, bundled), threads 2, GPU layers 0 (auto: no GPU), context 2048 of 8192'
    """
    if row["provider"] == "none":
        return "llm none (retrieval only)"
    if row["provider"] == "local":
        context = f"context {row['context_window']}" + (f" of {row['model_context']}" if row["model_context"] else "")
        line = (f"llm {row['model']} (local, {row['source'] or '?'}), threads {row['threads']}, "
                f"GPU layers {row['gpu_layers']}, {context}")
    else:
        where = "Ollama at " if row["provider"] == "ollama" else ""
        line = f"llm {row['model'] or '(llm.model not set)'} ({where}{row['path']}), context {row['context_window']}"
    return line + (f"; problem: {row['problem']}" if row["problem"] else "")
