"""Intake verification: the media digests a job computes against those recorded at
acquisition, given by the operator or stored in the image (E01).

Expectations are fixed in the job record before any hashing starts; the result per image
is match, mismatch or absent, and a mismatch is always raised, never only logged.
"""

from __future__ import annotations

import os
import re
from typing import Any

from workers.evidence import ImageRef

ALGORITHM_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
HEX = re.compile(r"^[0-9a-fA-F]+$")
LIST_LINE = re.compile(r"^([0-9a-fA-F]+)\s+\*?(.+)$")


def parse_expected(text: str) -> tuple[str, str]:
    """'md5:HEX', 'sha256=HEX' or a bare HEX (its length tells the digest)."""
    name, sep, value = text.partition(":") if ":" in text else text.partition("=")
    if not sep:
        name, value = "", text
    value = value.strip()
    if not HEX.match(value) or len(value) not in ALGORITHM_BY_LENGTH:
        raise ValueError(f"expected digest {text!r}: not a hex MD5, SHA-1, SHA-256 or SHA-512")
    guessed = ALGORITHM_BY_LENGTH[len(value)]
    name = name.strip().lower().replace("-", "") or guessed
    if name != guessed:
        raise ValueError(f"expected digest {text!r}: {len(value)} hex digits is not a {name} digest")
    return name, value.lower()


def read_digest_list(path: str) -> dict[str, dict[str, str]]:
    """An md5sum/sha1sum/sha256sum-style list ('HEX  NAME' per line) as {name: {alg: hex}}."""
    out: dict[str, dict[str, str]] = {}
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                m = LIST_LINE.match(line)
                if not m or len(m.group(1)) not in ALGORITHM_BY_LENGTH:
                    raise ValueError(f"{path}, line {number}: expected 'HEX  NAME' with an MD5/SHA digest: {line!r}")
                algorithm, value = parse_expected(m.group(1))
                out.setdefault(m.group(2).strip(), {})[algorithm] = value
    except OSError as exc:
        raise ValueError(f"{path}: cannot read digest list: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: digest list is not text") from None
    return out


def expectations(
    images: list[tuple[ImageRef, dict[str, str]]],
    given: list[str],
    lists: list[str],
    each: list[list[str]] | None = None,
) -> list[list[dict[str, str]]]:
    """Per image, [{"algorithm", "value", "source"}] from --expect, digest lists, `each`
    (a batch manifest's ALG:HEX per image) and the digests the image stores (an E01's, as
    `check_images` read them)."""
    if each is not None and len(each) != len(images):
        raise ValueError(f"{len(each)} lists of expected digests for {len(images)} images")
    operator = [parse_expected(t) for t in given]
    if operator and len(images) != 1:
        raise ValueError("--expect applies to one image; with several, give a digest list (--expect-list)")
    listed: dict[str, dict[str, str]] = {}
    for path in lists:
        listed.update(read_digest_list(path))
    out = []
    for i, (img, stored) in enumerate(images):
        found = [{"algorithm": a, "value": v, "source": "operator"} for a, v in operator]
        if each is not None:
            found += [{"algorithm": a, "value": v, "source": "operator"} for a, v in map(parse_expected, each[i])]
        for name in (img.path, os.path.basename(img.path)):
            for a, v in listed.get(name, {}).items():
                found.append({"algorithm": a, "value": v, "source": "operator"})
        found += [{"algorithm": a, "value": v, "source": img.format} for a, v in stored.items()]
        out.append(found)
    return out


def verify(expected: list[dict[str, str]], computed: dict[str, str]) -> dict[str, Any]:
    """{"result": match|mismatch|absent, "checks": [...]} for one image."""
    checks = []
    for e in expected:
        got = computed.get(e["algorithm"])
        result = "match" if got == e["value"] else "mismatch"
        checks.append({**e, "computed": got, "result": result})
    if not checks:
        return {"result": "absent", "checks": []}
    overall = "mismatch" if any(c["result"] == "mismatch" for c in checks) else "match"
    return {"result": overall, "checks": checks}
