#!/usr/bin/env python3
"""The same job as old_stack.py with polars: the fast Python alternative.

    polars_stack.py <delivery> <out>

Reads every CSV with pl.read_csv (all columns as text; Windows-1252 files are
decoded to UTF-8 first, since polars reads only UTF-8) and every workbook
sheet with pl.read_excel(engine="calamine") (fastexcel), unpivots each table
into (article_no, attribute, value, file, sheet), concatenates them and writes
<out>/attributes and <out>/products with DataFrame.write_delta (deltalake).
Writes <out>/summary.json.

Like the old stack it needs the per-file settings table (settings.py, derived
from manifest.json here; hand-written in real life). A table a reader fails on
is counted as failed and skipped.
"""

from __future__ import annotations

import polars as pl

from settings import Summary, TableSettings, Timer, args, find_key, flatten_header, settings_table


def read_table(delivery, t: TableSettings) -> pl.DataFrame:
    path = delivery / t.path
    first = t.header_row - t.header_rows + 1  # first header row (0-based, physical)
    if t.format == "csv":
        data = path.read_bytes()
        if t.encoding == "cp1252":
            data = data.decode("cp1252").encode("utf-8")
        raw = pl.read_csv(
            data,
            separator=t.delimiter,
            has_header=False,  # the header may be two rows: built below
            skip_rows=first,
            infer_schema=False,  # all columns as text
            truncate_ragged_lines=True,  # rows with too many fields are cut, silently
            encoding="utf8",
        )
    else:
        raw = pl.read_excel(
            path,
            sheet_name=t.sheet,
            engine="calamine",
            has_header=False,
            read_options={"header_row": None, "skip_rows": first},
            drop_empty_rows=False,
            infer_schema_length=0,  # all columns as text
        )
    head = raw.head(t.header_rows).rows()
    top = list(head[0])
    if t.header_rows == 2:  # merged cells: the group name spans the columns to its right
        for i in range(1, len(top)):
            if top[i] is None and head[1][i] is not None and head[1][i - 1] is not None:
                top[i] = top[i - 1]
    parts = [[top[i]] + [h[i] for h in head[1:]] for i in range(len(top))]
    df = raw.slice(t.header_rows)
    df.columns = flatten_header(parts)
    return df


def unpivot(df: pl.DataFrame, t: TableSettings) -> pl.DataFrame:
    key = find_key(df.columns, t.key_header)
    df = df.with_columns(pl.col(key).str.strip_chars()).filter(
        pl.col(key).is_not_null() & (pl.col(key) != "")
    )
    return (
        # internal names: a delivery may have columns called "attribute" or "value"
        df.unpivot(index=key, variable_name="__attribute", value_name="__value")
        .filter(pl.col("__value").is_not_null() & (pl.col("__value").str.strip_chars() != ""))
        .rename({key: "article_no", "__attribute": "attribute", "__value": "value"})
        .with_columns(file=pl.lit(t.path), sheet=pl.lit(t.sheet, dtype=pl.String))
        .select("article_no", "attribute", "value", "file", "sheet")
    )


def main() -> None:
    delivery, out = args()
    summary = Summary("polars")
    timer = Timer()
    parts = []
    for t in settings_table(delivery):
        if t.header_row is None or not t.key_header:
            summary.tables_skipped.append({"file": t.path, "sheet": t.sheet})
            continue
        try:
            parts.append(unpivot(read_table(delivery, t), t))
            summary.tables_read += 1
        except Exception as e:  # noqa: BLE001
            summary.fail(t, e)
    summary.seconds["read"] = timer.lap()

    schema = {c: pl.String for c in ("article_no", "attribute", "value", "file", "sheet")}
    attributes = pl.concat(parts, how="vertical") if parts else pl.DataFrame(schema=schema)
    products = attributes.select("article_no").unique(maintain_order=True)
    attributes.write_delta(str(out / "attributes"), mode="overwrite")
    products.write_delta(str(out / "products"), mode="overwrite")
    summary.seconds["write"] = timer.lap()
    summary.attribute_rows = attributes.height
    summary.products = products.height
    summary.write(out)


if __name__ == "__main__":
    main()
