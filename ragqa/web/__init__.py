"""Pieces of the browser face. Its one entry point is ragqa/app/streamlit_app.py (run by `ragqa app`, or through
the shim app.py); like ragqa.cli, the entry sees both the read path (ragqa) and the write path (ingest); these
modules never import ingest: the entry hands them its pieces as a `ragqa.web.write_path.WritePath`. Nothing in
ragqa's core imports this package."""
