"""Quarry's Rust core: hashing and carving over any byte buffer, GIL released.

The compiled extension is ``rust_core._native``; this package re-exports its face so
callers import ``rust_core`` and never the private module.
"""

from rust_core._native import Carve, Carver, CoreError, Hasher, HashSet, HashSetBuilder, __version__, digest

__all__ = ["Carve", "Carver", "CoreError", "Hasher", "HashSet", "HashSetBuilder", "__version__", "digest"]
