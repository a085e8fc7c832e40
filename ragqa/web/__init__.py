"""Pieces of the browser face. app.py is its one entry point and, like ragqa.cli, sees both the read path
(ragqa) and the write path (ingest); these modules never import ingest: app.py hands them its pieces as a
`ragqa.web.write_path.WritePath`. Nothing in ragqa's core imports this package."""
