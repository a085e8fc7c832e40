"""From passages to a checked answer: focus, prompt, follow-ups, the LLM, citations, the final check."""
