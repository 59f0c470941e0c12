"""`quarry upload`: evidence files into MinIO, verified after upload, ready to submit."""

from __future__ import annotations

import argparse

from cluster.config import load_settings
from cluster.upload import upload
from workers.store import ObjectStore


def run(args: argparse.Namespace) -> int:
    store = ObjectStore(load_settings().store)
    for path in args.files:
        files = upload(store, args.case, path)
        for u in files:
            what = "already in MinIO as" if u.already_there else "uploaded to"
            print(f"{u.source}: {what} {u.url} ({u.size} bytes)")
            print(f"  md5 {u.md5}\n  sha256 {u.sha256}\n  verified: the object in MinIO hashes to the same digests")
        print(f"  submit it with: quarry submit --case {args.case} {files[0].url}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    u = sub.add_parser("upload", help="put evidence files into MinIO (verified) for nodes without the shared path")
    u.add_argument("--case", required=True, help="case the evidence belongs to")
    u.add_argument("files", nargs="+", help="images (raw, E01, qcow, VMDK, VHD; a split one by its first part)")
    u.set_defaults(func=run)
