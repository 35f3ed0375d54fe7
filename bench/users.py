#!/usr/bin/env python3
"""Users API benchmark: seed users through bulk create, then drive 64 connections with wrk
against the hot endpoints, each beside GET /healthz (the ceiling) in the same run, on
SQLite and on PostgreSQL. Records the server's idle and peak resident memory.

Usage: bench/users.py [--write] [--backends sqlite,postgres] [--users 100000]
                      [--duration 10] [--warmup 2] [--connections 64]
                      [--bin target/release/roster]
       bench/users.py --compare-bin PATH [--label-a A] [--label-b B] [--rounds 2]
                      [--bin target/release/roster] [--backends sqlite,postgres]
                      [--users 100000] [--duration 10] [--warmup 2] [--connections 64] [--write]

Every measured wrk run follows a warm-up run of the same script (--warmup seconds, 0 for
none) whose figures are discarded. The order is GET /healthz, then the reads (get-by-id,
get-by-email, list with page_limit=100, count), all at the seeded population, and
POST /v1/users (create) last; right before each run the script asks GET /v1/users/count
and prints "population: N". Each figure stands beside its run's non-2xx responses and
socket errors (connect, read, write, timeout); a figure whose run had any is marked " ⚠"
and explained under its table: it is not trustworthy.

--compare-bin PATH: instead of the full run, measure GET /healthz and get-by-id only, for
A = --bin (before) and B = PATH (after), alternating A, B, A, B (--rounds rounds each).
The database is seeded once, by A, and every round starts its binary on a fresh copy of
it (SQLite: the file copied; PostgreSQL: CREATE DATABASE ... TEMPLATE), so both binaries
read the same rows. Prints req/s per round, the mean per binary and B's change against A
in percent (goal: no worse than -5 %). --label-a/--label-b name the binaries in the
output (e.g. `git rev-parse --short HEAD` of their builds; default: their paths).

Without --bin (or ROSTER_BIN) the script builds target/release/roster with cargo first.
--write replaces the script's own section of docs/BENCHMARKS.md (between
"<!-- bench/users.py: begin -->" and "... end -->"), or with --compare-bin its compare
section ("<!-- bench/users.py compare: begin -->" ... "end -->"); leave it out to only print.
Runs outside CI; traffic goes to 127.0.0.1 only; every wrk run is bounded by its duration.
"""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from roster_harness import Roster  # noqa: E402
from wrk_report import (  # noqa: E402
    WARN, flagged, git_commit, machine_lines, parse_wrk, pg_url, proc_status, psql, shut,
    socket_text, verdict, warning, write_lines, write_section,
)

BEGIN = "<!-- bench/users.py: begin -->"
END = "<!-- bench/users.py: end -->"
COMPARE_BEGIN = "<!-- bench/users.py compare: begin -->"
COMPARE_END = "<!-- bench/users.py compare: end -->"


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
    # BENCH_RUN differs for every wrk run (warm-up included), so no two runs create the
    # same email (a repeated one would answer 409 and count as non-2xx).
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

# The ceiling first, every read at the seeded population, the only write last.
ORDER = ["healthz", "get_by_id", "get_by_email", "list", "count", "create"]

BACKEND_LABELS = {"sqlite": "SQLite (file, WAL)", "postgres": "PostgreSQL 15 (local)"}



def wrk(base, script, env, duration, connections):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        run = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", path, base],
            env={**os.environ, **env, "BENCH_RUN": str(time.time_ns())},
            capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(path)
    try:
        return parse_wrk(run.stdout)
    except RuntimeError:
        raise RuntimeError(f"wrk exited with {run.returncode}:\n{run.stdout}{run.stderr}") from None


def population(server, token):
    status, body = server.request("GET", "/cis/v1/users/count", token, timeout=120)
    if status != 200:
        raise RuntimeError(f"count failed: {status} {str(body)[:300]}")
    return int(body["result"]["user_count"])


