"""The pipeline at scale: the full Online Retail file and K copies of it
(replicate.py's rules) through upload, clean, features and training, each
step of each preset measured as its own process: wall time and peak
resident memory (the kernel's ru_maxrss for that process, from wait4).

    python scale.py --tablero PATH [--copies 92] [--data CSV.gz] [--work DIR]

Checks that every clean rule's count, the rows, the customers and the
positives at K are exactly K times those at 1. A step refused by the
memory budget is reported as refused, with the figure it names.
Standard library only.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPLICATE = HERE / "../side-by-side/replicate.py"


def step(exe, ws, args):
    """One tablero command as its own process, measured by a wrapper
    process that waits for it with wait4."""
    env = dict(os.environ, TABLERO_WORKSPACE=str(ws))
    env.pop("TABLERO_BACKEND", None)
    wrapper = (
        "import os,sys,time,json\n"
        "t=time.perf_counter()\n"
        "pid=os.spawnv(os.P_NOWAIT, sys.argv[1], sys.argv[1:])\n"
        "_,status,ru=os.wait4(pid,0)\n"
        "json.dump({'code': os.waitstatus_to_exitcode(status), 'seconds': time.perf_counter()-t,"
        " 'peak_mib': ru.ru_maxrss/1024}, sys.stderr)\n"
    )
    out_path = ws.parent / "step-out.json"
    with open(out_path, "w") as out:
        p = subprocess.run(
            [sys.executable, "-c", wrapper, exe, *args, "--json"],
            env=env, stdout=out, stderr=subprocess.PIPE, text=True,
        )
    m = json.loads(p.stderr.strip().splitlines()[-1])
    text = out_path.read_text()
    try:
        doc = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        doc = None
    return m, doc, text


def counts(clean, feats):
    r = clean["report"]
    c = {f"rule {x['rule']}": x["removed"] for x in r["rules"]}
    c["rows in"] = r["rows_in"]
    c["rows out"] = r["rows_out"]
    c["clean customers"] = r["customers"]
    if feats is not None:
        c["feature customers"] = feats["report"]["customers"]
        c["positives"] = feats["report"]["positives"]
    return c


def pipeline(exe, ws, csv, train):
    ws.mkdir(parents=True, exist_ok=True)
    step(exe, ws, ["init"])
    results, docs, countries = [], {}, []

    def run(name, args):
        m, doc, text = step(exe, ws, args)
        ok = m["code"] == 0 and doc is not None and doc.get("status", "succeeded") == "succeeded"
        err = None if ok else (doc or {}).get("error") or (doc or {}).get("message") or text[-400:]
        results.append({"step": name, **m, "ok": ok, "error": err})
        tag = "ok" if ok else "REFUSED/FAILED"
        print(f"  {name:<24} {m['seconds']:8.2f} s  {m['peak_mib']:8.0f} MiB  {tag}", flush=True)
        if err:
            print(f"    {err}", flush=True)
        docs[name] = doc if ok else None
        return docs[name]

    run("upload", ["data", "upload", str(csv), "--key", "data.csv"])
    found = {}
    for preset in ("standard", "parity"):
        clean = run(f"clean {preset}", ["etl", "clean", "data.csv", "--preset", preset])
        feats = None
        if clean:
            feats = run(f"features {preset}",
                        ["etl", "features", clean["output"]["key"], "--preset", preset])
        if feats and train and preset == "standard":
            run("train standard", ["train", feats["output"]["key"]])
        if clean:
            found[preset] = counts(clean, feats)
            if preset == "parity":
                countries = clean["report"]["countries"]
    return results, found, countries


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tablero", required=True)
    p.add_argument("--copies", type=int, default=92)
    p.add_argument("--data", default=str(HERE / "../../../shared/data/online_retail.csv.gz"))
    p.add_argument("--work", default="/tmp/tablero-scale")
    p.add_argument("--no-train", action="store_true")
    args = p.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    base = work / "retail-x1.csv"
    big = work / f"retail-x{args.copies}.csv"
    for k, path in ((1, base), (args.copies, big)):
        if not path.exists():
            print(f"writing {path} ({k} copies)", flush=True)
            subprocess.run([sys.executable, str(REPLICATE), args.data, str(k), str(path) + ".part"], check=True)
            os.rename(str(path) + ".part", path)
    report = {}
    for k, path in ((1, base), (args.copies, big)):
        ws = work / f"ws-x{k}"
        if ws.exists():
            subprocess.run(["rm", "-rf", str(ws)], check=True)
        size = path.stat().st_size
        print(f"\n{k}x: {path} ({size / 1e9:.2f} GB)", flush=True)
        steps, found, countries = pipeline(args.tablero, ws, path, not args.no_train)
        report[k] = {"bytes": size, "steps": steps, "counts": found, "countries": countries}
    one, many = report[1]["counts"], report[args.copies]["counts"]
    k = args.copies
    bad = []
    for preset, c in many.items():
        want = {n: v * k for n, v in one[preset].items()}
        if preset == "parity":
            # The geographic filter keeps a country by its tier, which is
            # its row count (>= 100 rows: tier 2): at K a country has K
            # times its rows and may change tier. Its count at K comes
            # from the 1x country table; the customers after it are not
            # a multiple and are not checked.
            countries = report[1]["countries"]
            tier = lambda r: 1 if r >= 1000 else 2 if r >= 100 else 3
            removed = sum(x["rows"] * k for x in countries
                          if tier(x["rows"] * k) > 2 or x["region"] == "Other")
            want["rule geographic_filter"] = removed
            want["rows out"] = (one[preset]["rows out"] + one[preset]["rule geographic_filter"]) * k - removed
            for n in ("clean customers", "feature customers", "positives"):
                want.pop(n, None)
        for name, v in c.items():
            if name in want and v != want[name]:
                bad.append(f"{preset} {name}: {v}, want {want[name]}")
        print(f"\n{preset} at {k}x: " + ", ".join(f"{n} {v}" for n, v in c.items()))
    std = {s["step"]: s for s in report[args.copies]["steps"]}
    if "clean standard" in std and "features standard" in std:
        t = std["clean standard"]["seconds"] + std["features standard"]["seconds"]
        peak = max(std["clean standard"]["peak_mib"], std["features standard"]["peak_mib"])
        print(f"\nstandard clean + features at {args.copies}x: {t:.1f} s, peak {peak:.0f} MiB")
    (work / "report.json").write_text(json.dumps(report, indent=2))
    if bad:
        sys.exit("counts are not exactly K times:\n" + "\n".join(bad))
    print(f"every count checked at {k}x is exactly as expected from 1x "
          "(K times; parity's geographic filter from the 1x country table)")


if __name__ == "__main__":
    main()
