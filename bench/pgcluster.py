"""A throwaway PostgreSQL cluster for the benchmarks (bench/secret_read.py --store postgres).

Made the way crates/pgtest/src/lib.rs makes the tests' clusters (Debian's package, binaries
in /usr/lib/postgresql/*/bin, initdb and pg_ctl as the `postgres` user when run as root,
in a temporary directory chowned to it, a free loopback port, the unix socket in that
directory, trust authentication), with one difference that matters here: durability is
left on. fsync and synchronous_commit keep their defaults (on), so every commit waits for
its WAL flush, as in production. The tests turn fsync off; a benchmark must not.
"""
import glob, os, shutil, socket, subprocess, tempfile, time

TICK = os.sysconf("SC_CLK_TCK")


def find_bin():
    """The newest major version's bin directory under /usr/lib/postgresql."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise SystemExit("no PostgreSQL under /usr/lib/postgresql/*/bin: apt-get install postgresql")
    return os.path.dirname(found[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, max_connections=200, statements=False):
        self.bin = find_bin()
        self.as_postgres = os.geteuid() == 0
        self.dir = tempfile.mkdtemp(prefix="kh-bench-pg-")
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = os.path.join(self.dir, "data")
        self.port = None
        self.initdb()
        self.start(max_connections, statements)

    def command(self, tool, *args):
        exe = os.path.join(self.bin, tool)
        return (["runuser", "-u", "postgres", "--", exe] if self.as_postgres else [exe]) + list(args)

    def initdb(self):
        subprocess.run(self.command("initdb", "-D", self.data, "--auth=trust", "-U", "postgres",
                                    "-E", "UTF8", "--locale=C", "--no-instructions"),
                       check=True, capture_output=True)

    def start(self, max_connections, statements):
        """pg_ctl start on a free port; a few tries, as another process may take the port."""
        options = f"-k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}"
        if statements:
            options += " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
        for _ in range(3):
            self.port = free_port()
            r = subprocess.run(self.command("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"),
                                            "-w", "-t", "60", "-o", f"-p {self.port} {options}", "start"),
                               capture_output=True, text=True)
            if r.returncode == 0:
                return
        raise SystemExit(f"pg_ctl start failed: {r.stderr.strip()}\n{self.log_tail()}")

    def log_tail(self, lines=10):
        try:
            return "".join(open(os.path.join(self.dir, "log")).readlines()[-lines:])
        except OSError:
            return ""

    def url(self, role, db):
        return f"postgres://{role}@127.0.0.1:{self.port}/{db}?sslmode=disable"

    def psql(self, db, sql=None, file=None, role="postgres"):
        """Run SQL (or a file) as `role` on `db`; the rows, tab-separated, as text."""
        cmd = [os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
               "-d", self.url(role, db)] + (["-f", file] if file else ["-c", sql])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"psql on {db} failed: {r.stderr.strip()}")
        return r.stdout

    def postmaster(self):
        return int(open(os.path.join(self.data, "postmaster.pid")).readline())

    def cpu_seconds(self):
        """CPU time of the whole cluster so far: the postmaster's own and that of the children
        it has reaped (cutime + cstime: backends that exited), plus every live child's. A
        backend that exits between two readings moves from the second sum to the first with
        all its time, so the difference of two readings is exactly what was spent between."""
        pm = self.postmaster()
        f = stat_fields(pm)
        total = sum(int(x) for x in f[11:15])
        for pid in children(pm):
            try:
                c = stat_fields(pid)
            except OSError:  # exited between the listing and the read: in cutime next time
                continue
            total += int(c[11]) + int(c[12])
        return total / TICK

    def reset_statements(self):
        """Zero pg_stat_statements and the WAL statistics (needs statements=True)."""
        self.psql("postgres", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        self.psql("postgres", "SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')")

    def statements(self, limit=20):
        """(calls, mean ms, database, query) of the most called statements since the reset."""
        out = self.psql("postgres", "SELECT s.calls, round(s.mean_exec_time::numeric, 3), d.datname, "
                        "regexp_replace(s.query, '\\s+', ' ', 'g') FROM pg_stat_statements s "
                        f"JOIN pg_database d ON d.oid = s.dbid ORDER BY s.calls DESC LIMIT {limit}")
        return [line.split("\t", 3) for line in out.splitlines() if line]

    def wal_syncs(self):
        """WAL flushes since the reset. Backends report their statistics at most once a
        second, and an idle one only after 10 s, so read this only after waiting that long."""
        return int(self.psql("postgres", "SELECT wal_sync FROM pg_stat_wal"))

    def stop(self):
        subprocess.run(self.command("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"), capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (field 3, state, is index 0)."""
    return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()


def children(ppid):
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if int(stat_fields(d)[1]) == ppid:
                    pids.append(int(d))
            except (OSError, IndexError):
                continue
    return pids


def wait_for(check, what, timeout=60):
    end = time.time() + timeout
    while True:
        try:
            return check()
        except Exception as e:
            if time.time() > end:
                raise SystemExit(f"{what}: {e}")
            time.sleep(0.2)
