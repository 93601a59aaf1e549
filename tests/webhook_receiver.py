#!/usr/bin/env python3
"""A webhook receiver for the end-to-end tests: a real HTTP server that checks every
delivery with the `standardwebhooks` package from PyPI (an implementation nobody in this
project wrote) and records what it saw.

Usage: webhook_receiver.py DIR. Prints "listening on PORT" once ready. Reads on every
request (so the test can change them at any time):
  DIR/secrets  one whsec_ secret per line: each is tried on its own, and the record
               lists which ones verify the delivery;
  DIR/mode     how to answer: "200" (default), "500", "sleep:SECONDS" (answer 200 after
               that long), "hang-first:SECONDS" (sleep only on the very first request),
               "redirect" (302 to /elsewhere on this receiver).
Appends one JSON line per request to DIR/received.jsonl: headers, body, verified_by.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

DIR = sys.argv[1]
LOCK = threading.Lock()
SEEN = {"n": 0}


def read(name, default=""):
    try:
        with open(os.path.join(DIR, name)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return default


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified_by, errors = [], []
        for i, secret in enumerate(s for s in read("secrets").splitlines() if s):
            try:
                Webhook(secret).verify(body, headers)
                verified_by.append(i)
            except Exception as e:  # the library's own verdict, recorded for the test
                errors.append(f"{i}: {type(e).__name__}: {e}")
        with LOCK:
            SEEN["n"] += 1
            first = SEEN["n"] == 1
            with open(os.path.join(DIR, "received.jsonl"), "a") as f:
                f.write(json.dumps({
                    "path": self.path,
                    "headers": headers,
                    "body": body.decode("utf-8", "replace"),
                    "verified_by": verified_by,
                    "errors": errors,
                }) + "\n")
        mode = read("mode", "200")
        status = 200
        if mode == "500":
            status = 500
        elif mode == "redirect":
            status = 302
        elif mode.startswith("sleep:"):
            time.sleep(float(mode.split(":")[1]))
        elif mode.startswith("hang-first:") and first:
            time.sleep(float(mode.split(":")[1]))
        reply = b'{"ok": true}' if status == 200 else b"receiver failing on purpose"
        try:
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            if status == 302:
                self.send_header("location", "/elsewhere")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
