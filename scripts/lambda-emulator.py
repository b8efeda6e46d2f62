#!/usr/bin/env python3
"""A local Lambda for the ETL function: the Lambda Invoke API and the
Lambda Runtime API on one loopback port, running the real `bootstrap`
binary as the function.

moto's Lambda does not run a function's code without Docker, so the tests
and the AWS development script play Lambda with this instead:

* `POST /2015-03-31/functions/<name>/invocations` (what the AWS SDK's
  Invoke sends) queues the payload and answers 202 with the request id in
  `x-amzn-RequestId` (`X-Amz-Invocation-Type: Event`), or waits for the
  result and answers 200 (`RequestResponse`);
* `GET /2018-06-01/runtime/invocation/next`, `POST .../<id>/response`,
  `.../<id>/error`, `/2018-06-01/runtime/init/error`: the Runtime API the
  `lambda_runtime` crate speaks;
* `GET /_emulator/results/<id>` waits for an invocation's end and answers
  `{"status": "ok"|"error", "body": ..., "seconds": s, "vmhwm_kb": k}`,
  the function process's peak resident memory so far.

Usage: lambda-emulator.py --bootstrap PATH [--port N] [--memory-mb M]
Prints `listening on <port>` on stdout once ready. The bootstrap inherits
the environment (AWS_ENDPOINT_URL, TABLERO_*_BUCKET, credentials).
"""

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PENDING = queue.Queue()
RESULTS = {}
STARTED = {}
DONE = threading.Condition()
CHILD = {"proc": None}
MEMORY_MB = 10240
TIMEOUT_S = 900


def vmhwm_kb():
    proc = CHILD["proc"]
    if proc is None:
        return None
    try:
        with open(f"/proc/{proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def finish(request_id, status, body):
    with DONE:
        RESULTS[request_id] = {
            "status": status,
            "body": body,
            "seconds": time.monotonic() - STARTED.get(request_id, time.monotonic()),
            "vmhwm_kb": vmhwm_kb(),
        }
        DONE.notify_all()


def wait_result(request_id, timeout):
    deadline = time.monotonic() + timeout
    with DONE:
        while request_id not in RESULTS:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            DONE.wait(left)
        return RESULTS[request_id]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; errors go to stderr below
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, code, body=b"", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/2018-06-01/runtime/invocation/next":
            request_id, payload = PENDING.get()
            STARTED[request_id] = time.monotonic()
            deadline_ms = int((time.time() + TIMEOUT_S) * 1000)
            self.reply(
                200,
                payload,
                {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:eu-west-1:123456789012:function:tablero-etl",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                },
            )
        elif self.path.startswith("/_emulator/results/"):
            request_id = self.path.rsplit("/", 1)[1]
            result = wait_result(request_id, TIMEOUT_S)
            if result is None:
                self.reply(504, {"error": "no result yet"})
            else:
                self.reply(200, result)
        elif self.path == "/_emulator/health":
            self.reply(200, {"ok": True})
        else:
            self.reply(404, {"message": f"no route {self.path}"})

    def do_POST(self):
        parts = self.path.split("/")
        body = self.body()
        if self.path.startswith("/2015-03-31/functions/") and self.path.endswith("/invocations"):
            request_id = str(uuid.uuid4())
            PENDING.put((request_id, body or b"{}"))
            kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            if kind == "Event":
                self.reply(202, b"", {"x-amzn-RequestId": request_id})
                return
            result = wait_result(request_id, TIMEOUT_S) or {"status": "error", "body": "timeout"}
            headers = {"x-amzn-RequestId": request_id, "Content-Type": "application/json"}
            if result["status"] != "ok":
                headers["X-Amz-Function-Error"] = "Unhandled"
            payload = result["body"]
            self.reply(200, json.dumps(payload).encode(), headers)
        elif self.path.startswith("/2018-06-01/runtime/invocation/") and parts[-1] in ("response", "error"):
            request_id = parts[-2]
            try:
                decoded = json.loads(body or b"null")
            except ValueError:
                decoded = body.decode("utf-8", "replace")
            finish(request_id, "ok" if parts[-1] == "response" else "error", decoded)
            if parts[-1] == "error":
                print(f"lambda-emulator: {request_id} failed: {decoded}", file=sys.stderr, flush=True)
            self.reply(202, {"status": "OK"})
        elif self.path == "/2018-06-01/runtime/init/error":
            print(f"lambda-emulator: init error: {body!r}", file=sys.stderr, flush=True)
            self.reply(202, {"status": "OK"})
        else:
            self.reply(404, {"message": f"no route {self.path}"})


def main():
    global MEMORY_MB, TIMEOUT_S
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--memory-mb", type=int, default=10240)
    ap.add_argument("--timeout-s", type=int, default=900)
    args = ap.parse_args()
    MEMORY_MB, TIMEOUT_S = args.memory_mb, args.timeout_s
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
            "AWS_LAMBDA_FUNCTION_NAME": "tablero-etl",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(args.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/tablero-etl",
        }
    )
    CHILD["proc"] = subprocess.Popen([args.bootstrap], env=env)

    def stop(signum, frame):
        CHILD["proc"].terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"listening on {port}", flush=True)
    try:
        code = CHILD["proc"].wait()
        print(f"lambda-emulator: bootstrap exited with {code}", file=sys.stderr, flush=True)
        sys.exit(1 if code else 0)
    except KeyboardInterrupt:
        CHILD["proc"].terminate()


if __name__ == "__main__":
    main()
