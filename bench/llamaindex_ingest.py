"""The same ingest done with LlamaIndex, for bench/ingest.py: same folder, same model folder, same dtype,
same chunk size (cl100k tokens, through the same offline tiktoken), FAISS as the vector store, persisted.

    SimpleDirectoryReader -> TokenTextSplitter -> HuggingFaceEmbedding -> FaissVectorStore -> persist

Needs the benchmark extra: llama-index-core, llama-index-embeddings-huggingface,
llama-index-vector-stores-faiss (see docs/PERFORMANCE.md for the pins). Model loading is not timed.
"""
from __future__ import annotations

import time
from pathlib import Path


def run_llamaindex(folder: Path, model_folder: Path, passage_prefix: str, query_prefix: str, *, bf16: bool,
                   chunk_tokens: int, overlap_tokens: int, batch_size: int, persist_dir: Path) -> dict:
    """Index `folder` with LlamaIndex; returns {"files", "chunks", "seconds"}."""
    try:
        import faiss
        from llama_index.core import Settings, SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import TokenTextSplitter
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from llama_index.vector_stores.faiss import FaissVectorStore
    except ImportError as err:
        raise SystemExit(f"LlamaIndex is not installed ({err.name}): pip install -c constraints.txt llama-index-core "
                         "llama-index-embeddings-huggingface llama-index-vector-stores-faiss") from None
    from ragqa.tokens import encoding

    embed = HuggingFaceEmbedding(model_name=str(model_folder), device="cpu", embed_batch_size=batch_size,
                                 text_instruction=passage_prefix, query_instruction=query_prefix, normalize=True)
    if bf16:  # like ragqa, so the comparison is about the pipeline, not the number format
        import torch

        embed._model.to(torch.bfloat16)
    embed.get_text_embedding_batch(["warm up"] * 4)
    Settings.llm = None
    splitter = TokenTextSplitter(chunk_size=chunk_tokens, chunk_overlap=overlap_tokens,
                                 tokenizer=lambda text: encoding().encode(text, disallowed_special=()))

    started = time.perf_counter()
    documents = SimpleDirectoryReader(str(folder), recursive=True, required_exts=[".md", ".txt"]).load_data()
    store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(embed._model.get_embedding_dimension()))
    context = StorageContext.from_defaults(vector_store=store)
    index = VectorStoreIndex.from_documents(documents, storage_context=context, embed_model=embed,
                                            transformations=[splitter], show_progress=False)
    index.storage_context.persist(persist_dir=str(persist_dir))
    seconds = time.perf_counter() - started
    return {"files": len({d.metadata.get("file_path") for d in documents}), "chunks": store.client.ntotal,
            "seconds": seconds}
