#!/usr/bin/env python3
"""The OLD STACK: pandas + openpyxl + deltalake, the way the old Python
pipeline loaded a delivery.

    old_stack.py <delivery> <out>

Reads every CSV with pandas.read_csv and every workbook sheet with
pandas.read_excel(engine="openpyxl"), all cells as text, melts each table into
a long table (article_no, attribute, value, file, sheet), concatenates them
and writes two Delta tables with deltalake.write_deltalake: <out>/attributes
and <out>/products (the distinct article numbers). Writes <out>/summary.json.

The per-file settings (encoding, separator, header row, key column) were
hand-written in the real old pipeline; here they come from manifest.json,
see settings.py. A table a reader fails on is counted as failed and skipped,
the way the old pipeline's try/except did -- its data is simply not loaded.
"""

from __future__ import annotations

import warnings

import deltalake
import pandas as pd
import pyarrow as pa

from settings import Summary, TableSettings, Timer, args, find_key, flatten_header, settings_table

warnings.simplefilter("ignore")  # openpyxl style warnings, pandas parser warnings


def header_arg(t: TableSettings):
    if t.header_rows == 2:
        return [t.header_row - 1, t.header_row]
    return t.header_row


def read_table(delivery, t: TableSettings) -> pd.DataFrame:
    path = delivery / t.path
    if t.format == "csv":
        first = t.header_row - t.header_rows + 1
        df = pd.read_csv(
            path,
            sep=t.delimiter,
            encoding=t.encoding,
            skiprows=first,  # title block above the header
            header=list(range(t.header_rows)) if t.header_rows > 1 else 0,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            on_bad_lines="skip",  # rows with too many fields are dropped, silently
        )
    else:
        df = pd.read_excel(
            path,
            engine="openpyxl",
            sheet_name=t.sheet,
            header=header_arg(t),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
        )
    if isinstance(df.columns, pd.MultiIndex):
        parts = [list(c) for c in df.columns]
    else:
        parts = [[c] for c in df.columns]
    df.columns = flatten_header(parts)
    return df


def melt(df: pd.DataFrame, t: TableSettings) -> pd.DataFrame:
    key = find_key(list(df.columns), t.key_header)
    df = df[df[key].notna()]
    df = df[df[key].str.strip() != ""]
    # internal names: a delivery may have columns called "attribute" or "value"
    long = df.melt(id_vars=[key], var_name="__attribute", value_name="__value")
    long = long[long["__value"].notna()]
    long = long[long["__value"].str.strip() != ""]
    long = long.rename(columns={key: "article_no", "__attribute": "attribute", "__value": "value"})
    long["article_no"] = long["article_no"].str.strip()
    long["file"] = t.path
    long["sheet"] = t.sheet
    return long


def main() -> None:
    delivery, out = args()
    summary = Summary("old_stack")
    timer = Timer()
    parts = []
    for t in settings_table(delivery):
        if t.header_row is None or not t.key_header:
            summary.tables_skipped.append({"file": t.path, "sheet": t.sheet})
            continue
        try:
            parts.append(melt(read_table(delivery, t), t))
            summary.tables_read += 1
        except Exception as e:  # noqa: BLE001 - the old pipeline's try/except
            summary.fail(t, e)
    summary.seconds["read"] = timer.lap()

    cols = ["article_no", "attribute", "value", "file", "sheet"]
    attributes = pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
    attributes = attributes.astype("object")
    products = pd.DataFrame({"article_no": attributes["article_no"].drop_duplicates()})
    schema = pa.schema([(c, pa.string()) for c in cols])
    deltalake.write_deltalake(
        str(out / "attributes"),
        pa.Table.from_pandas(attributes, schema=schema, preserve_index=False),
        mode="overwrite",
    )
    deltalake.write_deltalake(
        str(out / "products"),
        pa.Table.from_pandas(products, schema=pa.schema([("article_no", pa.string())]), preserve_index=False),
        mode="overwrite",
    )
    summary.seconds["write"] = timer.lap()
    summary.attribute_rows = len(attributes)
    summary.products = len(products)
    summary.write(out)


if __name__ == "__main__":
    main()