def measure(server, token, key, env, args, prefix):
    """Warm-up (figures discarded), then the measured run of `key`, with the population
    counted right before the measured run. Prints the figures and their errors."""
    if args.warmup > 0:
        wrk(server.base, LUA[key], env, args.warmup, args.connections)
    pop = population(server, token)
    print(f"  {prefix} {key}: population: {pop}", flush=True)
    r = wrk(server.base, LUA[key], env, args.duration, args.connections)
    r["population"] = pop
    print(f"  {prefix} {key}: {r['rps']:.0f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, "
          f"{r['requests']} requests, non-2xx {r['non2xx']}, socket errors {r['socket_errors']} "
          f"({socket_text(r)})" + (f"  {WARN} not trustworthy" if flagged(r) else ""), flush=True)
    return r


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
    server = None
    try:
        if name == "sqlite":
            database = "sqlite://" + os.path.join(tmp, "roster.db")
        else:
            pg_db = f"roster_bench_{os.getpid()}"
            psql(f"CREATE DATABASE {pg_db}")
            database = pg_url(pg_db)
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
        write_lines(ids_file, ids)
        write_lines(emails_file, emails)
        env = {"BENCH_TOKEN": token, "BENCH_IDS": ids_file, "BENCH_EMAILS": emails_file}
        results = {}
        for key in ORDER:
            results[key] = measure(server, token, key, env, args, name)
        peak_rss = proc_status(pid, "VmHWM")
        server.stop()
        return {"seed_seconds": seconds, "idle_rss": idle_rss, "peak_rss": peak_rss,
                "results": results}
    finally:
        shut(server)
        if pg_db:
            psql(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)", check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def run_compare(name, bin_a, bin_b, args):
    """Seeds one database with A, then measures /healthz and get-by-id on a fresh copy of
    it, alternating A, B, A, B. Returns the rounds in the order they ran."""
    tmp = tempfile.mkdtemp(prefix="roster-compare-")
    pg_dbs = []
    server = None
    try:
        if name == "sqlite":
            seed_path = os.path.join(tmp, "seed.db")
            database = "sqlite://" + seed_path
        else:
            seed_db = f"roster_bench_{os.getpid()}_seed"
            psql(f"CREATE DATABASE {seed_db}")
            pg_dbs.append(seed_db)
            database = pg_url(seed_db)
        print(f"  {name} seeding {args.users} users with A ({bin_a})", flush=True)
        server = Roster(bin_a, database)
        admin = server.admin_token()
        _, client_id, secret = server.create_app(admin, "Bench")
        token = server.token(client_id, secret)
        seconds, ids, _ = seed(server, token, args.users)
        server.stop()
        server = None
        print(f"  {name} seeded in {seconds:.1f} s", flush=True)
        ids_file = os.path.join(tmp, "ids")
        write_lines(ids_file, ids)
        rounds = []
        for n in range(1, args.rounds + 1):
            for which, binary in (("A", bin_a), ("B", bin_b)):
                copy = None
                if name == "sqlite":
                    copy = os.path.join(tmp, f"round{n}{which}.db")
                    # A clean stop leaves the data in the main file; copy a WAL if one is left.
                    for suffix in ("", "-wal"):
                        if os.path.exists(seed_path + suffix):
                            shutil.copyfile(seed_path + suffix, copy + suffix)
                    database = "sqlite://" + copy
                else:
                    copy = f"roster_bench_{os.getpid()}_r{n}{which.lower()}"
                    psql(f"CREATE DATABASE {copy} TEMPLATE {seed_db}")
                    pg_dbs.append(copy)
                    database = pg_url(copy)
                server = Roster(binary, database)
                token = server.token(client_id, secret)
                env = {"BENCH_TOKEN": token, "BENCH_IDS": ids_file}
                prefix = f"{name} round {n} {which}"
                res = {key: measure(server, token, key, env, args, prefix)
                       for key in ("healthz", "get_by_id")}
                server.stop()
                server = None
                if name == "sqlite":
                    for suffix in ("", "-wal", "-shm"):
                        if os.path.exists(copy + suffix):
                            os.unlink(copy + suffix)
                else:
                    psql(f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)", check=False)
                    pg_dbs.remove(copy)
                rounds.append({"round": n, "which": which, "results": res})
        return {"seed_seconds": seconds, "rounds": rounds}
    finally:
        shut(server)
        for db in pg_dbs:
            psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def share(r, ceiling):
    return f"{100 * r['rps'] / ceiling:.0f} %" if ceiling else "n/a"


def rps_cell(r):
    return f"{r['rps']:,.0f}" + (f" {WARN}" if flagged(r) else "")


def footnotes(rows):
    """`rows`: (label, result) pairs; one warning line per run with errors."""
    return [f"- {WARN} {label}: {warning(r)}" for label, r in rows if flagged(r)]


def warmup_text(args):
    if args.warmup > 0:
        return (f"each measured run follows a {args.warmup} s warm-up run of the same script "
                "whose figures are discarded")
    return "no warm-up run (`--warmup 0`)"


