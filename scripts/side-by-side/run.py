"""Side by side: Tablero's CLI against Python polars and DuckDB on the
`standard` clean + features pipeline, timed in one session, alternating.

Run by run.sh (which builds the CLI and the pinned venv). Direct use:

    python run.py --tablero PATH [--sizes 1,10] [--runs 5] [--data CSV.gz] [--json OUT]

For each size K (copies of the input made by replicate.py):

1. Tablero's workspace gets the file uploaded (not timed: the peers read the
   CSV where it lies, Tablero's upload is a copy plus validation). Tablero
   is timed two ways: `etl run` (one command: clean, then features on the
   rows the clean stage hands over in memory) as "tablero", and `etl clean`
   then `etl features` (two processes, the clean table read back) as
   "tablero-2cmd".
2. One untimed warm-up run of each tool (page cache, and the outputs the
   checks read).
3. RUNS timed rounds; each round runs every tool once, the order rotated
   round by round. A tool's time is its whole process (processes, for
   "tablero-2cmd") from start to the features table written as
   Parquet, wall clock.
4. Checks: both Tablero paths write the same features table, byte for
   byte; each peer's features table equals Tablero's (same customers in
   the same order, same targets, every integer and text column equal,
   floats within 1e-9 relative), and Tablero's clean and features counts
   at K are exactly K times those at 1.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
TOOLS = ("tablero", "tablero-2cmd", "polars", "duckdb")


def sh(cmd, env=None):
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out.stdout


class Tablero:
    def __init__(self, exe, ws):
        self.exe, self.ws = exe, ws
        self.env = dict(os.environ, TABLERO_WORKSPACE=str(ws))
        self.env.pop("TABLERO_BACKEND", None)

    def cli(self, *args):
        return json.loads(sh([self.exe, *args, "--json"], env=self.env))

    def setup(self, csv):
        self.cli("init")
        self.cli("data", "upload", str(csv), "--key", "data.csv")

    def run(self):
        both = self.cli("etl", "run", "data.csv")
        return both["clean"], both["features"]

    def run_two(self):
        clean = self.cli("etl", "clean", "data.csv")
        feats = self.cli("etl", "features", clean["output"]["key"])
        return clean, feats

    def features_path(self, feats):
        return self.ws / "buckets" / "clean" / feats["output"]["key"]


def timed(cmd):
    t = time.perf_counter()
    cmd()
    return time.perf_counter() - t


def compare(name, ours, theirs):
    """Differences between Tablero's features table and a peer's, as text."""
    problems = []
    if ours.columns != theirs.columns:
        return [f"{name}: columns differ: {theirs.columns}"]
    if ours.height != theirs.height:
        return [f"{name}: {theirs.height} customers, Tablero has {ours.height}"]
    for col in ours.columns:
        a, b = ours[col], theirs[col]
        if a.dtype == pl.Float64 or b.dtype == pl.Float64:
            a, b = a.cast(pl.Float64), b.cast(pl.Float64)
            tol = (a.abs().clip(lower_bound=1.0) * 1e-9)
            bad = ((a - b).abs() > tol).sum()
        else:
            bad = (a.cast(pl.String) != b.cast(pl.String)).sum()
        if bad:
            i = next(
                i for i in range(ours.height)
                if str(a[i]) != str(b[i]) and not (
                    a.dtype == pl.Float64 and abs(a[i] - b[i]) <= max(abs(a[i]), 1.0) * 1e-9
                )
            )
            problems.append(
                f"{name}: {bad} values of {col} differ (first: customer {ours['CustomerID'][i]}: "
                f"Tablero {a[i]!r}, {name} {b[i]!r})"
            )
    return problems


def counts(clean, feats):
    r = clean["report"]
    c = {f"rule {x['rule']}": x["removed"] for x in r["rules"]}
    c["rows in"] = r["rows_in"]
    c["rows out"] = r["rows_out"]
    c["clean customers"] = r["customers"]
    c["feature customers"] = feats["report"]["customers"]
    c["positives"] = feats["report"]["positives"]
    return c


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tablero", required=True)
    p.add_argument("--sizes", default="1,10")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--data", default=str(HERE / "../../../shared/data/online_retail.csv.gz"))
    p.add_argument("--work", default=None, help="folder for the generated files (default: a temporary one)")
    p.add_argument("--json", default=None, help="write the timings here")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not Path(args.data).exists():
        sys.exit(f"{args.data} is absent: give --data (the Online Retail CSV, optionally gzipped)")

    work_ctx = tempfile.TemporaryDirectory(prefix="tablero-side-by-side-") if args.work is None else None
    work = Path(args.work or work_ctx.name)
    work.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    load_before = os.getloadavg()

    results, base_counts = {}, None
    count_failures, equal_failures = [], []
    for k in sorted(set(sizes) | {1}):
        csv = work / f"retail-x{k}.csv"
        if not csv.exists():
            sh([py, HERE / "replicate.py", args.data, str(k), csv])
        lines = sum(1 for _ in open(csv, "rb")) - 1
        mb = csv.stat().st_size / 1e6
        ws = work / f"ws-x{k}"
        if ws.exists():
            subprocess.run(["rm", "-rf", ws], check=True)
        t = Tablero(args.tablero, ws)
        t.setup(csv)
        outs = {name: work / f"{name}-x{k}.parquet" for name in ("polars", "duckdb")}
        run = {
            "tablero": t.run,
            "tablero-2cmd": t.run_two,
            "polars": lambda: sh([py, HERE / "polars_pipeline.py", csv, outs["polars"]]),
            "duckdb": lambda: sh([py, HERE / "duckdb_pipeline.py", csv, outs["duckdb"]]),
        }
        clean, feats = t.run_two()  # warm-up, and the outputs checked
        two = t.features_path(feats).read_bytes()
        clean, feats = t.run()
        if t.features_path(feats).read_bytes() != two:
            equal_failures.append(f"x{k}: etl run's features table differs from etl clean + etl features'")
        run["polars"]()
        run["duckdb"]()
        c = counts(clean, feats)
        if k == 1:
            base_counts = c
        else:
            for key, v in c.items():
                if v != k * base_counts[key]:
                    count_failures.append(f"x{k}: {key} is {v}, not {k} x {base_counts[key]}")
        ours = pl.read_parquet(t.features_path(feats))
        for name, path in outs.items():
            equal_failures += compare(f"x{k} {name}", ours, pl.read_parquet(path))
        if k not in sizes:
            continue
        times = {name: [] for name in TOOLS}
        for r in range(args.runs):
            order = TOOLS[r % len(TOOLS):] + TOOLS[:r % len(TOOLS)]
            for name in order:
                times[name].append(timed(run[name]))
        results[k] = {"lines": lines, "mb": round(mb, 1), "customers": c["feature customers"], "times": times}
        print(f"x{k}: {lines:,} lines, {mb:.0f} MB, {c['feature customers']:,} customers", file=sys.stderr)

    load_after = os.getloadavg()
    print()
    print("| size | tool | min s | median s | max s | spread | median vs Tablero |")
    print("|---|---|---|---|---|---|---|")
    for k, r in results.items():
        ours = statistics.median(r["times"]["tablero"])
        for name in TOOLS:
            ts = r["times"][name]
            med = statistics.median(ts)
            spread = (max(ts) - min(ts)) / med
            rel = "1" if name == "tablero" else f"{med / ours:.2f}x Tablero's time"
            print(
                f"| x{k} ({r['lines']:,} lines, {r['mb']:.0f} MB) | {name} | {min(ts):.3f} | "
                f"{med:.3f} | {max(ts):.3f} | {spread:.0%} | {rel} |"
            )
    print()
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
          f"{os.cpu_count()} cores; {args.runs} rounds per size, order rotated")
    failures = equal_failures + count_failures
    print(f"check: etl run and etl clean + etl features write the same features table, and "
          f"polars' and duckdb's features tables equal Tablero's, at every size: "
          f"{'FAILED' if equal_failures else 'passed'}")
    print(f"check: every clean rule's count, rows, customers and positives at K are K x those at 1: "
          f"{'FAILED' if count_failures else 'passed'}")
    for f in failures:
        print(f"  {f}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"results": results, "load": [load_before, load_after], "failures": failures}, indent=1))
    if work_ctx:
        work_ctx.cleanup()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
