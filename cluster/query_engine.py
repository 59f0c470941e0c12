"""The examiners' query engine: DuckDB over the jobs' Parquet, read from MinIO in place.

There is no second database that could drift from the manifests: each query finds the
jobs of the cases it may see by listing the results bucket, narrows a digest lookup with
the jobs' digest filters (cluster/digest_filter.py), and lets DuckDB scan the remaining
manifests (or feature tables) through pyarrow datasets, which push column selection and
simple predicates down to the Parquet row groups. Pages are cut in DuckDB under a total
order, so paging is stable; a full export is streamed batch by batch. A manifest does not
store its case and job (its folder names them): the engine adds them to the rows it reads.

Finished jobs' results are written once, so what a process has learnt about a job (that
it is catalogued, its digest filter) is kept for the life of the process.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from cluster.digest_filter import DigestFilter, filter_key
from cluster.query import DIGEST_COLUMN, TIME_FIELDS, Query
from workers.features import FEATURE_SCHEMA
from workers.manifest import MANIFEST_SCHEMA, STORED_MANIFEST_SCHEMA
from workers.store import RESULTS, StoreConfig, StoreUnavailable, s3_filesystem
from workers.yara_scan import YARA_SCHEMA

MANIFEST, FEATURES, YARA = "manifest.parquet", "features.parquet", "yara.parquet"
BATCH_ROWS = 4096
IO_THREADS = 16
# Low-cardinality text stays dictionary-encoded as read: less to decode, less to compare.
DICTIONARY_COLUMNS = (
    "case",
    "job",
    "image_path",
    "image_sha256",
    "type",
    "subtype",
    "status",
    "origin",
    "known",
    "step",
    "step_version",
    "kind",
    "encoding",
)
FORMAT = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=set(DICTIONARY_COLUMNS)))


@dataclass(frozen=True)
class Page:
    """One page of a result, and how many rows the whole result has."""

    total: int
    rows: list[dict[str, Any]]


class Catalog:
    """Queries over every finished job in one MinIO; one per process (it caches what it learns)."""

    def __init__(self, config: StoreConfig, memory_limit: str = "1GB") -> None:
        self.config = config
        self.s3 = s3_filesystem(config)
        self.pool = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="quarry-catalog")
        # One database per catalog (opening one costs more than a small query); each query
        # has a connection of its own to it.
        self._db = duckdb.connect(config={"memory_limit": memory_limit, "threads": 2})
        self._filters: dict[str, DigestFilter | None] = {}
        self._fragments: dict[str, ds.ParquetFileFragment | None] = {}
        self._lock = threading.Lock()

    # -- which jobs a query reads ------------------------------------------------------

    def _dirs(self, path: str) -> list[str]:
        try:
            infos = self.s3.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=False))
        except OSError as exc:
            raise StoreUnavailable(f"MinIO at {self.config.endpoint}: cannot list {path}: {exc}") from None
        return sorted(i.path for i in infos if i.type == pafs.FileType.Directory)

    def jobs(self, query: Query) -> list[str]:
        """`<bucket>/<case>/<job>` of every job the query may read, in order (a job still
        running has no manifest yet: reading its tables finds none)."""
        cases = [f"{RESULTS}/{c}" for c in query.cases] if query.cases is not None else self._dirs(RESULTS)
        job_dirs = [d for dirs in self.pool.map(self._dirs, cases) for d in dirs]
        if query.jobs:
            wanted = set(query.jobs)
            job_dirs = [d for d in job_dirs if d.rsplit("/", 1)[1] in wanted]
        return job_dirs

    def _digest_filter(self, job_dir: str) -> DigestFilter | None:
        if job_dir in self._filters:
            return self._filters[job_dir]
        # Not cached when absent: the job may be between writing its manifest and its filter.
        case, job = job_dir.split("/")[1:3]
        try:
            with self.s3.open_input_stream(f"{RESULTS}/{filter_key(case, job)}") as f:
                found: DigestFilter | None = DigestFilter.from_bytes(f.read(), f"{job_dir} digest filter")
        except FileNotFoundError:
            found = None  # a job from before digest filters: scanned in full
        except OSError as exc:
            raise StoreUnavailable(f"MinIO at {self.config.endpoint}: cannot read {job_dir}: {exc}") from None
        if found is not None:
            with self._lock:
                self._filters[job_dir] = found
        return found

    def _may_hold(self, job_dirs: list[str], digest: str) -> list[str]:
        def check(job_dir: str) -> bool:
            f = self._digest_filter(job_dir)
            return f is None or f.may_contain(digest)

        return [d for d, ok in zip(job_dirs, self.pool.map(check, job_dirs), strict=True) if ok]

    # -- running a query ---------------------------------------------------------------

    def _fragment(self, path: str) -> ds.ParquetFileFragment | None:
        if path in self._fragments:
            return self._fragments[path]
        try:
            fragment: ds.ParquetFileFragment | None = FORMAT.make_fragment(path, self.s3)
            fragment.ensure_complete_metadata()
        except FileNotFoundError:
            fragment = None
        except OSError as exc:
            raise StoreUnavailable(f"MinIO at {self.config.endpoint}: cannot read {path}: {exc}") from None
        if fragment is not None:  # a table not written yet may be by the next query
            with self._lock:
                self._fragments[path] = fragment
        return fragment

    def _plan(self, query: Query) -> _Plan | None:
        """The query's fragments (one per job holding its table, in job order), its WHERE
        clause and the columns that clause and the order read; None when no job can match."""
        job_dirs = self.jobs(query)
        if query.digest:
            job_dirs = self._may_hold(job_dirs, query.digest)
        if query.over_features:
            table, schema, stored = FEATURES, FEATURE_SCHEMA, FEATURE_SCHEMA
        else:
            table, schema, stored = MANIFEST, MANIFEST_SCHEMA, STORED_MANIFEST_SCHEMA
        found = zip(job_dirs, self.pool.map(self._fragment, [f"{d}/{table}" for d in job_dirs]), strict=True)
        fragments = [(d, f) for d, f in found if f is not None]
        if not fragments:
            return None
        where, params = where_clause(query, scoped=True)
        wanted = {c for c in schema.names if re.search(rf"\b{c}\b", where)} | {c for c, _ in query.sort}
        columns = [c for c in schema.names if c in wanted]
        return _Plan(fragments, schema, stored, where, params, columns)

    def _connect(self, query: Query, plan: _Plan) -> duckdb.DuckDBPyConnection:
        con = self._db.cursor()
        if query.yara_tag:
            yara = [f for f in self.pool.map(self._fragment, [f"{d}/{YARA}" for d, _ in plan.fragments]) if f]
            con.register("yara", ds.FileSystemDataset(yara, YARA_SCHEMA, FORMAT, self.s3))
        return con

    def _numbered(self, plan: _Plan, columns: list[str], ahead: int = IO_THREADS) -> pa.RecordBatchReader:
        """Every row of the plan's fragments (only `columns`), with the fragment's place in the
        plan (__frag) and the row's place in its fragment (__row): a narrow, ordered stream,
        read `ahead` fragments at a time. Asked columns the table does not store (a
        manifest's case and job) come from the fragment's folder."""
        asked = pa.schema([plan.schema.field(c) for c in columns])
        schema = asked.append(pa.field("__frag", pa.int32())).append(pa.field("__row", pa.int64()))
        stored = [c for c in columns if c in plan.stored.names]

        def read(i: int) -> pa.Table:
            table = plan.fragments[i][1].to_table(schema=plan.stored, columns=stored)
            n, implied = table.num_rows, plan.implied(i)
            if len(stored) < len(columns):
                filled = [table.column(c) if c in stored else pa.repeat(pa.scalar(implied[c]), n) for c in columns]
                table = pa.table(filled, schema=asked)
            table = table.append_column("__frag", pa.array([i] * n, pa.int32()))
            return table.append_column("__row", pa.array(range(n), pa.int64()))

        def batches() -> Iterator[pa.RecordBatch]:
            for start in range(0, len(plan.fragments), ahead):
                for table in self.pool.map(read, range(start, min(start + ahead, len(plan.fragments)))):
                    yield from table.to_batches()

        return pa.RecordBatchReader.from_batches(schema, batches())

    def page(self, query: Query) -> Page:
        """The query's page (query.limit rows from query.offset) and the total count.

        Two passes, so that only the columns a filter or the order needs are read across
        the whole scope: the first finds the page's rows by their place in their job's table
        (a total order: the asked columns, then case, job and row), the second reads whole
        rows from the row groups that hold them."""
        plan = self._plan(query)
        if plan is None:
            return Page(0, [])
        con = self._connect(query, plan)
        try:
            con.register("t", self._numbered(plan, plan.columns))
            con.execute(f"CREATE TEMP TABLE hits AS SELECT * FROM t WHERE {plan.where}", plan.params)
            total = con.execute("SELECT count(*) FROM hits").fetchone()[0]
            limit = f"LIMIT {query.limit} " if query.limit else ""
            places = con.execute(
                f"SELECT __frag, __row FROM hits ORDER BY {order_by(query)} {limit}OFFSET {query.offset}"
            ).fetchall()
        except duckdb.IOException as exc:
            raise StoreUnavailable(f"MinIO at {self.config.endpoint}: {exc}") from None
        finally:
            con.close()
        return Page(total, self._whole_rows(plan, places))

    def _whole_rows(self, plan: _Plan, places: list[tuple[int, int]]) -> list[dict[str, Any]]:
        """Whole rows at (fragment, row) places, in the order given, reading only the row
        groups that hold them; a manifest's case and job come from the fragment's folder."""
        wanted: dict[int, set[int]] = {}
        for frag, row in places:
            wanted.setdefault(frag, set()).add(row)

        def read(frag: int) -> dict[int, dict[str, Any]]:
            fragment, rows = plan.fragments[frag][1], sorted(wanted[frag])
            held, index, start, taken = [], [], 0, 0  # held groups are read into one table, in file order
            for group in fragment.row_groups:
                inside = [r for r in rows if start <= r < start + group.num_rows]
                if inside:
                    held.append(group.id)
                    index += [taken + r - start for r in inside]
                    taken += group.num_rows
                start += group.num_rows
            table = fragment.subset(row_group_ids=held).to_table(schema=plan.stored)
            implied = plan.implied(frag)  # case and job: the first columns of a manifest row
            return dict(zip(rows, ({**implied, **r} for r in table.take(index).to_pylist()), strict=True))

        found = dict(zip(wanted, self.pool.map(read, list(wanted)), strict=True))
        return [found[frag][row] for frag, row in places]

    def nearest(
        self, query: Query, columns: list[str], score: Callable[[pa.RecordBatch], np.ndarray], limit: int
    ) -> list[tuple[float, dict[str, Any]]]:
        """The `limit` rows of the query with the lowest `score` (computed batch by batch over
        `columns`; an infinite score leaves a row out), lowest first, with their scores. Only
        the scored columns cross the whole scope and at most `limit` places are held; ties
        keep the rows' order (case, job, row)."""
        plan = self._plan(query)
        if plan is None or limit <= 0:
            return []
        read = plan.columns + [c for c in columns if c not in plan.columns]
        best = np.empty(0, [("score", "f8"), ("frag", "i4"), ("row", "i8")])
        con = self._connect(query, plan)
        try:
            con.register("t", self._numbered(plan, read))
            listed = ", ".join(f'"{c}"' for c in columns)
            sql = f"SELECT {listed}, __frag, __row FROM t WHERE {plan.where}"
            for batch in con.sql(sql, params=plan.params).to_arrow_reader(BATCH_ROWS):
                scores = np.asarray(score(batch), dtype="f8")
                kept = np.isfinite(scores)
                found = np.empty(int(kept.sum()), best.dtype)
                found["score"] = scores[kept]
                found["frag"] = batch.column("__frag").to_numpy()[kept]
                found["row"] = batch.column("__row").to_numpy()[kept]
                best = np.sort(np.concatenate([best, found]), order=["score", "frag", "row"])[:limit]
        except duckdb.IOException as exc:
            raise StoreUnavailable(f"MinIO at {self.config.endpoint}: {exc}") from None
        finally:
            con.close()
        places = [(int(f), int(r)) for f, r in zip(best["frag"], best["row"], strict=True)]
        return list(zip(best["score"].tolist(), self._whole_rows(plan, places), strict=True))

    def rows(self, query: Query) -> Iterator[dict[str, Any]]:
        """Every row of the query from query.offset (query.limit rows, or all when 0), in the
        order page() gives, batch by batch: an export never holds the result in memory (a
        sorted export lets DuckDB spill to disk)."""
        plan = self._plan(query)
        if plan is None:
            return
        con = self._connect(query, plan)
        try:
            con.register("t", self._numbered(plan, plan.schema.names, ahead=2))
            # Fragments arrive in case and job order and rows in table order: without an
            # asked sort the stream is already in page() order, and is not sorted again.
            order = f"ORDER BY {order_by(query)} " if query.sort else ""
            limit = f"LIMIT {query.limit} " if query.limit else ""
            sql = f"SELECT * EXCLUDE (__frag, __row) FROM t WHERE {plan.where} {order}{limit}OFFSET {query.offset}"
            for batch in con.sql(sql, params=plan.params).to_arrow_reader(BATCH_ROWS):
                yield from batch.to_pylist()
        finally:
            con.close()


def order_by(query: Query) -> str:
    """The asked sort, then the row's place: case, job (the plan's fragment order) and its
    row in the job's table. A total order, so pages never overlap or skip."""
    asked = [f'"{c}" {"DESC" if desc else "ASC"} NULLS LAST' for c, desc in query.sort]
    return ", ".join([*asked, "__frag", "__row"])


@dataclass(frozen=True)
class _Plan:
    fragments: list[tuple[str, ds.ParquetFileFragment]]  # (<bucket>/<case>/<job>, its table)
    schema: pa.Schema  # the rows the query returns
    stored: pa.Schema  # what the table holds: `schema` less the columns its folder implies
    where: str
    params: list[Any]
    columns: list[str]

    def implied(self, frag: int) -> dict[str, str]:
        """The values of the columns fragment `frag` does not store, from its folder."""
        case, job = self.fragments[frag][0].split("/")[1:3]
        return {c: v for c, v in (("case", case), ("job", job)) if c not in self.stored.names}


@functools.cache
def catalog_for(config: StoreConfig) -> Catalog:
    """One catalog per process and MinIO, so what it learns about finished jobs is kept."""
    return Catalog(config)


def where_clause(query: Query, scoped: bool = False) -> tuple[str, list[Any]]:
    """The SQL condition of a query's filters over table t, and its parameters (values never
    enter the SQL text). `scoped`: the rows come only from the query's cases and jobs (the
    engine reads their folders alone), so those need no condition."""
    terms: list[str] = []
    params: list[Any] = []

    def add(term: str, *values: Any) -> None:
        terms.append(term)
        params.extend(values)

    def any_of(column: str, values: tuple[str, ...]) -> None:
        if values:
            add(f"{column} IN ({', '.join('?' for _ in values)})", *values)

    if not scoped:
        if query.cases is not None:
            any_of('"case"', query.cases)
        any_of("job", query.jobs)
    if query.images:
        parts = []
        for image in query.images:
            if len(image) == 64 and all(ch in "0123456789abcdefABCDEF" for ch in image):
                parts.append("image_sha256 = ?")
                params.append(image.lower())
            else:
                parts.append("image_path GLOB ?")
                params.append(image)
        terms.append(f"({' OR '.join(parts)})")
    if query.over_features:
        add("kind = ?", query.feature_kind)
        if query.feature_value is not None:
            add("value = ?", query.feature_value)
        return " AND ".join(terms), params
    if query.digest:
        add(f"{DIGEST_COLUMN[len(query.digest)]} = ?", query.digest)
    if query.types:
        marks = ", ".join("?" for _ in query.types)
        add(f"(type IN ({marks}) OR subtype IN ({marks}))", *query.types, *query.types)
    any_of("status", query.statuses)
    any_of("origin", query.origins)
    if query.min_size is not None:
        add("length >= ?", query.min_size)
    if query.max_size is not None:
        add("length <= ?", query.max_size)
    if query.path is not None:
        add("path GLOB ?", query.path)
    if query.yara_rule:
        add("len(list_filter(yara, lambda r: r = ? OR ends_with(r, '/' || ?))) > 0", query.yara_rule, query.yara_rule)
    if query.yara_tag:
        add(
            "(job, sha256) IN (SELECT job, sha256 FROM yara WHERE error IS NULL AND list_contains(tags, ?))",
            query.yara_tag,
        )
    if query.known:
        known = [k for k in query.known if k != "unknown"]
        either = [f"known IN ({', '.join('?' for _ in known)})"] if known else []
        if "unknown" in query.known:
            either.append("known IS NULL")
        add(f"({' OR '.join(either)})", *known)
    else:
        terms.append("known IS DISTINCT FROM 'good'")
    if query.after is not None or query.before is not None:
        fields = [query.time_field] if query.time_field else list(TIME_FIELDS)
        per_field = []
        for f in fields:
            bounds = []
            if query.after is not None:
                bounds.append(f"{f} >= ?")
                params.append(query.after)
            if query.before is not None:
                bounds.append(f"{f} < ?")
                params.append(query.before)
            per_field.append(f"({' AND '.join(bounds)})")
        terms.append(f"({' OR '.join(per_field)})")
    return " AND ".join(terms) or "TRUE", params
