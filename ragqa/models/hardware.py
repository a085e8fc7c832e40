"""What the local model runs on: how many threads (`llm.threads`) and how many layers on a GPU (`llm.gpu_layers`).

`auto` threads are the physical cores this process may use: llama.cpp's token generation is bound by memory
bandwidth, and a second hyper-thread on a core only competes for it. The CPUs in the process's affinity
mask are grouped by (package, core) from Linux's sysfs; a container's CPU quota (cgroup v2 `cpu.max`) caps
them. Elsewhere, os.cpu_count().

`auto` GPU layers: every layer that fits (llama.cpp fits them to the free memory itself) when the installed
llama.cpp build has a GPU backend (xllamacpp's CUDA, ROCm, Vulkan or Metal wheels; README: GPU), else 0.
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

ALL_THAT_FIT = -1  # llama.cpp's n_gpu_layers: as many as the device's free memory holds
SYS_CPUS = Path("/sys/devices/system/cpu")
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def _allowed_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _cpu_quota(cpu_max: Path = CGROUP_CPU_MAX) -> int | None:
    """CPUs a cgroup v2 quota allows ("200000 100000" -> 2), or None when there is no quota.

    >>> import tempfile; f = Path(tempfile.mkdtemp()) / "cpu.max"; _ = f.write_text("150000 100000\\n")
    >>> _cpu_quota(f), _cpu_quota(Path("/nonexistent"))
    (2, None)
    """
    try:
        quota, period = cpu_max.read_text().split()[:2]
        return max(1, math.ceil(int(quota) / int(period))) if quota != "max" else None
    except (OSError, ValueError):
        return None


def physical_cores(cpus: list[int] | None = None, sys_cpus: Path = SYS_CPUS, cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """Distinct physical cores among the CPUs this process may run on, capped by a container's CPU quota."""
    cpus = _allowed_cpus() if cpus is None else cpus
    cores = set()
    for cpu in cpus:
        topology = sys_cpus / f"cpu{cpu}" / "topology"
        try:
            cores.add((topology.joinpath("physical_package_id").read_text().strip(),
                       topology.joinpath("core_id").read_text().strip()))
        except OSError:
            cores.add(("cpu", str(cpu)))  # no topology (not Linux, or hidden): count the CPU itself
    count = len(cores) or os.cpu_count() or 1
    quota = _cpu_quota(cpu_max)
    return min(count, quota) if quota else count


def threads_for(setting: int | str) -> int:
    """llm.threads made concrete: the number given, or the physical cores for "auto"."""
    return physical_cores() if setting == "auto" else int(setting)


@lru_cache(maxsize=1)
def gpu_devices() -> tuple[str, ...]:
    """The GPUs the installed llama.cpp build can use (their descriptions); () for a CPU-only build."""
    try:
        import xllamacpp
    except ImportError:
        return ()
    try:
        devices = xllamacpp.get_device_info()
    except Exception:  # noqa: BLE001 - a GPU build whose driver is missing: no usable GPU
        return ()
    gpus = ("GGML_BACKEND_DEVICE_TYPE_GPU", "GGML_BACKEND_DEVICE_TYPE_IGPU")
    return tuple(str(d.get("description") or d.get("name")) for d in devices
                 if getattr(d.get("type"), "name", str(d.get("type"))) in gpus)


def gpu_layers_for(setting: int | str, gpus: tuple[str, ...] | None = None) -> int:
    """llm.gpu_layers made concrete: the number given, or for "auto" all that fit with a GPU and 0 without.

    >>> gpu_layers_for("auto", ()), gpu_layers_for("auto", ("NVIDIA GeForce RTX 4090",)), gpu_layers_for(12, ())
    (0, -1, 12)
    """
    if setting != "auto":
        return int(setting)
    return ALL_THAT_FIT if (gpu_devices() if gpus is None else gpus) else 0


def describe_gpu_layers(setting: int | str, gpus: tuple[str, ...] | None = None) -> str:
    """What `ragqa status` says of the GPU layers.

    >>> describe_gpu_layers("auto", ())
    '0 (auto: this llama.cpp build has no GPU)'
    >>> describe_gpu_layers("auto", ("RTX 4090",)), describe_gpu_layers(20, ("RTX 4090",))
    ('all that fit (auto: RTX 4090)', '20')
    """
    gpus = gpu_devices() if gpus is None else gpus
    layers = gpu_layers_for(setting, gpus)
    if setting != "auto":
        return str(layers)
    return f"all that fit (auto: {', '.join(gpus)})" if layers == ALL_THAT_FIT else \
        "0 (auto: this llama.cpp build has no GPU)"
