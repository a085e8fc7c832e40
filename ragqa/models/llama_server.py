"""The local model's server process: llama.cpp's own HTTP server, run in-process by xllamacpp.

    python -m ragqa.models.llama_server --model FILE.gguf --alias NAME --port N [--ctx 4096] [--threads 2]
                                        [--gpu-layers auto|N] [--leases DIR --keep-alive SECONDS --state FILE]

xllamacpp is a prebuilt wheel of llama.cpp (no compiler needed) whose `Server` is llama.cpp's C++
server with its OpenAI-compatible routes (/v1/models, /v1/chat/completions, /health) and its prompt
cache; it applies the chat template in the GGUF's own metadata (Jinja). This module only turns command-line
options into its parameters (--gpu-layers auto: all that fit when the build has a GPU, else 0), binds 127.0.0.1, and
keeps the process alive until SIGTERM or SIGINT, or (with --leases) until no ragqa process has held a
lease on it for --keep-alive seconds (ragqa.models.llm_leases). ragqa.models.local starts and stops it.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

MARKER = "ragqa.models.llama_server"  # in the command line: how local_llm recognises its own server
TICK_SECONDS = 1.0  # how often the leases are looked at


def watch_leases(leases: Path, keep_alive: float, state_file: Path, stop: threading.Event) -> None:
    """Set `stop` once no lease has been live for keep_alive seconds. The last look is taken under the lock
    that starting and reusing the server take, and the state file goes with it, so a process that comes
    along meanwhile starts a new server instead of finding this one gone."""
    from ragqa.models.llm_leases import live_leases
    from ragqa.models.local_files import locked

    idle_since = None
    while not stop.wait(TICK_SECONDS):
        if live_leases(leases):
            idle_since = None
            continue
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since < keep_alive:
            continue
        with locked(state_file.with_suffix(".lock")):
            if live_leases(leases):
                idle_since = None
                continue
            try:
                if json.loads(state_file.read_text()).get("pid") == os.getpid():
                    state_file.unlink()
            except (OSError, ValueError):
                pass
            print(f"{MARKER}: no ragqa process has used it for {keep_alive:g} s: stopping", flush=True)
            stop.set()


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
    params.n_gpu_layers = args.gpu_layers  # -1: llama.cpp fits as many as the GPU's free memory holds
    params.use_jinja = True  # the chat template from the GGUF's metadata, as its authors wrote it
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
    parser.add_argument("--gpu-layers", default="auto", help="layers on a GPU: auto, or a number (0: none)")
    parser.add_argument("--ubatch", type=int, default=512)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--leases", type=Path, help="the folder of leases (ragqa.models.llm_leases)")
    parser.add_argument("--keep-alive", type=float, default=300.0, help="seconds to live once no lease is left")
    parser.add_argument("--state", type=Path, help="the state file ragqa keeps for this server")
    args = parser.parse_args(argv)

    import xllamacpp as xlc

    from ragqa.models.hardware import describe_gpu_layers, gpu_layers_for

    described = describe_gpu_layers(args.gpu_layers if args.gpu_layers == "auto" else int(args.gpu_layers))
    args.gpu_layers = gpu_layers_for(args.gpu_layers if args.gpu_layers == "auto" else int(args.gpu_layers))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = xlc.Server(parameters(args))
    print(f"{MARKER}: serving {args.alias} on {server.listening_address} with {args.threads} threads, "
          f"GPU layers {described}", flush=True)
    if args.leases and args.state:
        threading.Thread(target=watch_leases, args=(args.leases, args.keep_alive, args.state, stop),
                         daemon=True, name="ragqa-leases").start()
    while not stop.wait(3600):
        pass
    del server  # stops llama.cpp's loop and frees the model
    return 0


if __name__ == "__main__":
    sys.exit(main())
