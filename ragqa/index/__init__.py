"""The index folder: the only code that knows its format (SQLite, vectors, the write lock), and the saved
conversations kept beside it (history.py)."""
