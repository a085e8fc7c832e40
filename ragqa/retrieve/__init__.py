"""Finding passages: dense, BM25 and hybrid search, filters, fusion, reranking, retrieval metrics."""
