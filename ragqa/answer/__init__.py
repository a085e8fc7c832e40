"""From passages to a checked answer: focus, prompt, follow-ups, the LLM, citations, the final check; and an
answer as a saved turn (saved.py) and a conversation as Markdown or JSON (export.py)."""
