"""What the wrk-based benchmarks share: running wrk's output through one parser, marking
figures from runs with errors, the machine and commit lines, writing a section of
docs/BENCHMARKS.md, the local PostgreSQL and a process's /proc status."""

import datetime
import os
import platform
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

WARN = "⚠"
SOCKET_KINDS = ("connect", "read", "write", "timeout")


def unit_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}[unit]


def parse_wrk(out):
    """The figures of one wrk run's output (`--latency`); raises when it has none."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    total = re.search(r"^\s*(\d+) requests in ", out, re.M)
    if not rps or not total:
        raise RuntimeError(f"no figures in wrk's output:\n{out}")
    lat = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+[a-z]+)\s*$", out, re.M))

    def ms(key):
        if key not in lat:
            return float("nan")
        m = re.match(r"([\d.]+)([a-z]+)", lat[key])
        return unit_ms(m.group(1), m.group(2))

    non2xx = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", out, re.M)
    errors = re.search(r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out, re.M)
    socket = dict(zip(SOCKET_KINDS, (int(g) for g in errors.groups()))) if errors else \
        dict.fromkeys(SOCKET_KINDS, 0)
    refresh = re.search(r"^refresh tokens: sent (\d+), new ones received (\d+), "
                        r"requests without a token (\d+)", out, re.M)
    r = {"rps": float(rps.group(1)), "p50": ms("50"), "p99": ms("99"),
         "requests": int(total.group(1)),
         "non2xx": int(non2xx.group(1)) if non2xx else 0,
         "socket": socket, "socket_errors": sum(socket.values())}
    if refresh:
        r["tokens"] = {"sent": int(refresh.group(1)), "received": int(refresh.group(2)),
                       "lacking": int(refresh.group(3))}
    return r


def flagged(r):
    return r["non2xx"] > 0 or r["socket_errors"] > 0


def socket_text(r):
    return ", ".join(f"{k} {r['socket'][k]}" for k in SOCKET_KINDS)


def warning(r):
    return (f"this run had {r['non2xx']:,} non-2xx responses / {r['socket_errors']:,} socket errors "
            f"({socket_text(r)}): the figure is not trustworthy")


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def shut(server):
    """Stops `server` (SIGTERM), or kills it if it does not stop; leaves no process behind."""
    if server is None or server.proc.poll() is not None:
        return
    try:
        server.stop()
    except subprocess.TimeoutExpired:
        server.kill()


def verdict(ok):
    return "met" if ok else "**not met**"


def machine_lines():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return [f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
            f"- Machine: {os.cpu_count()} CPUs ({cpu}), {mem_gib:.1f} GiB, {platform.system()}"]


def git_commit():
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip() or "unknown"


def write_section(text, begin, end, after=None):
    """Replaces the section between `begin` and `end` of docs/BENCHMARKS.md, or adds it
    right after the marker `after` (if present), else at the end."""
    path = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    doc = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + text + doc[doc.index(end) + len(end):]
    elif after and after in doc:
        at = doc.index(after) + len(after)
        doc = doc[:at] + "\n\n" + text + doc[at:]
    else:
        doc = doc.rstrip() + "\n\n" + text + "\n"
    with open(path, "w") as f:
        f.write(doc)


def proc_status(pid, key):
    """A /proc/PID/status figure (VmRSS, VmHWM, ...) in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def psql(sql, db="postgres", check=True, capture=False):
    """One statement on the local PostgreSQL; its output when `capture`."""
    run = subprocess.run(["psql", "-q", "-At", "-h", "127.0.0.1", "-U", "postgres", "-d", db,
                          "-c", sql], check=check, capture_output=capture, text=True)
    return run.stdout.strip() if capture else None


def pg_url(db):
    return f"postgres://postgres@127.0.0.1:5432/{db}"
