"""Where an image's tasks may run: on the nodes that see its evidence share.

A lab mounts an evidence share on some machines only. Each such node declares the Ray
resource `evidence_LABEL` when it joins (deploy/lab-node.sh --evidence LABEL=PATH), and
the operators' settings map share roots to labels (QUARRY_EVIDENCE_ROOTS="LABEL=PATH,...").
Every task of an image under a mapped root asks for a sliver of that resource, so Ray runs
it only where the share is mounted, spread over all of those nodes; images elsewhere (local
disks every node has, or evidence kept in MinIO) run anywhere.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from workers.evidence import is_remote

if TYPE_CHECKING:  # settings read this module; they need not import Ray
    from cluster.jobs import JobRecord

SLIVER = 0.001  # of a node's one unit: any number of tasks fit beside each other
LABEL = re.compile(r"^[A-Za-z0-9_-]+$")


def parse_roots(text: str) -> dict[str, str]:
    """{root path: label} from "LABEL=PATH,LABEL=PATH"; ValueError naming a bad entry."""
    roots: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        label, sep, path = item.partition("=")
        if not sep or not LABEL.match(label) or not path.startswith("/"):
            raise ValueError(
                f"QUARRY_EVIDENCE_ROOTS entry {item!r}: write LABEL=/absolute/path (label: A-Z a-z 0-9 _ -)"
            )
        roots[os.path.normpath(path)] = label
    return roots


def resource_for(path: str, roots: dict[str, str]) -> str | None:
    """The resource an image's tasks need: that of the deepest root holding it, if any."""
    if is_remote(path) or not roots:
        return None
    path = os.path.normpath(os.path.abspath(path))
    holding = [root for root in roots if path == root or path.startswith(root.rstrip("/") + "/")]
    return f"evidence_{roots[max(holding, key=len)]}" if holding else None


def check_placeable(job: JobRecord) -> None:
    """ValueError naming the image when no node of the cluster declares its share."""
    import ray

    offered = ray.cluster_resources()
    for img in job.images:
        name, path = img.get("share"), img["path"]
        if name and offered.get(name, 0) <= 0:
            raise ValueError(
                f"{path}: it is on evidence share {name.removeprefix('evidence_')!r} and no Ray node declares "
                f"{name} (join a node that mounts it with deploy/lab-node.sh --evidence LABEL=PATH)"
            )
