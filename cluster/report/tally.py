"""The numbers of a report, counted while the manifest, the YARA table and the histograms
stream past: counts whose keys are bounded (types, statuses, rules, steps), and the first
TOP rows of the lists an examiner reads (known-bad hits, YARA matches, top feature values).
A report never lists every artifact; the manifest does."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cluster.report.gather import forensic_path

TOP = 100  # rows listed per table of hits
TOP_VALUES = 20  # values listed per feature kind


@dataclass
class ManifestTally:
    """Counts by image, type, status and origin; versions by step; the known-bad hits."""

    rows: int = 0
    by_kind: Counter[tuple[int, str, str, str]] = field(default_factory=Counter)
    versions: dict[str, set[str]] = field(default_factory=dict)  # step -> versions seen in the manifest
    known_bad: int = 0
    known_bad_rows: list[dict[str, Any]] = field(default_factory=list)  # the first TOP
    known_good: int = 0
    yara_rows: int = 0  # rows with at least one YARA match

    def add(self, row: dict[str, Any]) -> None:
        self.rows += 1
        self.by_kind[(row["image_index"], row["type"], row["status"] or "-", row["origin"] or "-")] += 1
        self.versions.setdefault(row["step"], set()).add(row["step_version"])
        if row.get("known") == "bad":
            self.known_bad += 1
            if len(self.known_bad_rows) < TOP:
                self.known_bad_rows.append(
                    {
                        "image_index": row["image_index"],
                        "where": forensic_path(row),
                        "type": row["type"],
                        "length": row["length"],
                        "sha256": row["sha256"],
                        "sets": list(row.get("known_sets") or []),
                    }
                )
        elif row.get("known") == "good":
            self.known_good += 1
        if row.get("yara"):
            self.yara_rows += 1


@dataclass
class YaraTally:
    """Matches and errors per rule set and rule, and the first TOP matches."""

    matches: int = 0
    errors: int = 0
    by_rule: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)  # set, version, namespace, rule
    listed: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        if row.get("error") is not None:
            self.errors += 1
            return
        self.matches += 1
        self.by_rule[(row["rule_set"], row["rule_set_version"], row["namespace"] or "", row["rule"] or "")] += 1
        if len(self.listed) < TOP:
            where = row["path"] if row["source"] == "file" else f"@{row['offset']}"
            self.listed.append(
                {
                    "image_index": row["image_index"],
                    "source": row["source"],
                    "where": where,
                    "sha256": row.get("sha256"),
                    "rule": f"{row['rule_set']}/{row['namespace']}/{row['rule']}",
                    "tags": list(row.get("tags") or []),
                    "strings": row.get("strings_total") or 0,
                }
            )


@dataclass
class HistogramTally:
    """The first TOP_VALUES values of each kind from the job's histogram table (written
    most frequent first), with each kind's hits and distinct values."""

    top: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    distinct: Counter[str] = field(default_factory=Counter)

    def add(self, row: dict[str, Any]) -> None:
        kind = row["kind"]
        self.hits[kind] += row["count"]
        self.distinct[kind] += 1
        listed = self.top.setdefault(kind, [])
        if len(listed) < TOP_VALUES:
            listed.append((row["value"], row["count"]))
