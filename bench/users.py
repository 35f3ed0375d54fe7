#!/usr/bin/env python3
"""Users API benchmark: seed users through bulk create, then drive 64 connections with wrk
against the hot endpoints, each beside GET /healthz (the ceiling) in the same run, on
SQLite and on PostgreSQL. Records the server's idle and peak resident memory.

Usage: bench/users.py [--write] [--backends sqlite,postgres] [--users 100000]
                      [--duration 10] [--connections 64] [--bin target/release/roster]
Runs outside CI; traffic goes to 127.0.0.1 only; every wrk run is bounded by --duration.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from roster_harness import Roster  # noqa: E402

BEGIN = "<!-- bench/users.py: begin -->"
END = "<!-- bench/users.py: end -->"

LUA_COMMON = """
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local n = 0
function setup(thread) n = n + 1; thread:set("tid", n) end
"""

# Requests are formatted once per thread, in a shuffled cycle, so the load generator
# spends its CPU on sending rather than on building strings (it shares the cores).
LUA_CYCLE = """
local reqs, i = {}, 0
function request() i = i % #reqs + 1; return reqs[i] end
local function prepare(paths, seed)
  math.randomseed(seed)
  for k = #paths, 2, -1 do local j = math.random(k); paths[k], paths[j] = paths[j], paths[k] end
  for k = 1, math.min(#paths, 20000) do reqs[k] = wrk.format("GET", paths[k]) end
end
"""



def lua_cycle(env, path_prefix, seed):
    """A script cycling through GETs of `path_prefix` + each line of the file in `env`."""
    return LUA_COMMON + LUA_CYCLE + f"""
function init(args)
  local paths = {{}}
  for line in io.lines(os.getenv("{env}")) do paths[#paths + 1] = "{path_prefix}" .. line end
  prepare(paths, tid * {seed})
end
"""


LUA = {
    "get_by_id": lua_cycle("BENCH_IDS", "/cis/v1/users/", 7919),
    "get_by_email": lua_cycle("BENCH_EMAILS", "/cis/v1/users/email/", 104729),
    "create": LUA_COMMON + """
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local run = os.getenv("BENCH_RUN")
function request()
  counter = counter + 1
  local body = string.format('{"email":"w%s-%d-%d@bench.example","name":{"first_name":"Bench"}}',
                             run, tid, counter)
  return wrk.format("POST", "/cis/v1/users", nil, body)
end
""",
    # Fixed requests: wrk sends its one prepared request when there is no request().
    "list": LUA_COMMON + 'wrk.path = "/cis/v1/users?page_limit=100"\n',
    "count": LUA_COMMON + 'wrk.path = "/cis/v1/users/count"\n',
    "healthz": 'wrk.path = "/healthz"\n',
}

LABELS = {
    "healthz": "`GET /healthz` (ceiling)",
    "get_by_id": "`GET /v1/users/{id}`",
    "get_by_email": "`GET /v1/users/email/{email}`",
    "create": "`POST /v1/users`",
    "list": "`GET /v1/users?page_limit=100`",
    "count": "`GET /v1/users/count`",
}


def unit_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(base, script, env, duration, connections):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", path, base],
            env={**os.environ, **env}, capture_output=True, text=True,
            timeout=duration + 60).stdout
    finally:
        os.unlink(path)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))

    def ms(key):
        m = re.match(r"([\d.]+)(\w+)", lat[key])
        return unit_ms(m.group(1), m.group(2))

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1).strip() if errors else "none", "requests": total}


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def seed(server, token, users):
    """Bulk-creates `users` users, 1000 per request; returns (seconds, ids, emails)."""
    ids, emails = [], []
    started = time.perf_counter()
    for batch in range(0, users, 1000):
        items = [{"email": f"seed{i}@bench.example", "phone_number": f"+1650{2000000 + i:07d}"[:12],
                  "name": {"first_name": "Seed", "last_name": str(i)}, "custom_data": {"n": i}}
                 for i in range(batch, min(batch + 1000, users))]
        # Not every generated phone is valid; keep the numbers out of the timing's way.
        for item in items:
            item.pop("phone_number")
        status, body = server.request("POST", "/cis/v1/users/bulk", token, items, timeout=120)
        if status != 201 or body["result"]["failed"]:
            raise RuntimeError(f"bulk create failed: {status} {str(body)[:300]}")
        for u in body["result"]["users"]:
            ids.append(u["user_id"])
            emails.append(u["email"]["value"].replace("@", "%40"))
    return time.perf_counter() - started, ids, emails


def run_backend(name, binary, args):
    tmp = tempfile.mkdtemp(prefix="roster-bench-")
    pg_db = None
    try:
        if name == "sqlite":
            database = "sqlite://" + os.path.join(tmp, "roster.db")
        else:
            pg_db = f"roster_bench_{os.getpid()}"
            subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres",
                            "-c", f"CREATE DATABASE {pg_db}"], check=True)
            database = f"postgres://postgres@127.0.0.1:5432/{pg_db}"
        server = Roster(binary, database)
        pid = server.proc.pid
        time.sleep(0.5)
        idle_rss = proc_status(pid, "VmRSS")
        admin = server.admin_token()
        _, client_id, secret = server.create_app(admin, "Bench")
        token = server.token(client_id, secret)
        seconds, ids, emails = seed(server, token, args.users)
        ids_file = os.path.join(tmp, "ids")
        emails_file = os.path.join(tmp, "emails")
        with open(ids_file, "w") as f:
            f.write("\n".join(ids) + "\n")
        with open(emails_file, "w") as f:
            f.write("\n".join(emails) + "\n")
        env = {"BENCH_TOKEN": token, "BENCH_IDS": ids_file, "BENCH_EMAILS": emails_file,
               "BENCH_RUN": str(int(time.time()))}
        results = {}
        for key in ["healthz", "get_by_id", "get_by_email", "create", "list", "count"]:
            results[key] = wrk(server.base, LUA[key], env, args.duration, args.connections)
            print(f"  {name} {key}: {results[key]['rps']:.0f} req/s, p99 {results[key]['p99']:.2f} ms",
                  flush=True)
        peak_rss = proc_status(pid, "VmHWM")
        server.stop()
        return {"seed_seconds": seconds, "idle_rss": idle_rss, "peak_rss": peak_rss,
                "results": results}
    finally:
        if pg_db:
            subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres",
                            "-c", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def verdict(ok):
    return "met" if ok else "**not met**"


def markdown(runs, args, command):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    lines = [BEGIN, "## Users API (`bench/users.py`)", "",
             f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"- Machine: {os.cpu_count()} CPUs ({cpu}), {mem_gib:.1f} GiB, {platform.system()}",
             f"- Commit: `{commit}` (release build)",
             f"- Command: `{command}`",
             f"- Load: wrk, {args.connections} connections, 2 threads, {args.duration} s per endpoint, "
             f"on the same CPUs as the server; {args.users:,} users seeded through bulk create; "
             "server log level `warn` (requests are not logged); wrk formats each thread's "
             "requests once (a shuffled cycle over the seeded ids or emails), so that it spends "
             "the shared cores on sending, not on building strings.", ""]
    for name, run in runs.items():
        res = run["results"]
        ceiling = res["healthz"]["rps"]
        lines += [f"### {name}", "",
                  "| endpoint | req/s | share of /healthz | p50 ms | p99 ms | non-2xx |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for key, r in res.items():
            lines.append(f"| {LABELS[key]} | {r['rps']:,.0f} | {100 * r['rps'] / ceiling:.0f} % | "
                         f"{r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} |")
        get = res["get_by_id"]
        create = res["create"]
        lines += ["",
                  f"- Seeding {args.users:,} users through `POST /v1/users/bulk` (1,000 per request): "
                  f"{run['seed_seconds']:.1f} s (goal < 10 s: {verdict(run['seed_seconds'] < 10)})",
                  f"- get-by-id: {100 * get['rps'] / ceiling:.0f} % of the ceiling, p99 {get['p99']:.2f} ms "
                  f"(goal >= 50 % and p99 < 10 ms: {verdict(get['rps'] >= ceiling / 2 and get['p99'] < 10)})",
                  f"- create: {100 * create['rps'] / ceiling:.0f} % of the ceiling "
                  f"(goal >= 10 %: {verdict(create['rps'] >= ceiling / 10)}); each answered create is "
                  "committed before the answer (`scripts/durability.py` checks that across SIGKILL)",
                  f"- Resident memory: {run['idle_rss']:.1f} MiB idle after start "
                  f"(goal < 30 MB: {verdict(run['idle_rss'] < 30)}), peak {run['peak_rss']:.1f} MiB "
                  f"under this load (goal < 200 MB: {verdict(run['peak_rss'] < 200)})", ""]
    lines.append(END)
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--bin", default=os.environ.get("ROSTER_BIN"))
    args = p.parse_args()
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    binary = args.bin
    if not binary:
        subprocess.run(["cargo", "build", "--release", "-p", "roster-server"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "roster")
    runs = {}
    for name in args.backends.split(","):
        label = {"sqlite": "SQLite (file, WAL)", "postgres": "PostgreSQL 15 (local)"}[name]
        print(f"== {label}", flush=True)
        runs[label] = run_backend(name, binary, args)
    command = "python3 bench/users.py " + " ".join(sys.argv[1:])
    text = markdown(runs, args, command.strip())
    print(text)
    if args.write:
        path = os.path.join(ROOT, "docs", "BENCHMARKS.md")
        doc = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
        if BEGIN in doc:
            doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END):]
        else:
            doc = doc.rstrip() + "\n\n" + text + "\n"
        open(path, "w").write(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
