"""The per-file settings table the Python stacks need, and what they share.

The old Python pipeline could not read a delivery without a hand-written
table like this one: for every file its encoding, separator and header row,
for every workbook sheet its header row(s) and the article-number column.
Somebody opened each file, looked, and typed the numbers in; every new
customer and every changed export meant editing it again.

For the benchmark we do NOT hand-write it: we derive it at run time from the
ground truth (`manifest.json`) that `cradle demo-data` writes next to the
delivery. That is generous to the Python stacks (their settings are always
exactly right, the way they would be only after somebody got them right by
hand), and it keeps the comparison honest: they read what cradle reads.
cradle itself gets no settings at all.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# manifest encoding -> Python codec
PY_ENCODING = {"utf-8": "utf-8", "utf-8-bom": "utf-8-sig", "windows-1252": "cp1252"}


@dataclass
class TableSettings:
    """One table: a CSV file or one sheet of a workbook."""

    path: str  # relative to the delivery, '/'-separated
    format: str  # 'csv' or 'xlsx'
    sheet: str | None
    encoding: str | None  # Python codec name, CSV only
    delimiter: str | None  # CSV only
    header_row: int | None  # 0-based physical row of the (last) header row
    header_rows: int  # 1, or 2 for a merged two-row header
    key_header: str | None  # header of the article-number column


def settings_table(delivery: Path) -> list[TableSettings]:
    manifest = json.loads((delivery / "manifest.json").read_text(encoding="utf-8"))
    out = []
    for f in manifest["files"]:
        for s in f.get("sheets") or [{}]:
            out.append(
                TableSettings(
                    path=f["path"],
                    format=f["format"],
                    sheet=s.get("name"),
                    encoding=PY_ENCODING.get(f.get("encoding") or "", None),
                    delimiter=f.get("delimiter"),
                    header_row=s.get("header_row"),
                    header_rows=int(s.get("header_rows") or 1),
                    key_header=s.get("key_header"),
                )
            )
    return out


def _norm(s: str) -> str:
    return " ".join(str(s).split()).casefold()


def flatten_header(parts_per_column: list[list[str | None]]) -> list[str]:
    """Column names from one or two header rows; blank/'Unnamed' parts are
    dropped, repeated parts joined once, duplicates made unique."""
    names, seen = [], {}
    for i, parts in enumerate(parts_per_column):
        clean = []
        for p in parts:
            if p is None:
                continue
            p = str(p).strip()
            if not p or p.startswith("Unnamed:") or p.startswith("__UNNAMED__") or p == "nan":
                continue
            if not clean or clean[-1] != p:
                clean.append(p)
        name = " / ".join(clean) or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def find_key(columns: list[str], key_header: str) -> str:
    """The article-number column among the flattened names."""
    want = _norm(key_header)
    for c in columns:
        if _norm(c) == want:
            return c
    for c in columns:  # two-row header: the key may be one of the joined parts
        if want in [_norm(p) for p in c.split(" / ")] or _norm(c.replace(" / ", " ")) == want:
            return c
    raise KeyError(f"key column {key_header!r} not found among {columns[:12]}")


@dataclass
class Summary:
    tool: str
    attribute_rows: int = 0
    products: int = 0
    tables_read: int = 0
    tables_skipped: list = field(default_factory=list)  # no key column
    tables_failed: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)

    def fail(self, t: TableSettings, err: BaseException) -> None:
        msg = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]
        self.tables_failed.append({"file": t.path, "sheet": t.sheet, "error": msg})
        print(f"  FAILED {t.path}{' [' + t.sheet + ']' if t.sheet else ''}: {msg}", file=sys.stderr)

    def write(self, out: Path) -> None:
        (out / "summary.json").write_text(json.dumps(self.__dict__, indent=2, ensure_ascii=False))
        print(
            f"{self.tool}: {self.attribute_rows} attribute rows, {self.products} products, "
            f"{self.tables_read} tables read, {len(self.tables_failed)} failed, "
            f"{len(self.tables_skipped)} skipped (no key column); {self.seconds}",
            file=sys.stderr,
        )


class Timer:
    def __init__(self):
        self.t = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        d, self.t = now - self.t, now
        return round(d, 3)


def args() -> tuple[Path, Path]:
    if len(sys.argv) != 3:
        sys.exit(f"usage: {os.path.basename(sys.argv[0])} <delivery> <out>")
    delivery, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    return delivery, out
