#!/usr/bin/env python3
"""Measures the ETL Lambda's handler: its time and peak memory (VmHWM of
the `bootstrap` process) for clean + features on the full Online Retail
file and on copies of it, run by scripts/lambda-emulator.py against a moto
server on this machine. The numbers set the handler's input limit
(crates/aws/src/etl.rs, docs/aws.md).

Run with the python that has moto (scripts/setup.sh's tablero_setup_moto):
  measure-lambda.py --bootstrap target/debug/bootstrap --csv online_retail.csv [--copies 1,10]

Copy k > 0 of the file rewrites CustomerID (+ k * 100000; a blank stays
blank) and InvoiceNo (+ k * 1000000, keeping a `C` prefix), so every copy
is new data, not duplicates the clean stage would drop.
"""
import argparse
import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
from moto.server import ThreadedMotoServer


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def replicate(path, copies):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    inv, cid = header.index("InvoiceNo"), header.index("CustomerID")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for k in range(copies):
        for r in body:
            if k:
                r = list(r)
                c = r[inv]
                prefix = "C" if c.startswith("C") else ""
                digits = c[1:] if prefix else c
                if digits.isdigit():
                    r[inv] = f"{prefix}{int(digits) + k * 1_000_000}"
                if r[cid].strip():
                    r[cid] = str(int(float(r[cid])) + k * 100_000)
            w.writerow(r)
    return out.getvalue().encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--copies", default="1,10")
    args = ap.parse_args()
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto.start()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION="us-east-1", AWS_ENDPOINT_URL=url, AWS_EC2_METADATA_DISABLED="true",
               TABLERO_RAW_BUCKET="m-raw", TABLERO_CLEAN_BUCKET="m-clean", TABLERO_MODELS_BUCKET="m-models")
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    for b in ("m-raw", "m-clean", "m-models"):
        s3.create_bucket(Bucket=b)
    print("| input | lines | MB | seconds | peak RSS MB | MB per input MB |")
    print("|---|---|---|---|---|---|")
    for copies in [int(c) for c in args.copies.split(",")]:
        data = replicate(args.csv, copies)
        key = f"x{copies}.csv"
        s3.put_object(Bucket="m-raw", Key=key, Body=data)
        # A fresh function process per size: its peak is this run's.
        emu = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "lambda-emulator.py"),
                                "--bootstrap", args.bootstrap], env=env, stdout=subprocess.PIPE, text=True)
        line = emu.stdout.readline().strip()
        lport = line.rsplit(" ", 1)[1]
        event = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "m-raw"}, "object": {"key": key}}}]}
        req = urllib.request.Request(f"http://127.0.0.1:{lport}/2015-03-31/functions/etl/invocations",
                                     data=json.dumps(event).encode(), headers={"X-Amz-Invocation-Type": "Event"})
        with urllib.request.urlopen(req) as r:
            rid = r.headers["x-amzn-RequestId"]
        with urllib.request.urlopen(f"http://127.0.0.1:{lport}/_emulator/results/{rid}", timeout=1800) as r:
            res = json.load(r)
        emu.terminate()
        emu.wait()
        job = res["body"]["jobs"][0] if res["status"] == "ok" else {"status": "error", "error": res["body"]}
        assert job["status"] == "succeeded", job
        mb = len(data) / 1e6
        peak = res["vmhwm_kb"] / 1024
        lines = data.count(b"\n") - 1
        print(f"| ×{copies} | {lines:,} | {mb:.0f} | {res['seconds']:.1f} | {peak:.0f} | {peak / mb:.2f} |", flush=True)
    moto.stop()


if __name__ == "__main__":
    main()
