#!/usr/bin/env python3
"""Benchmark (run by hand, not a test): do agent secret reads keep their latency while 200
connections flood POST /v1/auth/login?

For each scenario a fresh keyhold-server is started; then, per round:
  1. idle:  wrk -c8 on GET /v1/secrets/... with a scoped token -> p99;
  2. flood: wrk -c200 POSTing a correct sign-in to /v1/auth/login (a Lua script), and,
            while it runs, the same read measurement -> p99 and the flood's status mix.
The goal is flood p99 <= 2x idle p99. Medians over the rounds are reported.

Scenarios (--scenarios, comma-separated; the per-token agent limit is off in all of them):
  defaults      the shipped limits (per-address and per-account buckets turn most of the
                flood into held-back 429s before any hashing);
  unlimited     rate limits off, hash queue default: every sign-in reaches argon2, only the
                hashing semaphore and its bounded queue stand between the flood and reads;
  unlimited-allcores  the same with hashing on every core (--hash-concurrency = CPUs, the
                default before this benchmark; now it is CPUs - 1);
  unbounded     rate limits off and a hash queue of 100000: what the queue bound buys.

    cargo build --release -p keyhold-server
    python3 bench/login_flood.py [--rounds 3] [--duration 10] [--scenarios defaults,unlimited,unlimited-allcores,unbounded]

Needs wrk (apt-get install wrk; installed if missing).
"""
import argparse, json, os, re, shutil, statistics, subprocess, tempfile, threading, time
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from secret_read import http, to_ms  # noqa: E402  (one JSON client, one parser for wrk's latencies)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "violet anchor quietly juggles seven kites"

# The per-token limit is off everywhere: this measures what the flood does to reads, and
# the reads themselves run faster than one token's default budget.
READS = ["--rate-limit-agent", "0"]
SCENARIOS = {
    "defaults": READS,
    "unlimited": READS + ["--rate-limit-anonymous", "0", "--rate-limit-login", "0"],
    "unlimited-allcores": READS + ["--rate-limit-anonymous", "0", "--rate-limit-login", "0",
                                   "--hash-concurrency", str(os.cpu_count())],
    "unbounded": READS + ["--rate-limit-anonymous", "0", "--rate-limit-login", "0", "--hash-queue", "100000"],
}

FLOOD_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email": "%s", "password": "%s"}'
"""


def wrk(args):
    out = subprocess.run(["wrk", "--latency", "--timeout", "10s"] + args, capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def start(binary, tmp, extra):
    data = tempfile.mkdtemp(dir=tmp)
    proc = subprocess.Popen([binary, "--data-dir", data, "--listen", "127.0.0.1:0"] + extra,
                            stdout=subprocess.PIPE, stderr=open(os.path.join(data, "log"), "w"), text=True)
    url = proc.stdout.readline().strip().removeprefix("listening on ")
    email = "flood@example.com"
    http("POST", f"{url}/v1/auth/signup", {"email": email, "password": PASSWORD})
    session = http("POST", f"{url}/v1/auth/login", {"email": email, "password": PASSWORD})["session_token"]
    http("PUT", f"{url}/v1/secrets/production/gemini/API_KEY", {"value": "AIza" + "x" * 35}, session)
    key = http("POST", f"{url}/v1/keys", {"name": "bench", "scopes": ["secrets:read:production/*"]}, session)["secret"]
    token = http("POST", f"{url}/v1/tokens", {"scopes": ["secrets:read:production/*"], "ttl": "24h"}, key)["token"]
    lua = os.path.join(data, "flood.lua")
    with open(lua, "w") as f:
        f.write(FLOOD_LUA % (email, PASSWORD))
    return proc, url, token, lua


def read_args(url, token, duration):
    return ["-t1", "-c8", f"-d{duration}s", "-H", f"Authorization: Bearer {token}",
            f"{url}/v1/secrets/production/gemini/API_KEY"]


def scenario(binary, tmp, name, rounds, duration):
    proc, url, token, lua = start(binary, tmp, SCENARIOS[name])
    rows = []
    try:
        for r in range(rounds):
            idle = wrk(read_args(url, token, duration))
            flood = {}
            # The flood starts first and outlasts the measurement on both ends.
            t = threading.Thread(target=lambda: flood.update(
                wrk(["-t1", "-c200", f"-d{duration + 4}s", "-s", lua, f"{url}/v1/auth/login"]) ))
            t.start()
            time.sleep(2)
            loaded = wrk(read_args(url, token, duration))
            t.join()
            rows.append((idle, loaded, flood))
            print(f"  {name} round {r + 1}: read p99 idle {idle['p99']:.2f} ms, under flood {loaded['p99']:.2f} ms "
                  f"(x{loaded['p99'] / idle['p99']:.2f}); reads {idle['rps']:.0f} -> {loaded['rps']:.0f} req/s, "
                  f"read errors {loaded['non2xx']}; flood {flood['rps']:.0f} req/s, {flood['non2xx']} of {flood['requests']} non-2xx",
                  flush=True)
    finally:
        proc.terminate()
        proc.wait()
    med = lambda f: statistics.median(f(x) for x in rows)
    return {
        "idle_p99": med(lambda x: x[0]["p99"]),
        "flood_p99": med(lambda x: x[1]["p99"]),
        "ratio": med(lambda x: x[1]["p99"] / x[0]["p99"]),
        "idle_rps": med(lambda x: x[0]["rps"]),
        "flood_rps": med(lambda x: x[1]["rps"]),
        "read_errors": med(lambda x: x[1]["non2xx"]),
        "login_rps": med(lambda x: x[2]["rps"]),
        "login_refused": med(lambda x: x[2]["non2xx"] / max(1, x[2]["requests"])),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--scenarios", default="defaults,unlimited,unlimited-allcores")
    ap.add_argument("--binary", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "keyhold-server"))
    a = ap.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if not os.path.exists(a.binary):
        raise SystemExit("build first: cargo build --release -p keyhold-server")
    with open("/proc/cpuinfo") as f:
        model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {model}; load average {os.getloadavg()[0]:.1f}; binary {a.binary}")
    tmp = tempfile.mkdtemp(prefix="kh-flood-")
    results = {}
    try:
        for name in a.scenarios.split(","):
            results[name] = scenario(a.binary, tmp, name, a.rounds, a.duration)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nmedians: scenario | read p99 idle | read p99 under flood | ratio | reads/s idle -> flood | read errors | sign-ins/s | sign-ins refused")
    for name, m in results.items():
        print(f"  {name:10} | {m['idle_p99']:.2f} ms | {m['flood_p99']:.2f} ms | x{m['ratio']:.2f} | "
              f"{m['idle_rps']:.0f} -> {m['flood_rps']:.0f} | {m['read_errors']:.0f} | {m['login_rps']:.0f} | {m['login_refused']:.0%}")


if __name__ == "__main__":
    main()
