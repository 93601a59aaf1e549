#!/usr/bin/env python3
"""Soak benchmark (run by hand, not a test): hold 80% of the maximum secret-read rate.

1. Starts the release keyhold-server and sets up a scoped token exactly as
   bench/secret_read.py does (same setup code, imported).
2. Finds the maximum rate of GET /v1/secrets/production/gemini/API_KEY with wrk
   (median of --probe-rounds runs of --probe-seconds each).
3. Holds --load (default 0.8) of that rate for SOAK_SECONDS (default 600) with an
   open-loop generator: request k is due at t0 + k/rate whether or not earlier ones have
   answered, so a stalled server shows up as latency and lag instead of a lower send
   rate. Latency is measured from the moment a request was due.
4. Samples the server's RSS (VmRSS from /proc) every --sample-seconds and reports errors
   (goal: 0), the achieved rate, latency percentiles and RSS over time (goal: flat).

    cargo build --release -p keyhold-server
    SOAK_SECONDS=600 python3 bench/soak.py            # the full run
    SOAK_SECONDS=90 python3 bench/soak.py              # a quick check that it works

Exit status 1 when any request failed or the generator fell more than 5% behind.
"""
import argparse, asyncio, os, resource, shutil, statistics, subprocess, sys, tempfile, time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from secret_read import run_wrk, start_keyhold  # noqa: E402  (shared setup)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("server process is gone")


class Stats:
    def __init__(self):
        self.ok = 0
        self.errors = {}
        self.latencies = []

    def error(self, kind):
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def read_response(reader):
    """Status and whether the server keeps the connection (HTTP/1.1, Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for h in lines[1:]:
        name, _, value = h.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    await reader.readexactly(length)
    return status, close


async def worker(host, port, request, schedule, stats, t_end):
    """One keep-alive connection taking the next due request from the shared schedule."""
    reader = writer = None
    while True:
        due = schedule.next_due()
        if due >= t_end:
            break
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            status, close = await read_response(reader)
            if status == 200:
                stats.ok += 1
                stats.latencies.append(time.monotonic() - due)
            else:
                stats.error(f"HTTP {status}")
            if close:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            stats.error(type(e).__name__)
            if writer is not None:
                writer.close()
            writer = None
    if writer is not None:
        writer.close()


class Schedule:
    """Request k is due at t0 + k / rate (open loop)."""

    def __init__(self, t0, rate):
        self.t0, self.rate, self.k = t0, rate, 0

    def next_due(self):
        due = self.t0 + self.k / self.rate
        self.k += 1
        return due


async def sampler(pid, interval, t0, t_end, stats, samples):
    await asyncio.sleep(max(0.0, t0 - time.monotonic()))
    while time.monotonic() < t_end:
        elapsed = time.monotonic() - t0
        samples.append((elapsed, rss_kib(pid), stats.ok, sum(stats.errors.values())))
        await asyncio.sleep(interval)
    samples.append((time.monotonic() - t0, rss_kib(pid), stats.ok, sum(stats.errors.values())))


async def hold(pid, url, headers, rate, seconds, connections, interval):
    u = urlsplit(url)
    lines = [f"GET {u.path} HTTP/1.1", f"Host: {u.netloc}"] + headers
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    stats, samples = Stats(), []
    t0 = time.monotonic() + 0.5
    t_end = t0 + seconds
    schedule = Schedule(t0, rate)
    tasks = [worker(u.hostname, u.port, request, schedule, stats, t_end) for _ in range(connections)]
    await asyncio.gather(sampler(pid, interval, t0, t_end, stats, samples), *tasks)
    # Requests due before t_end but answered late (a backlog) finish after it.
    return stats, samples, time.monotonic() - t0


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
    ap.add_argument("--connections", type=int, default=16, help="wrk probe and soak connections")
    ap.add_argument("--sample-seconds", type=float, default=10)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)

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
        print(f"soak: {rate:.0f} req/s for {a.seconds} s over {a.connections} connections, RSS every {a.sample_seconds:g} s")
        rss_before = rss_kib(proc.pid)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        stats, samples, elapsed = asyncio.run(
            hold(proc.pid, url, headers, rate, a.seconds, a.connections, a.sample_seconds))

        print("\n  time(s)   RSS(MiB)   ok so far   errors so far")
        for t, rss, ok, err in samples:
            print(f"  {t:7.0f}   {rss / 1024:8.1f}   {ok:9d}   {err:13d}")
        lat = sorted(stats.latencies)
        total = stats.ok + sum(stats.errors.values())
        achieved = total / elapsed
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        gen_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        rss = [s[1] / 1024 for s in samples]
        slope = slope_mib_per_min(samples)
        print(f"\nrequests: {total} in {elapsed:.0f} s ({achieved:.0f} req/s achieved of {rate:.0f} scheduled), "
              f"ok {stats.ok}, errors {sum(stats.errors.values())} {stats.errors or ''}")
        print(f"load generator CPU: {gen_cpu:.0f} s ({gen_cpu / elapsed:.0%} of one core); "
              f"load average now {os.getloadavg()[0]:.1f}")
        if lat:
            print(f"latency from due time: p50 {pct(lat, 0.5):.2f} ms, p99 {pct(lat, 0.99):.2f} ms, "
                  f"p99.9 {pct(lat, 0.999):.2f} ms, max {lat[-1] * 1000:.1f} ms")
        print(f"RSS: {rss_before / 1024:.1f} MiB before, min {min(rss):.1f}, max {max(rss):.1f}, "
              f"end {rss[-1]:.1f} MiB; slope over the second half {slope:+.2f} MiB/min")
        failed = bool(stats.errors) or achieved < 0.95 * rate
        print("goal errors = 0:", "met" if not stats.errors else "NOT met")
        print("goal rate held (>= 95% of scheduled):", "met" if achieved >= 0.95 * rate else "NOT met")
        return 1 if failed else 0
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
