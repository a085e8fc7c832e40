"""What every benchmark prints beside its numbers: the machine, the date and how busy it was.

The machine is shared, so each figure carries the 1-minute load average measured with it.
"""
from __future__ import annotations

import os
import time


def load_average() -> float:
    return os.getloadavg()[0]


def memory_gb() -> float:
    with open("/proc/meminfo") as handle:
        return int(handle.readline().split()[1]) / 1024 / 1024


def cpu_line() -> str:
    """e.g. 'AMD EPYC, AVX2, no native bf16' (bf16 speed depends on it: see embedding.bf16)."""
    name, flags = "unknown CPU", set()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name") and name == "unknown CPU":
                name = line.partition(":")[2].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.partition(":")[2].split())
    except OSError:
        pass
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    bf16 = "native bf16" if flags & {"avx512_bf16", "amx_bf16"} else "no native bf16"
    return f"{name}, {vector}, {bf16}"


def machine_line() -> str:
    """e.g. '2 cores (AMD EPYC, AVX2, no native bf16), 24 GB, no GPU, 2026-11-22 07:30, load 5.3'"""
    return (f"{os.cpu_count()} cores ({cpu_line()}), {memory_gb():.0f} GB, no GPU, "
            f"{time.strftime('%Y-%m-%d %H:%M')}, load {load_average():.1f}")


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    values = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount = line.split(":")
                values[key] = int(amount.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]

