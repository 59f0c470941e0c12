"""Processing profiles: named TOML files that say how much work a job does on its images.

A lab picks a level of processing (a quick triage look, the defaults, everything) by naming a
profile instead of repeating options on every submission. Profiles are files so that a lab can
add its own and keep them with its procedures; they are checked when a job is submitted, so a
typo is an error naming the file and the key, never a setting silently ignored.
"""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cluster.commands.common import parse_size
from cluster.jobs import JobRecord
from workers.hashing import DIGESTS, HashPlan

PROFILES_ENV = "QUARRY_PROFILES"  # a directory of *.toml profiles, in place of the shipped one
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "deploy" / "profiles"
DEFAULT_PROFILE = "standard"
CARVE_SCOPES = ("all", "unallocated")  # the same choice as `quarry submit --carve`
DEFAULT_PRIORITY = 0  # higher runs first
DEFAULT_TASK_TIMEOUT = JobRecord.task_timeout  # seconds a task may run before it is retried
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class ProfileError(ValueError):
    """A profile is missing or malformed; the message names the file, the key and the problem."""


@dataclass(frozen=True)
class Profile:
    """Everything a job can be told about how to process its images, under one name."""

    name: str
    description: str
    digests: tuple[str, ...] = HashPlan.algorithms
    window: int = HashPlan.window
    window_digests: tuple[str, ...] = HashPlan.window_algorithms
    carve: str = "all"
    yara_raw: bool = False
    yara_timeout: int = JobRecord.yara_timeout
    priority: int = DEFAULT_PRIORITY
    task_timeout: int = DEFAULT_TASK_TIMEOUT

    def hash_plan(self) -> HashPlan:
        return HashPlan(self.digests, self.window, self.window_digests)

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values, to record in a job what it was run with."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def profiles_dir() -> Path:
    """Where bare profile names are looked up: $QUARRY_PROFILES, else the shipped deploy/profiles."""
    given = os.environ.get(PROFILES_ENV)
    return Path(given) if given else SHIPPED_DIR


def list_profiles(directory: Path | None = None) -> list[str]:
    """The names of the profiles in the directory (file names without .toml), sorted."""
    folder = directory or profiles_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml") if p.is_file())


def _available(folder: Path) -> str:
    names = list_profiles(folder)
    if names:
        return f"available profiles in {folder}: {', '.join(names)}"
    return f"no profiles in {folder}" + (f" (set by {PROFILES_ENV})" if os.environ.get(PROFILES_ENV) else "")


def is_path(name_or_path: str) -> bool:
    """A profile given as a file (has a folder part or ends in .toml) rather than a bare name."""
    return "/" in name_or_path or os.sep in name_or_path or name_or_path.endswith(".toml")


def load_profile(name_or_path: str | Path) -> Profile:
    """A profile by bare name (looked up in `profiles_dir()`) or by the path of a .toml file."""
    folder = profiles_dir()
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or is_path(text):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ProfileError(f"profile file {path}: not found; {_available(folder)}")
    else:
        if not NAME.match(text):
            raise ProfileError(f"profile name {text!r}: use letters, digits, '_', '-' and '.'; {_available(folder)}")
        path = folder / f"{text}.toml"
        if not path.is_file():
            raise ProfileError(f"profile {text!r}: {path} not found; {_available(folder)}")
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile file {path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"profile file {path}: not UTF-8 text") from None
    except OSError as exc:
        raise ProfileError(f"profile file {path}: cannot read: {exc.strerror}") from None
    return from_document(path, doc)


def _type(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _text(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ProfileError(f"profile file {path}: key {key!r}: expected a string, got {_type(value)}")
    return value


def _flag(path: Path, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ProfileError(f"profile file {path}: key {key!r}: expected true or false, got {_type(value)}")
    return value


def _integer(path: Path, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProfileError(f"profile file {path}: key {key!r}: expected an integer, got {_type(value)}")
    return value


def _seconds(path: Path, key: str, value: Any) -> int:
    seconds = _integer(path, key, value)
    if seconds < 1:
        raise ProfileError(f"profile file {path}: key {key!r}: {seconds} seconds: give at least 1")
    return seconds


def _digests(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(f"profile file {path}: key {key!r}: expected a list of digest names, got {_type(value)}")
    names = [v.strip().lower().replace("-", "") for v in value]
    for given, name in zip(value, names, strict=True):
        if name not in DIGESTS:
            raise ProfileError(f"profile file {path}: key {key!r}: unknown digest {given!r}; use {', '.join(DIGESTS)}")
    return tuple(dict.fromkeys(names))


def _window(path: Path, key: str, value: Any) -> int:
    if isinstance(value, str):
        try:
            size = parse_size(value)
        except argparse.ArgumentTypeError as exc:
            raise ProfileError(f"profile file {path}: key {key!r}: {exc}") from None
    elif isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        raise ProfileError(
            f'profile file {path}: key {key!r}: expected a size (bytes, or text like "1MiB"), got {_type(value)}'
        )
    if size < 0 or 0 < size < 4096:
        raise ProfileError(f"profile file {path}: key {key!r}: window of {size} bytes: use 0 (none) or at least 4096")
    return size


def _carve(path: Path, key: str, value: Any) -> str:
    scope = _text(path, key, value)
    if scope not in CARVE_SCOPES:
        raise ProfileError(f"profile file {path}: key {key!r}: {scope!r}: use one of {', '.join(CARVE_SCOPES)}")
    return scope


KEYS: dict[str, Callable[[Path, str, Any], Any]] = {
    "description": _text,
    "digests": _digests,
    "window": _window,
    "window_digests": _digests,
    "carve": _carve,
    "yara_raw": _flag,
    "yara_timeout": _seconds,
    "priority": _integer,
    "task_timeout": _seconds,
}


def from_document(path: Path, doc: dict[str, Any]) -> Profile:
    """A profile from a parsed TOML document; keys left out take `quarry submit`'s defaults."""
    unknown = [k for k in doc if k not in KEYS]
    if unknown:
        raise ProfileError(f"profile file {path}: unknown key {unknown[0]!r}; known keys: {', '.join(KEYS)}")
    if "description" not in doc:
        raise ProfileError(f"profile file {path}: key 'description' is missing: say in a line what the profile is for")
    values = {key: KEYS[key](path, key, value) for key, value in doc.items()}
    if not values.get("digests", True):
        raise ProfileError(f"profile file {path}: key 'digests': empty; name at least one image digest")
    window = values.get("window", HashPlan.window)
    if window == 0:
        if values.get("window_digests"):
            raise ProfileError(
                f"profile file {path}: key 'window_digests': given, but window is 0 (no piecewise windows)"
            )
        values["window_digests"] = ()
    elif "window_digests" in values and not values["window_digests"]:
        raise ProfileError(
            f"profile file {path}: key 'window_digests': empty for windows of {window} bytes; "
            "name a digest or set window = 0"
        )
    return Profile(name=path.stem, **values)
