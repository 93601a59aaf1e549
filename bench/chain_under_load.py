#!/usr/bin/env python3
"""Reliability check (run by hand, not a test): the audit chains stay intact under load.

Three tenants, each with a scoped token, read a secret as fast as wrk can send (24
connections each, 20 s) while another process runs `keyhold-server kek rotate` on the same
data dir three times, committing into the same chains. Then every tenant's chain is
verified with GET /v1/audit/verify. The writer remembers each chain's head between events
and must notice the other process's commits (docs/operations.md); a stale head would show
here as ok: false.

    cargo build --release -p keyhold-server
    python3 bench/chain_under_load.py [--seconds 20]
"""
import argparse, os, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import secret_read as sr  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=20)
    a = ap.parse_args()
    sr.ensure_tools()
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(sr.ROOT, "target")), "release", "keyhold-server")
    if not os.path.exists(binary):
        raise SystemExit("build first: cargo build --release -p keyhold-server")
    tmp = tempfile.mkdtemp(prefix="kh-chain-")
    data = os.path.join(tmp, "kh")
    proc = subprocess.Popen([binary, "--data-dir", data, "--listen", "127.0.0.1:0", "--rate-limit-agent", "0"],
                            stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "log"), "w"), text=True)
    url = proc.stdout.readline().strip().removeprefix("listening on ")
    pw = "violet anchor quietly juggles seven kites"
    sessions, tokens = [], []
    try:
        for t in range(3):
            email = f"chain{t}@example.com"
            sr.http("POST", f"{url}/v1/auth/signup", {"email": email, "password": pw})
            s = sr.http("POST", f"{url}/v1/auth/login", {"email": email, "password": pw})["session_token"]
            sessions.append(s)
            sr.http("PUT", f"{url}/v1/secrets/production/gemini/API_KEY", {"value": "v" * 40}, s)
            k = sr.http("POST", f"{url}/v1/keys", {"name": "load", "scopes": ["secrets:read:production/gemini/*"]}, s)["secret"]
            tokens.append(sr.http("POST", f"{url}/v1/tokens", {"scopes": ["secrets:read:production/gemini/*"], "ttl": "1h"}, k)["token"])
        target = f"{url}/v1/secrets/production/gemini/API_KEY"
        wrks = [subprocess.Popen(["wrk", "-t1", "-c24", f"-d{a.seconds}s", "-H", f"Authorization: Bearer {tok}", target],
                                 stdout=subprocess.PIPE, text=True) for tok in tokens]
        time.sleep(a.seconds / 4)
        for _ in range(3):
            r = subprocess.run([binary, "--data-dir", data, "kek", "rotate"], capture_output=True, text=True, check=True)
            print("kek rotate beside the server:", r.stdout.strip().splitlines()[-1])
            time.sleep(a.seconds / 7)
        for t, w in enumerate(wrks):
            out = w.communicate()[0]
            print(f"tenant {t}:", " ".join(l.strip() for l in out.splitlines() if "requests in" in l or "Non-2xx" in l))
        bad = 0
        for t, s in enumerate(sessions):
            v = sr.http("GET", f"{url}/v1/audit/verify", None, s)
            print(f"tenant {t} chain: ok={v['ok']} checked={v['checked']} first_bad={v['first_bad']}")
            bad += not v["ok"]
        if bad:
            raise SystemExit(f"{bad} broken chain(s)")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
