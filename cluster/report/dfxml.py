"""DFXML (Digital Forensics XML): one document per image of the job, one `<fileobject>` per
manifest row of that image, written a row at a time (no document tree in memory).

One document per image because DFXML describes one source: a `<byte_run img_offset=...>`
means an offset in *the* image, and DFXML 1.x has no way to say which of several images a
file object belongs to. So `dfxml/img0000.xml` is the first image's, `dfxml/img0001.xml` the
second's, as fiwalk would write one per image.

The element order and types follow the DFXML schema (dfxml.xsd, 1.1.0): the root holds
`metadata` (one Dublin Core element), `creator`, one `source` (the image's file name) and
the file objects; a file object holds, in this order, `filename`, `name_type`, `filesize`,
`unalloc`/`alloc`, `inode`, the times `mtime`, `ctime`, `atime`, `crtime` (ISO-8601 UTC),
`byte_runs` and `hashdigest`s. The schema's `source` has no place for the image's digests,
so they are written as an XML comment inside it (and are in the HTML and CASE outputs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TextIO
from xml.sax.saxutils import escape, quoteattr

from cluster.report.gather import Run, iso_utc

NAMESPACE = "http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML"
DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"
DFXML_VERSION = "1.1.0"
# Characters XML 1.0 cannot hold at all, even escaped (controls but tab and line ends,
# surrogates, U+FFFE/U+FFFF): written as \xNN or \uNNNN, the way Quarry escapes names.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
NAME_TYPES = {"file": "r", "stream": "r", "dir": "d", "link": "l"}  # TSK's entry kinds -> DFXML name_type
TIMES = ("mtime", "ctime", "atime", "crtime")  # the schema's order


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(value: object) -> str:
    """Text for element content: escaped, and characters XML cannot carry made visible."""
    return escape(_NOT_XML.sub(_visible, str(value)))


def xml_attr(value: object) -> str:
    """An attribute value, quoted and escaped likewise."""
    return quoteattr(_NOT_XML.sub(_visible, str(value)))


@dataclass(frozen=True)
class Creator:
    """What wrote the document: the program, its version, the command and when."""

    program: str
    version: str
    core_version: str
    command_line: str
    start_time: str  # ISO-8601 UTC


class DfxmlImage:
    """One image's DFXML document, open while its file objects are written."""

    def __init__(self, out: TextIO, image: dict[str, Any], creator: Creator) -> None:
        self.out, self.fileobjects = out, 0
        w = out.write
        w("<?xml version='1.0' encoding='UTF-8'?>\n")
        w(f"<dfxml xmlns={xml_attr(NAMESPACE)} xmlns:dc={xml_attr(DUBLIN_CORE)} version={xml_attr(DFXML_VERSION)}>\n")
        w("  <metadata>\n    <dc:type>Disk Image</dc:type>\n  </metadata>\n")
        w("  <creator version='1.0'>\n")
        w(f"    <program>{xml_text(creator.program)}</program>\n")
        w(f"    <version>{xml_text(creator.version)}</version>\n")
        w("    <execution_environment>\n")
        w(f"      <command_line>{xml_text(creator.command_line)}</command_line>\n")
        w(f"      <start_time>{xml_text(creator.start_time)}</start_time>\n")
        w("    </execution_environment>\n")
        w(f"    <library name='rust_core' version={xml_attr(creator.core_version)}/>\n")
        w("  </creator>\n")
        w("  <source>\n")
        w(f"    <image_filename>{xml_text(image['path'])}</image_filename>\n")
        digests = " ".join(f"{name}={value}" for name, value in sorted(image.get("digests", {}).items()))
        w(f"    <!-- image_size={int(image.get('size') or 0)} {digests} -->\n")
        w("  </source>\n")

    def add(self, row: dict[str, Any], runs: list[Run], unallocated_carving: bool) -> None:
        """One file object for a manifest row found at `runs` in the image."""
        self.fileobjects += 1
        w, filesystem = self.out.write, row.get("path") is not None
        w("  <fileobject>\n")
        name = row["path"] if filesystem else f"carved/{row['type']}/{row['offset']}"
        w(f"    <filename>{xml_text(name)}</filename>\n")
        w(f"    <name_type>{NAME_TYPES.get(row['type'], '-') if filesystem else '-'}</name_type>\n")
        w(f"    <filesize>{int(row['length'])}</filesize>\n")
        origin = row.get("origin")
        if origin in ("deleted", "reallocated") or (not filesystem and unallocated_carving):
            w("    <unalloc>1</unalloc>\n")
        elif origin == "allocated":
            w("    <alloc>1</alloc>\n")
        if row.get("inode") is not None:
            w(f"    <inode>{int(row['inode'])}</inode>\n")
        for name in TIMES:
            when = iso_utc(row.get(name))
            if when is not None:
                w(f"    <{name}>{when}</{name}>\n")
        if runs:
            w("    <byte_runs>\n")
            for r in runs:
                fs = f" fs_offset='{r.img_offset - row['fs_offset']}'" if row.get("fs_offset") is not None else ""
                w(f"      <byte_run file_offset='{r.file_offset}'{fs} img_offset='{r.img_offset}' len='{r.length}'/>\n")
            w("    </byte_runs>\n")
        for algorithm in ("md5", "sha1", "sha256"):
            if row.get(algorithm):
                w(f"    <hashdigest type='{algorithm}'>{xml_text(row[algorithm])}</hashdigest>\n")
        w("  </fileobject>\n")

    def close(self) -> None:
        self.out.write("</dfxml>\n")
