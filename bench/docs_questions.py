"""Questions a newcomer asks of the sample folder (ragqa's own docs/), with what a right answer says.

Used by bench/answer_quality.py (--set docs), bench/context_focus.py and bench/llm_speed.py. Unlike
SQuAD's encyclopaedia paragraphs, these are notes: headings carry the topic, and there are tables,
lists and code. Each entry: (question, phrases any one of which a right answer contains, the note(s)
that hold the answer, a follow-up asked after it).
"""
from __future__ import annotations

DOCS_QUESTIONS = [
    ("How does ragqa keep the index safe if ingest is killed?",
     ["transaction", "renamed into place", "vectors in sqlite", "nothing is lost", "re-running ingest"],
     ["FAQ.md", "RELIABILITY.md"],
     "Why is that safe?"),
    ("Does ragqa need the internet?", ["no"], ["FAQ.md"], "And the language model?"),
    ("Can two ingests run at once?", ["no", "one writer", "waits"], ["FAQ.md", "RELIABILITY.md"],
     "What does the second one do?"),
    ("Why is my PDF skipped?", ["text layer", "scanned", "encrypted"], ["FAQ.md", "RELIABILITY.md"],
     "What about encrypted ones?"),
    ("Who can reach the chat?", ["127.0.0.1", "own machine", "this machine", "only you"], ["FAQ.md"],
     "How do I open it to other machines?"),
    ("What is the default embedding model?", ["multilingual-e5-small", "e5"], ["FAQ.md", "QUALITY.md"],
     "Is there a faster one?"),
    ("How fast is a re-ingest when nothing changed?", ["0.05", "0.01", "0.12"], ["PERFORMANCE.md"],
     "Why is it so fast?"),
    ("Which local model answers by default?", ["qwen2.5-coder-1.5b"], ["ANSWERS.md"], "How was it chosen?"),
]
