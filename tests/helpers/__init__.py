"""What the tests share besides fixtures (fixtures: tests/conftest.py). Import from the module, e.g.
`from helpers.settings import HASH, make_settings`. To add a test cheaply:

- cli.run(argv, env=, cwd=, stdin=): the real `ragqa` CLI in this process (shares the loaded models).
  forked_cli.run / forked_cli.start: a real child process started in < 1 s, only where the process is the point
  (kill -9, Ctrl-C, two at once, `watch`).
- api_client.api_client(settings) / openai_over(client): the HTTP API in this process (TestClient) and the real
  openai package over it. api_server.Server: a real `ragqa serve`, only where the server process is the point.
- settings.make_settings(tmp, notes, model=HASH) and write_config / write_notes / copy_index; HASH is the
  seeded-hash fake embedder (hash_embedder.py), MINILM the small real model.
- data.need_shared("NAME") or @pytest.mark.shared_data("NAME"): ../shared/data, skipped when absent (failed
  under CI=true). local_model.live / needs_local_model: tests that answer with the local model.
- app.open_app(): app.py through Streamlit's AppTest; net: ports and health checks; garden_notes: the notes
  SmolLM2 answers over; failing_endpoint: an OpenAI-compatible server that fails on purpose.
- mcp_client.McpSession: the MCP SDK's real client over stdio, HTTP or in process; milvus_server: a shared
  Milvus Lite server; fake_ollama: a small Ollama on 127.0.0.1.
"""
