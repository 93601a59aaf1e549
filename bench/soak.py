#!/usr/bin/env python3
"""Soak benchmark (run by hand, not a test): hold 80% of the maximum secret-read rate.

1. Starts the release keyhold-server and sets up a scoped token exactly as
   bench/secret_read.py does (same setup code, imported).
2. Finds the maximum rate of GET /v1/secrets/production/gemini/API_KEY with wrk
   (median of --probe-rounds runs of --probe-seconds each).
3. Holds --load (default 0.8) of that rate for SOAK_SECONDS (default 600) with an
   open-loop generator, oha with --latency-correction (installed with cargo when
   missing): request k is due at t0 + k/rate whether or not earlier ones have answered,
   so a stalled server shows up as latency and lag instead of a lower send rate.
   Latency is measured from the moment a request was due.
4. Samples the server's RSS (VmRSS from /proc) every --sample-seconds and reports errors
   (goal: 0), the achieved rate, latency percentiles and RSS over time (goal: flat).

    cargo build --release -p keyhold-server
    SOAK_SECONDS=600 python3 bench/soak.py            # the full run
    SOAK_SECONDS=90 python3 bench/soak.py              # a quick check that it works

Exit status 1 when any request failed or the generator fell more than 5% behind.
"""
import argparse, json, os, re, resource, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from secret_read import run_wrk, start_keyhold  # noqa: E402  (shared setup)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("server process is gone")


def ensure_oha():
    """oha (crates.io) is the open-loop generator: Python could not keep up with the rates a
    quiet machine serves (tens of thousands per second)."""
    if not shutil.which("oha"):
        subprocess.run(["cargo", "install", "oha", "--locked"], check=True)


def server_cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hold(pid, url, headers, rate, seconds, connections, interval):
    """Run oha at a fixed rate with latency correction (request k is due at t0 + k/rate
    whatever happened before, and its latency counts from that due time, so a stalled
    server shows as latency, not as a quietly lower rate), sampling the server meanwhile.
    Returns oha's JSON report and the samples (elapsed s, RSS KiB, server CPU s)."""
    args = ["oha", "--no-tui", "--output-format", "json", "-z", f"{seconds}s", "-q", f"{rate:.0f}",
            "-c", str(connections), "--latency-correction", "-w"]
    for h in headers:
        args += ["-H", h]
    out = tempfile.TemporaryFile(mode="w+")
    t0 = time.monotonic()
    gen = subprocess.Popen(args + [url], stdout=out)
    samples = []
    while gen.poll() is None:
        samples.append((time.monotonic() - t0, rss_kib(pid), server_cpu_seconds(pid)))
        try:
            gen.wait(timeout=interval)
        except subprocess.TimeoutExpired:
            pass
    samples.append((time.monotonic() - t0, rss_kib(pid), server_cpu_seconds(pid)))
    if gen.returncode != 0:
        raise SystemExit(f"oha failed with status {gen.returncode}")
    out.seek(0)
    return json.load(out), samples, time.monotonic() - t0


def histograms(base):
    """The server's own view from /metrics: for each histogram, count, mean and how many
    observations exceeded a few thresholds (s). Where the delay was: inside the server
    (request duration), in the store (commits, checkpoints) or outside both (queued
    before the server read the request, or in the load generator)."""
    text = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    series = {}
    for line in text.splitlines():
        m = re.match(r'(keyhold_\w+?)_(bucket|count|sum)(\{.*\})? (\S+)$', line)
        if not m:
            continue
        name, kind, value = m.group(1), m.group(2), float(m.group(4))
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        le = labels.pop("le", None)
        key = name + "".join(f" {k}={v}" for k, v in sorted(labels.items()))
        s = series.setdefault(key, {"buckets": []})
        if kind == "bucket":
            s["buckets"].append((float(le), value))
        else:
            s[kind] = value
    out = []
    for key, s in sorted(series.items()):
        if not s.get("count") or not s["buckets"]:
            continue
        over = lambda t: s["count"] - max((c for le, c in s["buckets"] if le <= t), default=0)
        unit = "" if "jobs" in key else " s"
        out.append(f"  {key}: {s['count']:.0f}, mean {s['sum'] / s['count']:.4g}{unit}"
                   + ("" if "jobs" in key else
                      f"; over 10 ms {over(0.01):.0f}, over 100 ms {over(0.1):.0f}, over 1 s {over(1.0):.0f}"))
    return out


