"""The models: the embedding model, and the chat models behind one factory (local, OpenAI-compatible, none)."""
