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


def machine_line() -> str:
    """e.g. '2 cores, 24 GB, no GPU, 2026-11-22 07:30, load 5.3'"""
    return (f"{os.cpu_count()} cores, {memory_gb():.0f} GB, no GPU, {time.strftime('%Y-%m-%d %H:%M')}, "
            f"load {load_average():.1f}")


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    values = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount = line.split(":")
                values[key] = int(amount.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]

