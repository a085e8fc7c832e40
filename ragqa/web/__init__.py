"""Pieces of the browser face. app.py is its one entry point; like ragqa.cli this is a face, so it may
see both the read path (ragqa) and the write path (ingest). Nothing in ragqa's core imports it."""
