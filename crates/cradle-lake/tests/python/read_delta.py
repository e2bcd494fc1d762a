"""Reads a cradle-lake table with the reference Delta implementation
(PyPI `deltalake`, i.e. delta-rs) and `pyarrow`, and with DuckDB's
`delta_scan` (delta-kernel-rs), and prints what they see as JSON for the
Rust test `tests/reference_reader.rs` to assert on.

DuckDB cannot download its delta extension offline, so it is loaded from
the PyPI package `duckdb-ext-delta`, which must match the duckdb version
(duckdb==1.4.4, duckdb-ext-delta==1.4.4.20260205).

Usage: read_delta.py <table path>
"""

import datetime
import glob
import json
import os
import sys

import deltalake
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable


def jsonable(v):
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    return v


def describe(path, version):
    dt = DeltaTable(path, version=version)
    table = dt.to_pyarrow_table().sort_by("id")
    ids = table.column("id").to_pylist()
    by_id = {}
    for row in table.slice(0, 10).to_pylist():
        by_id[str(row["id"])] = {k: jsonable(v) for k, v in row.items()}
    actions = pa.table(dt.get_add_actions(flatten=True))
    cols = actions.column_names
    stat = lambda name: (
        [jsonable(v) for v in actions.column(name).to_pylist()] if name in cols else None
    )
    return {
        "version": dt.version(),
        "num_rows": table.num_rows,
        "columns": table.column_names,
        "types": {f.name: str(f.type) for f in table.schema},
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
        "id_sum": sum(ids),
        "rows": by_id,
        "files": len(dt.file_uris()),
        "stats_num_records": stat("num_records"),
        "stats_min_id": stat("min.id"),
        "stats_max_day": stat("max.day"),
        "stats_min_ts": stat("min.ts"),
        "null_count_name": stat("null_count.name"),
        "protocol": [dt.protocol().min_reader_version, dt.protocol().min_writer_version],
        "metadata_id": dt.metadata().id,
    }


def main():
    path = sys.argv[1]
    latest = DeltaTable(path)
    out = {
        "deltalake_version": deltalake.__version__,
        "pyarrow_version": pa.__version__,
        "latest": latest.version(),
        "versions": [describe(path, v) for v in range(latest.version() + 1)],
        "history": [
            {"version": h.get("version"), "operation": h.get("operation"),
             "parameters": h.get("operationParameters"), "app": h.get("appMetadata")}
            for h in latest.history()
        ],
    }
    # File skipping through the stats: a predicate on id, date and timestamp.
    filtered = latest.to_pyarrow_table(filters=[("id", ">=", 2990)])
    out["filtered_id_rows"] = filtered.num_rows
    ds = latest.to_pyarrow_dataset()
    out["dataset_rows_day_ge"] = ds.to_table(
        filter=pc.field("day") >= pa.scalar(datetime.date(2030, 1, 1))
    ).num_rows
    out["duckdb"] = duckdb_view(path)
    print(json.dumps(out))


def duckdb_view(path):
    import duckdb
    import duckdb_ext

    pattern = os.path.join(
        os.path.dirname(duckdb_ext.__file__) if getattr(duckdb_ext, "__file__", None)
        else list(duckdb_ext.__path__)[0],
        "extensions", "v" + duckdb.__version__, "*", "delta.duckdb_extension",
    )
    found = glob.glob(pattern)
    if not found:
        raise SystemExit(f"no delta extension for duckdb {duckdb.__version__} at {pattern}")
    con = duckdb.connect()
    con.sql(f"LOAD '{found[0]}'")
    count, id_sum, min_name, max_day = con.sql(
        f"SELECT count(*), sum(id), min(name), max(day) FROM delta_scan('{path}')"
    ).fetchone()
    return {
        "duckdb_version": duckdb.__version__,
        "rows": count,
        "id_sum": int(id_sum),
        "min_name": min_name,
        "max_day": max_day.isoformat(),
    }


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    # The reader's runtime sometimes aborts during interpreter teardown
    # ("terminate called without an active exception"); the answer is out.
    os._exit(0)
