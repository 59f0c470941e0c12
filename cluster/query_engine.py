"""The examiners' query engine: DuckDB over the jobs' Parquet, read from MinIO in place.

There is no second database that could drift from the manifests: each query finds the
jobs of the cases it may see by listing the results bucket, narrows a digest lookup with
the jobs' digest filters (cluster/digest_filter.py), and lets DuckDB scan the remaining
manifests (or feature tables) through pyarrow datasets, which push column selection and
simple predicates down to the Parquet row groups. Pages are cut in DuckDB under a total
order, so paging is stable; a full export is streamed batch by batch.

Finished jobs' results are written once, so what a process has learnt about a job (that
it is catalogued, its digest filter) is kept for the life of the process.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from cluster.digest_filter import DigestFilter, filter_key
from cluster.query import DIGEST_COLUMN, TIME_FIELDS, Query
from workers.features import FEATURE_SCHEMA
from workers.manifest import MANIFEST_SCHEMA
from workers.store import RESULTS, StoreConfig, StoreUnavailable, s3_filesystem
from workers.yara_scan import YARA_SCHEMA

MANIFEST, FEATURES, YARA = "manifest.parquet", "features.parquet", "yara.parquet"
BATCH_ROWS = 4096
IO_THREADS = 16
FORMAT = ds.ParquetFileFormat()


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
        self.memory_limit = memory_limit
        self._catalogued: set[str] = set()
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
        """`<bucket>/<case>/<job>` of every finished job the query may read, in order."""
        cases = [f"{RESULTS}/{c}" for c in query.cases] if query.cases is not None else self._dirs(RESULTS)
        job_dirs = [d for dirs in self.pool.map(self._dirs, cases) for d in dirs]
        if query.jobs:
            wanted = set(query.jobs)
            job_dirs = [d for d in job_dirs if d.rsplit("/", 1)[1] in wanted]
        return [d for d, ok in zip(job_dirs, self.pool.map(self._is_catalogued, job_dirs), strict=True) if ok]

    def _is_catalogued(self, job_dir: str) -> bool:
        """Whether the job's manifest is written (a running job's is not yet)."""
        if job_dir in self._catalogued:
            return True
        try:
            found = self.s3.get_file_info(f"{job_dir}/{MANIFEST}").type == pafs.FileType.File
        except OSError as exc:
            raise StoreUnavailable(f"MinIO at {self.config.endpoint}: cannot read {job_dir}: {exc}") from None
        if found:
            with self._lock:
                self._catalogued.add(job_dir)
        return found

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

    def _connection(self, query: Query) -> tuple[duckdb.DuckDBPyConnection, str, list[Any]] | None:
        """A DuckDB connection with the query's table registered, and the WHERE clause and
        its parameters; None when no job can hold a match."""
        job_dirs = self.jobs(query)
        if query.digest:
            job_dirs = self._may_hold(job_dirs, query.digest)
        if not job_dirs:
            return None
        con = duckdb.connect(config={"memory_limit": self.memory_limit, "threads": 2})
        table, schema = (FEATURES, FEATURE_SCHEMA) if query.over_features else (MANIFEST, MANIFEST_SCHEMA)
        con.register("t", self._dataset(job_dirs, table, schema))
        if query.yara_tag:
            con.register("yara", self._dataset(job_dirs, YARA, YARA_SCHEMA))
        where, params = where_clause(query)
        return con, where, params

    def _dataset(self, job_dirs: list[str], name: str, schema: pa.Schema) -> ds.Dataset:
        """The jobs' tables of this name as one dataset, from fragments whose Parquet footers
        are read once per process (jobs from before a table existed simply lack it)."""
        paths = [f"{d}/{name}" for d in job_dirs]
        fragments = [f for f in self.pool.map(self._fragment, paths) if f is not None]
        return ds.FileSystemDataset(fragments, schema, FORMAT, self.s3)

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

    def page(self, query: Query) -> Page:
        """The query's page (query.limit rows from query.offset) and the total count."""
        ready = self._connection(query)
        if ready is None:
            return Page(0, [])
        con, where, params = ready
        try:
            order = ", ".join(f'"{c}" {"DESC" if desc else "ASC"} NULLS LAST' for c, desc in query.order())
            limit = f" LIMIT {query.limit} OFFSET {query.offset}" if query.limit else ""
            sql = f"SELECT *, count(*) OVER () AS __total FROM t WHERE {where} ORDER BY {order}{limit}"
            result = con.sql(sql, params=params).to_arrow_table()
            if result.num_rows:
                total = result.column("__total")[0].as_py()
                rows = result.drop_columns(["__total"]).to_pylist()
            else:
                total = con.execute(f"SELECT count(*) FROM t WHERE {where}", params).fetchone()[0]
                rows = []
            return Page(total, rows)
        except duckdb.IOException as exc:
            raise StoreUnavailable(f"MinIO at {self.config.endpoint}: {exc}") from None
        finally:
            con.close()

    def rows(self, query: Query) -> Iterator[dict[str, Any]]:
        """Every row of the query from query.offset (query.limit rows, or all when 0), in
        order, batch by batch: an export never holds the result in memory."""
        ready = self._connection(query)
        if ready is None:
            return
        con, where, params = ready
        try:
            order = ", ".join(f'"{c}" {"DESC" if desc else "ASC"} NULLS LAST' for c, desc in query.order())
            limit = f" LIMIT {query.limit}" if query.limit else ""
            sql = f"SELECT * FROM t WHERE {where} ORDER BY {order}{limit} OFFSET {query.offset}"
            reader = con.sql(sql, params=params).to_arrow_reader(BATCH_ROWS)
            for batch in reader:
                yield from batch.to_pylist()
        finally:
            con.close()


@functools.cache
def catalog_for(config: StoreConfig) -> Catalog:
    """One catalog per process and MinIO, so what it learns about finished jobs is kept."""
    return Catalog(config)


def where_clause(query: Query) -> tuple[str, list[Any]]:
    """The SQL condition of a query's filters over table t, and its parameters (values never
    enter the SQL text)."""
    terms: list[str] = []
    params: list[Any] = []

    def add(term: str, *values: Any) -> None:
        terms.append(term)
        params.extend(values)

    def any_of(column: str, values: tuple[str, ...]) -> None:
        if values:
            add(f"{column} IN ({', '.join('?' for _ in values)})", *values)

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