def pct(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))] * 1000


def slope_mib_per_min(samples):
    """Least-squares slope of RSS over the second half of the run (after warm-up)."""
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    if len(half) < 2:
        return 0.0
    xs = [s[0] / 60 for s in half]
    ys = [s[1] / 1024 for s in half]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "600")))
    ap.add_argument("--load", type=float, default=0.8, help="fraction of the maximum rate to hold")
    ap.add_argument("--rate", type=float, help="skip the probe and hold this many req/s")
    ap.add_argument("--probe-seconds", type=int, default=10)
    ap.add_argument("--probe-rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=16, help="wrk probe connections")
    # More than the probe's: an open loop needs spare connections to absorb a slow answer
    # without the schedule backing up behind it.
    ap.add_argument("--soak-connections", type=int, default=64, help="oha connections during the soak")
    ap.add_argument("--sample-seconds", type=float, default=10)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    ensure_oha()

    tmp = tempfile.mkdtemp(prefix="kh-soak-")
    proc, url, headers = start_keyhold(tmp)
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
        print(f"machine: {os.cpu_count()} cores, {model}; load average {os.getloadavg()[0]:.1f}")
        if a.rate:
            rate = a.rate
        else:
            probes = []
            for r in range(a.probe_rounds):
                res = run_wrk(proc.pid, url, headers, a.probe_seconds, a.connections)
                probes.append(res["rps"])
                print(f"probe {r + 1}: {res['rps']:.0f} req/s (p99 {res['p99']:.1f} ms, non-2xx {res['errors']})")
            peak = statistics.median(probes)
            rate = peak * a.load
            print(f"maximum (median of {a.probe_rounds}): {peak:.0f} req/s -> holding {a.load:.0%} = {rate:.0f} req/s")
        print(f"soak: {rate:.0f} req/s for {a.seconds} s over {a.soak_connections} connections, RSS every {a.sample_seconds:g} s")
        rss_before = rss_kib(proc.pid)
        report, samples, elapsed = hold(proc.pid, url, headers, rate, a.seconds, a.soak_connections, a.sample_seconds)
        gen = resource.getrusage(resource.RUSAGE_CHILDREN)

        print("\n  time(s)   RSS(MiB)   server CPU (cores)")
        prev = None
        for t, rss, cpu in samples:
            cores = "" if prev is None or t == prev[0] else f"{(cpu - prev[1]) / (t - prev[0]):.2f}"
            print(f"  {t:7.0f}   {rss / 1024:8.1f}   {cores:>8}")
            prev = (t, cpu)
        codes = {int(k): v for k, v in report.get("statusCodeDistribution", {}).items()}
        failures = dict(report.get("errorDistribution", {}))
        ok = codes.get(200, 0)
        bad_status = {k: v for k, v in codes.items() if k != 200}
        errors = sum(bad_status.values()) + sum(failures.values())
        total = ok + errors
        achieved = total / elapsed
        rss = [s[1] / 1024 for s in samples]
        slope = slope_mib_per_min(samples)
        print(f"\nrequests: {total} in {elapsed:.0f} s ({achieved:.0f} req/s achieved of {rate:.0f} scheduled), "
              f"ok {ok}, errors {errors} {bad_status or ''} {failures or ''}")
        print(f"load generator (oha) CPU: {gen.ru_utime + gen.ru_stime:.0f} s; load average now {os.getloadavg()[0]:.1f}")
        lat = report.get("latencyPercentiles", {})
        if lat:
            ms = lambda k: (lat.get(k) or 0) * 1000
            print(f"latency from due time: p50 {ms('p50'):.2f} ms, p99 {ms('p99'):.2f} ms, "
                  f"p99.9 {ms('p99.9'):.2f} ms, max {report['summary']['slowest'] * 1000:.1f} ms")
        print(f"RSS: {rss_before / 1024:.1f} MiB before, min {min(rss):.1f}, max {max(rss):.1f}, "
              f"end {rss[-1]:.1f} MiB; slope over the second half {slope:+.2f} MiB/min")
        print("server's own histograms (/metrics, whole run including the probe):")
        for line in histograms(url.split("/v1/")[0]):
            print(line)
        failed = errors > 0 or achieved < 0.95 * rate
        print("goal errors = 0:", "met" if not errors else "NOT met")
        print("goal rate held (>= 95% of scheduled):", "met" if achieved >= 0.95 * rate else "NOT met")
        return 1 if failed else 0
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
