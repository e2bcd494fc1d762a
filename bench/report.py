#!/usr/bin/env python3
"""Summarise the runs of ingest.sh: print the table, write the results JSON.

    report.py <runs.tsv> <delivery> <results.json> <meta.json>

runs.tsv: tool, run, exit code, wall seconds, peak RSS kB, path of the
tool's own result (cradle's ingest.json or the Python stacks' summary.json).
Standard library only.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

LABEL = {
    "cradle": "cradle ingest",
    "baseline": "cradle ingest (baseline)",
    "old_stack": "old stack (pandas+openpyxl)",
    "polars": "polars (calamine)",
}


def load(path: str) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def main() -> None:
    runs_tsv, delivery, results_path, meta_path = sys.argv[1:5]
    manifest = json.loads((Path(delivery) / "manifest.json").read_text(encoding="utf-8"))
    meta = json.loads(Path(meta_path).read_text(encoding="utf-8"))

    tools: dict[str, dict] = {}
    for line in Path(runs_tsv).read_text().splitlines():
        tool, run, rc, wall, rss_kb, result = line.split("\t")
        t = tools.setdefault(tool, {"runs": []})
        out = load(result)
        rows = None
        if out is not None:
            rows = out.get("data_points") if tool in ("cradle", "baseline") else out.get("attribute_rows")
        t["runs"].append(
            {"run": int(run), "exit": int(rc), "wall_s": float(wall), "peak_rss_mb": int(rss_kb) / 1024, "rows_loaded": rows}
        )
        t["last_result"] = out

    for t in tools.values():
        ok = [r for r in t["runs"] if r["exit"] in (0, 3)]  # cradle's 3: cells did not balance
        t["all_runs_failed"] = not ok
        ok = ok or t["runs"]
        t["median_wall_s"] = statistics.median(r["wall_s"] for r in ok)
        t["median_peak_rss_mb"] = statistics.median(r["peak_rss_mb"] for r in ok)
        t["rows_loaded"] = ok[-1]["rows_loaded"]
        t["failed_runs"] = sum(1 for r in t["runs"] if r["exit"] not in (0, 3))

    base = tools.get("cradle")
    print()
    print(f"Delivery: {manifest['products']:,} products, {manifest['data_points']:,} data points, "
          f"{len(manifest['files'])} files, {manifest['total_bytes'] / 1e6:.1f} MB "
          f"(scale {manifest['scale']}, seed {manifest['seed']}); median of {meta['runs']} run(s)")
    print()
    head = f"{'tool':<30} {'wall s':>8} {'peak RSS MB':>12} {'rows loaded':>12} {'time x cradle':>14} {'memory x cradle':>16}"
    print(head)
    print("-" * len(head))
    for name in ("cradle", "baseline", "old_stack", "polars"):
        if name not in tools:
            continue
        t = tools[name]
        if base and name != "cradle":
            t["time_vs_cradle"] = t["median_wall_s"] / base["median_wall_s"]
            t["memory_vs_cradle"] = t["median_peak_rss_mb"] / base["median_peak_rss_mb"]
            tx, mx = f"{t['time_vs_cradle']:.1f}x", f"{t['memory_vs_cradle']:.1f}x"
        else:
            tx = mx = "1.0x" if name == "cradle" else "-"
        rows = f"{t['rows_loaded']:,}" if t["rows_loaded"] is not None else "?"
        flag = f"  ({t['failed_runs']} run(s) FAILED)" if t["failed_runs"] else ""
        if t["all_runs_failed"]:
            flag = "  (ALL runs FAILED: numbers are of failed runs)"
        print(f"{LABEL[name]:<30} {t['median_wall_s']:>8.2f} {t['median_peak_rss_mb']:>12.0f} {rows:>12} {tx:>14} {mx:>16}{flag}")
    print()
    print("rows loaded: data points (cradle) / attribute rows written (Python stacks); the Python")
    print("stacks also load footer, group-heading and bad rows that happen to have a key, and drop")
    print("rows pandas/polars cannot parse, so their count is not the manifest's.")

    checks = {}
    if base and base.get("last_result"):
        rep = base["last_result"]
        print()
        print(f"{'':<16} {'cradle':>12} {'manifest':>12}")
        for k in ("products", "data_points", "rows", "loaded_rows", "rejected_rows"):
            got, want = rep.get(k), manifest.get(k)
            checks[k] = {"cradle": got, "manifest": want, "equal": got == want}
            mark = "" if got == want else "   <-- differs"
            print(f"{k:<16} {got if got is not None else '?':>12,} {want:>12,}{mark}")
        checks["balance_ok"] = rep.get("balance_ok")
        checks["files_with_errors"] = rep.get("files_with_errors")
        checks["cradle_duration_ms"] = rep.get("duration_ms")
        print(f"balance_ok: {rep.get('balance_ok')}, files_with_errors: {rep.get('files_with_errors')}, "
              f"cradle's own duration: {rep.get('duration_ms')} ms")

    for name in ("old_stack", "polars"):
        res = (tools.get(name) or {}).get("last_result") or {}
        failed = res.get("tables_failed") or []
        if failed:
            print()
            print(f"{LABEL[name]}: {len(failed)} table(s) FAILED and were not loaded:")
            for f in failed:
                print(f"  {f['file']}{' [' + f['sheet'] + ']' if f.get('sheet') else ''}: {f['error']}")
        skipped = res.get("tables_skipped") or []
        if skipped:
            print(f"{LABEL[name]}: {len(skipped)} table(s) without a key column skipped")

    results = {
        **meta,
        "delivery": {k: manifest[k] for k in ("scale", "seed", "products", "rows", "data_points", "total_bytes")}
        | {"files": len(manifest["files"])},
        "tools": {
            name: {
                k: v for k, v in t.items() if k != "last_result"
            }
            | (
                {
                    "tables_failed": (t.get("last_result") or {}).get("tables_failed"),
                    "products": (t.get("last_result") or {}).get("products"),
                    "phase_seconds": (t.get("last_result") or {}).get("seconds"),
                }
                if name != "cradle"
                else {}
            )
            for name, t in tools.items()
        },
        "cradle_vs_manifest": checks,
    }
    Path(results_path).parent.mkdir(parents=True, exist_ok=True)
    Path(results_path).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print()
    print(f"results: {results_path}")


if __name__ == "__main__":
    main()
