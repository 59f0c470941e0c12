"""A node's health as its admin's Prometheus shows it: CPU, memory and object-store use.

One `NodeProbe` actor is pinned to each Ray node (the job manager places them) and reads
the node's own /proc, so a cluster of many machines reports each machine; no CPU is
reserved for it. Ray's minimal install exports no node metrics of its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import ray


@dataclass(frozen=True)
class NodeSample:
    cpu_utilization: float | None  # busy fraction since the previous sample; None on the first
    memory_used: int
    memory_total: int
    object_store_used: int | None  # resident bytes of the node's object store (None: not found)


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def memory() -> tuple[int, int]:
    """(used, total) bytes: total minus what the kernel says is available."""
    values = {}
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            name, _, rest = line.partition(":")
            values[name] = int(rest.split()[0]) * 1024
    return values["MemTotal"] - values.get("MemAvailable", values.get("MemFree", 0)), values["MemTotal"]


def object_store_resident(raylet_pid: int) -> int | None:
    """Bytes the raylet's shared-memory object store holds in memory: the blocks of its
    plasma file (mapped, then unlinked, so only its descriptor finds it). Pages once used
    stay resident, so this is the store's high-water mark since the node started."""
    fds = f"/proc/{raylet_pid}/fd"
    try:
        names = os.listdir(fds)
    except OSError:
        return None
    for name in names:
        try:
            if "plasma" in os.readlink(f"{fds}/{name}"):
                return os.stat(f"{fds}/{name}").st_blocks * 512
        except OSError:
            continue
    return None


class NodeProbe:
    """Samples the node it runs on; keeps the previous CPU reading to report a rate."""

    def __init__(self) -> None:
        self.last = cpu_times()

    def sample(self) -> NodeSample:
        busy, total = cpu_times()
        last_busy, last_total = self.last
        self.last = (busy, total)
        used, mem_total = memory()
        cpu = (busy - last_busy) / (total - last_total) if total > last_total else None
        # Ray starts worker processes from the node's raylet: this actor's parent.
        return NodeSample(cpu, used, mem_total, object_store_resident(os.getppid()))


NodeProbeActor = ray.remote(num_cpus=0, max_restarts=-1)(NodeProbe)
