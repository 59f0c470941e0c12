"""Quarry's Rust core: hashing, similarity digests and carving over any byte buffer, GIL released.

The compiled extension is ``rust_core._native``; this package re-exports its face so
callers import ``rust_core`` and never the private module.
"""

from rust_core._native import (
    Carve,
    Carver,
    CoreError,
    Feature,
    FeatureScanner,
    Hasher,
    HashSet,
    HashSetBuilder,
    SsdeepHasher,
    TlshHasher,
    __version__,
    digest,
    ssdeep_compare,
    ssdeep_digest,
    tlsh_diff,
    tlsh_digest,
)

__all__ = [
    "Carve",
    "Carver",
    "CoreError",
    "Feature",
    "FeatureScanner",
    "Hasher",
    "HashSet",
    "HashSetBuilder",
    "SsdeepHasher",
    "TlshHasher",
    "__version__",
    "digest",
    "ssdeep_compare",
    "ssdeep_digest",
    "tlsh_diff",
    "tlsh_digest",
]