def markdown(runs, args, command):
    lines = [BEGIN, "## Users API (`bench/users.py`)", ""] + machine_lines() + [
             f"- Commit: `{git_commit()}` (release build)",
             f"- Command: `{command}`",
             f"- Load: wrk, {args.connections} connections, 2 threads, {args.duration} s per endpoint, "
             f"on the same CPUs as the server; {warmup_text(args)}; {args.users:,} users seeded "
             "through bulk create; the reads are measured before create, at the population in "
             "their row (`GET /v1/users/count` right before the run), and create last; server "
             "log level `warn` (requests are not logged); wrk formats each thread's "
             "requests once (a shuffled cycle over the seeded ids or emails), so that it spends "
             "the shared cores on sending, not on building strings.", ""]
    for name, run in runs.items():
        res = run["results"]
        ceiling = res["healthz"]["rps"]
        lines += [f"### {name}", "",
                  "| endpoint | population | req/s | share of /healthz | p50 ms | p99 ms | non-2xx "
                  "| socket errors |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for key, r in res.items():
            lines.append(f"| {LABELS[key]} | {r['population']:,} | {rps_cell(r)} | {share(r, ceiling)} | "
                         f"{r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']:,} | {r['socket_errors']:,} |")
        notes = footnotes([(LABELS[key], r) for key, r in res.items()])
        if notes:
            lines += [""] + notes
        get = res["get_by_id"]
        create = res["create"]

        def mark(*rs):
            bad = [r for r in rs if flagged(r)]
            return f" {WARN} from a run with errors, not trustworthy" if bad else ""

        get_ok = ceiling and get["rps"] >= ceiling / 2 and get["p99"] < 10
        create_ok = ceiling and create["rps"] >= ceiling / 10
        lines += ["",
                  f"- Seeding {args.users:,} users through `POST /v1/users/bulk` (1,000 per request): "
                  f"{run['seed_seconds']:.1f} s (goal < 10 s: {verdict(run['seed_seconds'] < 10)})",
                  f"- get-by-id: {share(get, ceiling)} of the ceiling, p99 {get['p99']:.2f} ms "
                  f"(goal >= 50 % and p99 < 10 ms: {verdict(get_ok)}){mark(get, res['healthz'])}",
                  f"- create: {share(create, ceiling)} of the ceiling "
                  f"(goal >= 10 %: {verdict(create_ok)}){mark(create, res['healthz'])}; each answered "
                  "create is committed before the answer (`scripts/durability.py` checks that across "
                  "SIGKILL)",
                  f"- Resident memory: {run['idle_rss']:.1f} MiB idle after start "
                  f"(goal < 30 MB: {verdict(run['idle_rss'] < 30)}), peak {run['peak_rss']:.1f} MiB "
                  f"under this load (goal < 200 MB: {verdict(run['peak_rss'] < 200)})", ""]
    lines.append(END)
    return "\n".join(lines)


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def compare_summary(run):
    """Per-binary means and B's change against A (get-by-id req/s)."""
    out = {}
    for which in ("A", "B"):
        rounds = [r["results"] for r in run["rounds"] if r["which"] == which]
        gets = [r["get_by_id"]["rps"] for r in rounds]
        shares = [r["get_by_id"]["rps"] / r["healthz"]["rps"] for r in rounds if r["healthz"]["rps"]]
        m = mean(gets)
        out[which] = {"mean": m, "min": min(gets), "max": max(gets),
                      "spread": 100 * (max(gets) - min(gets)) / m if m else float("nan"),
                      "share": 100 * mean(shares), "healthz": mean([r["healthz"]["rps"] for r in rounds]),
                      "flagged": any(flagged(x) for r in rounds for x in r.values())}
    a, b = out["A"]["mean"], out["B"]["mean"]
    out["change"] = 100 * (b - a) / a if a else float("nan")
    return out


def compare_markdown(runs, args, bins, labels, command):
    lines = [COMPARE_BEGIN, "## Users API: get-by-id before/after (`bench/users.py --compare-bin`)", ""]
    lines += machine_lines()
    lines += [f"- A (before): `{labels['A']}`: `{bins['A']}`",
              f"- B (after): `{labels['B']}`: `{bins['B']}`",
              f"- Command: `{command}`",
              f"- Load: wrk, {args.connections} connections, 2 threads, {args.duration} s per endpoint "
              f"(`GET /healthz`, then get-by-id), on the same CPUs as the server; {warmup_text(args)}; "
              f"rounds alternate A, B ({args.rounds} each); {args.users:,} users seeded once, by A, "
              "and every round starts its binary on a fresh copy of that database.", ""]
    for name, run in runs.items():
        s = compare_summary(run)
        lines += [f"### {name}", "",
                  "| round | binary | population | get-by-id req/s | p50 ms | p99 ms | `/healthz` req/s "
                  "| share of /healthz | non-2xx | socket errors |",
                  "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        notes = []
        for rd in run["rounds"]:
            g, h = rd["results"]["get_by_id"], rd["results"]["healthz"]
            lines.append(f"| {rd['round']} | {rd['which']} | {g['population']:,} | {rps_cell(g)} | "
                         f"{g['p50']:.2f} | {g['p99']:.2f} | {rps_cell(h)} | {share(g, h['rps'])} | "
                         f"{g['non2xx'] + h['non2xx']:,} | {g['socket_errors'] + h['socket_errors']:,} |")
            notes += footnotes([(f"round {rd['round']} {rd['which']} get-by-id", g),
                                (f"round {rd['round']} {rd['which']} `/healthz`", h)])
        if notes:
            lines += [""] + notes
        lines += ["", "| binary | mean get-by-id req/s | min | max | spread | mean share of /healthz |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for which, title in (("A", "A (before)"), ("B", "B (after)")):
            x = s[which]
            lines.append(f"| {title} | {x['mean']:,.0f}{f' {WARN}' if x['flagged'] else ''} | "
                         f"{x['min']:,.0f} | {x['max']:,.0f} | {x['spread']:.1f} % | {x['share']:.0f} % |")
        noise = max(s["A"]["spread"], s["B"]["spread"])
        lines += ["",
                  f"- Change of B against A (mean get-by-id req/s): {s['change']:+.1f} % "
                  f"(goal: no worse than -5 %: {verdict(s['change'] >= -5)})"
                  + (f" {WARN} from runs with errors, not trustworthy"
                     if s["A"]["flagged"] or s["B"]["flagged"] else ""),
                  f"- Round-to-round spread within one binary: up to {noise:.1f} %"
                  + ("; the change is smaller than that spread, so at this precision the two do "
                     "not differ" if abs(s["change"]) < noise else ""),
                  f"- Seeding {args.users:,} users (by A): {run['seed_seconds']:.1f} s", ""]
    lines.append(COMPARE_END)
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write", action="store_true",
                   help="update docs/BENCHMARKS.md (the compare section with --compare-bin)")
    p.add_argument("--backends", default="sqlite,postgres",
                   help="comma-separated: sqlite, postgres (default: %(default)s)")
    p.add_argument("--users", type=int, default=100_000, help="users to seed (default: %(default)s)")
    p.add_argument("--duration", type=int, default=10,
                   help="seconds of each measured wrk run (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=2, metavar="SECONDS",
                   help="seconds of the discarded warm-up run before each measured run, "
                        "0 for none (default: %(default)s)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default: %(default)s)")
    p.add_argument("--bin", default=os.environ.get("ROSTER_BIN"),
                   help="roster binary (default: $ROSTER_BIN, else build target/release/roster); "
                        "A (before) with --compare-bin")
    p.add_argument("--compare-bin", metavar="PATH",
                   help="B (after): measure /healthz and get-by-id only, for --bin and PATH, "
                        "alternating A, B, A, B")
    p.add_argument("--label-a", help="name of A in the comparison (default: its path)")
    p.add_argument("--label-b", help="name of B in the comparison (default: its path)")
    p.add_argument("--rounds", type=int, default=2,
                   help="rounds per binary with --compare-bin (default: %(default)s)")
    args = p.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for name in backends:
        if name not in BACKEND_LABELS:
            p.error(f"unknown backend {name!r} (sqlite, postgres)")
    if args.duration < 1 or args.warmup < 0 or args.users < 1 or args.rounds < 1:
        p.error("--duration, --users and --rounds must be >= 1, --warmup >= 0")
    if args.compare_bin and not os.access(args.compare_bin, os.X_OK):
        p.error(f"--compare-bin {args.compare_bin}: not an executable file")
    if args.bin and not os.access(args.bin, os.X_OK):
        p.error(f"--bin {args.bin}: not an executable file")
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    binary = args.bin
    if not binary:
        subprocess.run(["cargo", "build", "--release", "-p", "roster-server"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "roster")
    command = ("python3 bench/users.py " + shlex.join(sys.argv[1:])).strip()
    runs = {}
    if args.compare_bin:
        bins = {"A": binary, "B": args.compare_bin}
        labels = {"A": args.label_a or binary, "B": args.label_b or args.compare_bin}
        for name in backends:
            print(f"== {BACKEND_LABELS[name]}: A = {labels['A']}, B = {labels['B']}", flush=True)
            runs[BACKEND_LABELS[name]] = run_compare(name, bins["A"], bins["B"], args)
        text = compare_markdown(runs, args, bins, labels, command)
        print(text)
        if args.write:
            write_section(text, COMPARE_BEGIN, COMPARE_END, after=END)
        return 0
    for name in backends:
        print(f"== {BACKEND_LABELS[name]}", flush=True)
        runs[BACKEND_LABELS[name]] = run_backend(name, binary, args)
    text = markdown(runs, args, command)
    print(text)
    if args.write:
        write_section(text, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
