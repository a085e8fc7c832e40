"""The local model's server process: llama.cpp's own HTTP server, run in-process by xllamacpp.

    python -m ragqa.models.llama_server --model FILE.gguf --alias NAME --port N [--ctx 4096] [--threads 2]

xllamacpp is a prebuilt wheel of llama.cpp (no compiler needed) whose `Server` is llama.cpp's C++
server with its OpenAI-compatible routes (/v1/models, /v1/chat/completions, /health) and its prompt
cache. This module only turns command-line options into its parameters, binds 127.0.0.1, and
keeps the process alive until SIGTERM or SIGINT. ragqa.models.local starts and stops it.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading

MARKER = "ragqa.models.llama_server"  # in the command line: how local_llm recognises its own server


def parameters(args: argparse.Namespace):
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_parallel = 1  # one answer at a time: all of the 2 cores go to it, and its prompt stays cached
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.n_ubatch = args.ubatch
    params.cache_prompt = True  # a prompt that starts like the last one is read from where they differ
    params.verbosity = 1 if not args.verbose else 3
    return params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=MARKER, description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--alias", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ubatch", type=int, default=512)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    import xllamacpp as xlc

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = xlc.Server(parameters(args))
    print(f"{MARKER}: serving {args.alias} on {server.listening_address}", flush=True)
    while not stop.wait(3600):
        pass
    del server  # stops llama.cpp's loop and frees the model
    return 0


if __name__ == "__main__":
    sys.exit(main())
