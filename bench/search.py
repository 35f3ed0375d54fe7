#!/usr/bin/env python3
"""Search benchmark: `GET /v1/users?search=<SCIM filter>` and `/v1/users/count?search=...`
at a large population. Seeds users through bulk create (several requests at once), then
drives wrk against exact lookups, prefix searches, the plain list, counts, every
sort_field and a custom_data scan, each beside its goal; times page_offset costs with one
client; records the server's peak resident memory. On PostgreSQL it also runs
`pgbench -S` and Roster's get-by-id in the same run and compares the two.

Usage: bench/search.py [--write] [--backends sqlite,postgres] [--users 1000000]
                       [--duration 10] [--warmup 2] [--connections 64]
                       [--seed-threads 4] [--bin target/release/roster]

The seeded users are made by a fixed rule from their number i (no randomness): a unique
email `first.lastI@domain`, phone number `+1415.......`, external_user_id, username,
name.first_name from ~100 first names, name.last_name from 300 last names,
address.country from 20 countries and custom_data {"x": "v<i % 1000>"}; all of them
are created by one ordinary app's client, whose token every request carries (so
`username` reads that app's data). The values each wrk script rotates over are drawn
from the seeded users by a fixed random seed, and the script knows how many users each
one matches: before any load, one client sends a few requests of every query, checks
that the answers count exactly those users (a search that finds nothing would be
trivially fast), and times them unloaded.

Every measured wrk run follows a warm-up run of the same script (--warmup seconds, 0
for none) whose figures are discarded, and starts only once the server (and PostgreSQL)
is idle again: requests still in flight when wrk stops are finished by the server
after it. wrk's timeout is longer than the run, so slow requests are not cut off; a run
in which few requests completed (fewer than 10 per connection) is marked ⚠ as well as
one with non-2xx responses or socket errors: requests still in flight at its end are
not counted, so its latencies understate. Each measured run (and the seeding, and
pgbench) also records how the 2 cores were shared: the server, the load generator,
PostgreSQL and other work on the machine; every run first waits (up to 60 s) for the
machine to be quiet, and one during which other work still took more than a quarter of a
CPU is marked ⚠ too.

On PostgreSQL the database is vacuumed and analysed once after seeding (what autovacuum
does after a bulk load), so that no run races autovacuum. `pgbench -S` runs in a scratch
database (`pgbench -i -s 10`, dropped afterwards) with as many clients as wrk's
connections.

--write replaces the script's own section of docs/BENCHMARKS.md (between
"<!-- bench/search.py: begin -->" and "... end -->"); leave it out to only print.
Runs outside CI; traffic goes to 127.0.0.1 only; every wrk run is bounded by its duration.
"""

import argparse
import collections
import http.client
import json
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from roster_harness import Roster  # noqa: E402
from wrk_report import (  # noqa: E402
    WARN, flagged, git_commit, machine_lines, parse_wrk, pg_url, proc_status, psql, shut,
    socket_text, verdict, warning, write_lines, write_section,
)

BEGIN = "<!-- bench/search.py: begin -->"
END = "<!-- bench/search.py: end -->"

BACKEND_LABELS = {"sqlite": "SQLite (file, WAL)", "postgres": "PostgreSQL 15 (local)"}

BULK = 1000
USERS_MAX = 10_000_000  # the phone numbers and external ids are unique below this
SAMPLE = 20_000  # values per wrk script (wrk formats at most 20,000 per thread)
SEED_GOAL_S = 120.0  # seconds per 1,000,000 users, on SQLite
RSS_GOAL_MIB = 200.0  # bench/users.py's goal for the peak under load
PGBENCH_SHARE_GOAL = 40.0  # get-by-id as a percentage of pgbench -S
OFFSETS = (0, 1000, 10_000, 100_000)

FIRST_NAMES = [
    "Aaron", "Abigail", "Adam", "Aisha", "Alan", "Alice", "Amelia", "Amir", "Ana", "Andrew",
    "Anna", "Ann", "Arjun", "Ava", "Ben", "Bianca", "Carlos", "Carmen", "Charlotte", "Chen",
    "Chloe", "Chris", "Daniel", "David", "Diana", "Diego", "Elena", "Eli", "Ella", "Emily",
    "Emma", "Eric", "Eva", "Fatima", "Felix", "Fiona", "Gabriel", "Grace", "Hana", "Hannah",
    "Harper", "Henry", "Hugo", "Ines", "Isaac", "Isabel", "Ivan", "Jack", "James", "Jana",
    "Jason", "Javier", "Jin", "John", "Jose", "Julia", "Kai", "Karen", "Kenji", "Laura",
    "Leo", "Liam", "Lina", "Lucas", "Lucy", "Luis", "Maya", "Mei", "Mia", "Michael",
    "Mohamed", "Nadia", "Noah", "Nora", "Olga", "Oliver", "Olivia", "Omar", "Paul", "Priya",
    "Rafael", "Rosa", "Ruby", "Sam", "Sara", "Sean", "Sofia", "Sophie", "Tariq", "Theo",
    "Tom", "Uma", "Victor", "Wei", "William", "Yara", "Yusuf", "Zara", "Zoe", "Zhang",
]
# 20 roots x 15 endings: 300 last names, many sharing their first letters.
_ROOTS = ["Ash", "Black", "Brook", "Clay", "Dal", "Fair", "Gold", "Green", "Hart", "Hol",
          "Kings", "Lang", "Mar", "Nor", "Old", "Red", "Stan", "Thorn", "West", "Whit"]
_ENDINGS = ["ton", "field", "wood", "ley", "man", "son", "well", "worth", "by", "ford",
            "ham", "more", "ridge", "stone", "water"]
LAST_NAMES = [r + e for r in _ROOTS for e in _ENDINGS]
COUNTRIES = ["US", "GB", "CA", "AU", "DE", "FR", "ES", "IT", "NL", "SE",
             "NO", "PL", "BR", "MX", "AR", "IN", "JP", "KR", "IL", "ZA"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example", "corp.example"]


def _mix(i):
    return (i * 2654435761 + 40503) & 0xFFFFFFFF


def first_name(i):
    return FIRST_NAMES[_mix(i) % len(FIRST_NAMES)]


def last_name(i):
    return LAST_NAMES[(_mix(i) >> 7) % len(LAST_NAMES)]


def email(i):
    h = _mix(i)
    return (f"{first_name(i)}.{last_name(i)}{i}@{DOMAINS[(h >> 23) % len(DOMAINS)]}").lower()


def phone(i):
    # 104729 is prime, so i -> the 7 digits is one-to-one below 10,000,000.
    return f"+1415{(i * 104729 + 5550000) % 10_000_000:07d}"


def external_id(i):
    return f"ext-{(i * 7919 + 12345) % 10_000_000:07d}"


def username(i):
    return f"{first_name(i)[0]}{last_name(i)}{i}".lower()


def seeded_user(i):
    return {"email": email(i), "phone_number": phone(i), "external_user_id": external_id(i),
            "username": username(i),
            "name": {"first_name": first_name(i), "last_name": last_name(i)},
            "address": {"country": COUNTRIES[(_mix(i) >> 17) % len(COUNTRIES)]},
            "custom_data": {"x": f"v{i % 1000}"}}


# --- HTTP with one kept-alive connection -------------------------------------------------

class Http:
    """One kept-alive HTTP/1.1 connection to the server (the harness opens one per request)."""

    def __init__(self, base, timeout=300):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, token, body=None):
        """(status, parsed JSON or None, milliseconds). GETs are retried once on a
        dropped connection; other methods are not."""
        headers = {"Authorization": "Bearer " + token}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":")).encode()
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                started = time.perf_counter()
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                ms = (time.perf_counter() - started) * 1000
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                try:
                    parsed = json.loads(raw) if raw else None
                except ValueError:
                    parsed = raw[:300]
                return resp.status, parsed, ms
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt or method != "GET":
                    raise
        raise AssertionError("unreachable")


# --- seeding --------------------------------------------------------------------------------

def seed(base, token, users, threads):
    """Bulk-creates users 0..users-1, BULK per request, `threads` requests at once.
    Returns (seconds, ids in creation-number order)."""
    batches = list(range(0, users, BULK))
    ids = [None] * len(batches)
    state = {"next": 0, "done": 0, "error": None}
    lock = threading.Lock()

    def work():
        client = Http(base)
        try:
            while True:
                with lock:
                    if state["error"] or state["next"] >= len(batches):
                        return
                    k = state["next"]
                    state["next"] += 1
                start = batches[k]
                items = [seeded_user(i) for i in range(start, min(start + BULK, users))]
                status, body, _ = client.request("POST", "/cis/v1/users/bulk", token, items)
                if status != 201 or body["result"]["failed"]:
                    errors = body["result"]["errors"][:3] if status == 201 else body
                    raise RuntimeError(f"bulk create of users {start}.. failed: {status} "
                                       f"{str(errors)[:400]}")
                ids[k] = [u["user_id"] for u in body["result"]["users"]]
                with lock:
                    state["done"] += 1
        except Exception as e:  # noqa: BLE001 - handed to the main thread
            with lock:
                state["error"] = state["error"] or e
        finally:
            client.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    last = started
    while any(w.is_alive() for w in workers):
        for w in workers:
            w.join(timeout=1)
        if time.perf_counter() - last >= 15:
            last = time.perf_counter()
            with lock:
                done = state["done"]
            print(f"    seeded {min(done * BULK, users):,} of {users:,} "
                  f"({last - started:.0f} s)", flush=True)
    seconds = time.perf_counter() - started
    if state["error"]:
        raise state["error"]
    return seconds, [i for batch in ids for i in batch]


# --- the queries ----------------------------------------------------------------------------

def q(text):
    return urllib.parse.quote(text, safe="")


def search_path(filter_text):
    return f"/cis/v1/users?search={q(filter_text)}&page_limit=100"


SORTS = ("created_at", "email", "phone_number", "last_auth")


def build_queries(users):
    """Each query: key, label, goal (p99 ms), lines (request paths), the users each path
    matches, and what the answer reports (total_count of a list, user_count of a count)."""
    rng = random.Random(20261130)
    picks = rng.sample(range(users), min(users, SAMPLE))
    picks2 = rng.sample(range(users), min(users, SAMPLE))
    # Matches of the prefix searches, counted over every seeded user.
    email6 = collections.Counter(email(i)[:6] for i in range(users))
    lasts = collections.Counter(last_name(i) for i in range(users))
    last_prefix_matches = {}

    def last_matches(prefix):
        if prefix not in last_prefix_matches:
            last_prefix_matches[prefix] = sum(n for name, n in lasts.items() if name.startswith(prefix))
        return last_prefix_matches[prefix]

    def custom_matches(k):
        return len(range(k, users, 1000))

    out = []

    def add(key, label, goal, pairs, kind="list", example=None):
        out.append({"key": key, "label": label, "goal": goal, "kind": kind,
                    "lines": [p for p, _ in pairs], "matches": [m for _, m in pairs],
                    "example": example})

    add("email_eq", '`email eq "…"`', 10, [(search_path(f'email eq "{email(i)}"'), 1) for i in picks],
        example=f'email eq "{email(picks[0])}"')
    add("phone_eq", '`phone_number eq "…"`', 10,
        [(search_path(f'phone_number eq "{phone(i)}"'), 1) for i in picks],
        example=f'phone_number eq "{phone(picks[0])}"')
    add("external_eq", '`external_user_id eq "…"`', 10,
        [(search_path(f'external_user_id eq "{external_id(i)}"'), 1) for i in picks],
        example=f'external_user_id eq "{external_id(picks[0])}"')
    add("username_eq", '`username eq "…"`', 10,
        [(search_path(f'username eq "{username(i)}"'), 1) for i in picks],
        example=f'username eq "{username(picks[0])}"')
    add("email_sw", '`email sw "<6 chars>"`', 50,
        [(search_path(f'email sw "{email(i)[:6]}"'), email6[email(i)[:6]]) for i in picks],
        example=f'email sw "{email(picks[0])[:6]}"')
    # A 3- to 6-character prefix of a seeded last name (names are case-sensitive).
    last_pairs = []
    for n, i in enumerate(picks):
        prefix = last_name(i)[:3 + n % 4]
        last_pairs.append((search_path(f'name.last_name sw "{prefix}"'), last_matches(prefix)))
    add("last_sw", '`name.last_name sw "<3-6 chars>"`', 50, last_pairs,
        example=f'name.last_name sw "{last_name(picks[0])[:3]}"')
    add("list", "`GET /v1/users?page_limit=100` (no search)", 50,
        [("/cis/v1/users?page_limit=100", users)])
    add("count_sw", '`GET /v1/users/count?search=email sw "<6 chars>"`', 50,
        [("/cis/v1/users/count?search=" + q(f'email sw "{email(i)[:6]}"'),
          email6[email(i)[:6]]) for i in picks2], kind="count",
        example=f'email sw "{email(picks2[0])[:6]}"')
    for field in SORTS:
        add(f"sort_{field}", f"`GET /v1/users?page_limit=100&sort_field={field}`", 50,
            [(f"/cis/v1/users?page_limit=100&sort_field={field}", users)])
    custom = [rng.randrange(min(users, 1000)) for _ in range(min(users, SAMPLE))]
    add("custom_eq", '`custom_data.x eq "v<k>"`', 1000,
        [(search_path(f'custom_data.x eq "v{k}"'), custom_matches(k)) for k in custom],
        example='custom_data.x eq "v17"')
    return out


# --- wrk ------------------------------------------------------------------------------------

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


LUA_PATHS = lua_cycle("BENCH_PATHS", "", 104729)
LUA_IDS = lua_cycle("BENCH_IDS", "/cis/v1/users/", 7919)


def lua_fixed(path):
    return LUA_COMMON + f'wrk.path = "{path}"\n'


def wrk(base, script, env, duration, connections):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        # The timeout is longer than the run: wrk never cuts a slow request off.
        run = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
             "--timeout", f"{duration + 60}s", "-s", path, base],
            env={**os.environ, **env}, capture_output=True, text=True, timeout=duration + 120)
    finally:
        os.unlink(path)
    try:
        r = parse_wrk(run.stdout)
    except RuntimeError:
        raise RuntimeError(f"wrk exited with {run.returncode}:\n{run.stdout}{run.stderr}") from None
    if r["requests"] == 0:
        r["p50"] = r["p99"] = float("nan")
    return r


def few(r, args):
    return r["requests"] < 10 * args.connections


def busy_elsewhere(r):
    return r.get("cpu", {}).get("other", 0.0) > OTHER_MAX


def suspect(r, args):
    return flagged(r) or few(r, args) or busy_elsewhere(r)


def cautions(r, args):
    out = []
    if flagged(r):
        out.append(warning(r))
    if r["requests"] == 0:
        out.append(f"no request completed in {args.duration} s: every one took longer than the "
                   "run, and none is counted")
    elif few(r, args):
        out.append(f"only {r['requests']:,} request{'s' if r['requests'] > 1 else ''} completed in "
                   f"{args.duration} s (fewer than 10 per connection): requests still in flight at "
                   "the end are not counted, so p50/p99 understate the latency")
    if busy_elsewhere(r):
        out.append(f"other work on the machine took {r['cpu']['other']:.2f} CPUs during the run "
                   f"({cpu_text(r['cpu'])}): the figures are low")
    return out


# --- the server's state ---------------------------------------------------------------------

def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CLK = os.sysconf("SC_CLK_TCK")
OTHER_MAX = 0.25  # CPUs of other work during a run before its figures are marked


def machine_busy():
    """CPU seconds the whole machine has spent busy since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / CLK


def postgres_cpu():
    """CPU seconds of every PostgreSQL process now alive, with those of the ended ones that
    the postmaster reaped (pgbench's connections, parallel workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
        except OSError:
            continue
        if head.split("(", 1)[1] == "postgres":
            fields = tail.split()
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / CLK


def own_cpu():
    """CPU seconds of this script and its waited-for children (wrk, pgbench, psql)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class CpuWatch:
    """How the CPUs were shared over a window: the server, the load generator (this script
    and wrk), PostgreSQL, and other work, each in CPUs (1.0 = one core busy)."""

    def __init__(self, pid, pg):
        self.pid, self.pg = pid, pg
        self.start = self._now()

    def _now(self):
        return (time.perf_counter(), machine_busy(), cpu_seconds(self.pid), own_cpu(),
                postgres_cpu() if self.pg else 0.0)

    def done(self):
        end = self._now()
        d = [b - a for a, b in zip(self.start, end)]
        wall = max(d[0], 1e-9)
        server, load, pg = d[2] / wall, d[3] / wall, d[4] / wall
        return {"server": server, "load": load, "postgres": pg,
                "other": max(0.0, d[1] / wall - server - load - pg)}


def cpu_text(c):
    return (f"server {c['server']:.2f}, load generator {c['load']:.2f}"
            + (f", PostgreSQL {c['postgres']:.2f}" if c["postgres"] else "")
            + f", other work {c['other']:.2f} CPUs")


def wait_quiet(limit=60):
    """Waits (up to `limit` s) for a second in which the machine is under OTHER_MAX CPUs
    busy; to be called with the server idle. Returns the seconds waited."""
    started = time.perf_counter()
    while True:
        a = machine_busy()
        time.sleep(1)
        if machine_busy() - a < OTHER_MAX or time.perf_counter() - started > limit:
            return time.perf_counter() - started


def pg_active(db):
    out = psql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
               "AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'",
               db=db, check=False, capture=True)
    try:
        return int(out)
    except (TypeError, ValueError):
        return 0


def quiesce(pid, pg_db, limit=300):
    """Waits until the server uses under 10 % of a CPU (and, on PostgreSQL, no other
    statement runs in its database) for a second; returns the seconds waited."""
    started = time.perf_counter()
    calm = 0
    last = cpu_seconds(pid)
    while time.perf_counter() - started < limit:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        busy = now - last > 0.05 or (pg_db is not None and pg_active(pg_db) > 0)
        last = now
        calm = 0 if busy else calm + 1
        if calm >= 2:
            break
    return time.perf_counter() - started


# --- measurements ---------------------------------------------------------------------------

def answer_count(body, kind):
    if not isinstance(body, dict):
        return None
    if kind == "count":
        return (body.get("result") or {}).get("user_count")
    return body.get("total_count")


def single_client(client, token, query, budget_s=10.0, most=20):
    """A few requests of `query` from one client, unloaded: their times, and whether each
    answer counted the users its value matches."""
    times, wrong, statuses = [], [], collections.Counter()
    started = time.perf_counter()
    for n in range(most):
        if n >= 3 and time.perf_counter() - started > budget_s:
            break
        k = n % len(query["lines"])
        path, expected = query["lines"][k], query["matches"][k]
        status, body, ms = client.request("GET", path, token)
        statuses[status] += 1
        times.append(ms)
        got = answer_count(body, query["kind"]) if status == 200 else None
        page = len(body.get("result", [])) if status == 200 and query["kind"] == "list" else None
        if got != expected or (page is not None and page != min(100, expected)):
            wrong.append(f"{urllib.parse.unquote(path)}: status {status}, counted {got}, "
                         f"page {page}, expected {expected}")
    return {"median": statistics.median(times), "max": max(times), "n": len(times),
            "wrong": wrong, "statuses": dict(statuses)}


def offsets(client, token, users, repeat=5):
    rows = []
    for off in OFFSETS:
        times, results, statuses = [], None, set()
        for _ in range(repeat):
            status, body, ms = client.request(
                "GET", f"/cis/v1/users?page_limit=100&page_offset={off}", token)
            statuses.add(status)
            times.append(ms)
            if status == 200:
                results = len(body["result"])
        rows.append({"offset": off, "median": statistics.median(times), "max": max(times),
                     "results": results, "statuses": sorted(statuses),
                     "beyond": off >= users})
        print(f"    page_offset {off:>7}: median {rows[-1]['median']:.1f} ms, max "
              f"{rows[-1]['max']:.1f} ms, {results} users, status {sorted(statuses)}", flush=True)
    return rows


def pgbench(args, name, pid):
    """`pgbench -S` in a scratch database: warm-up, then the measured run."""
    conn = ["-h", "127.0.0.1", "-U", "postgres"]
    psql(f"CREATE DATABASE {name}")
    try:
        subprocess.run(["pgbench", *conn, "-i", "-s", "10", "-q", name], check=True,
                       capture_output=True, text=True)
        cmd = ["pgbench", *conn, "-S", "-c", str(args.connections), "-j", "2", "-n"]
        if args.warmup > 0:
            subprocess.run([*cmd, "-T", str(args.warmup), name], check=True, capture_output=True)
        wait_quiet()
        watch = CpuWatch(pid, True)
        run = subprocess.run([*cmd, "-T", str(args.duration), name], capture_output=True, text=True)
        cpu = watch.done()
        if run.returncode != 0:
            raise RuntimeError(f"pgbench exited with {run.returncode}:\n{run.stdout}{run.stderr}")
        tps = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", run.stdout, re.M)
        lat = re.search(r"^latency average = ([\d.]+) ms", run.stdout, re.M)
        failed = re.search(r"^number of failed transactions: (\d+)", run.stdout, re.M)
        if not tps:
            raise RuntimeError(f"no tps in pgbench's output:\n{run.stdout}")
        return {"tps": float(tps.group(1)), "latency": float(lat.group(1)) if lat else float("nan"),
                "failed": int(failed.group(1)) if failed else 0, "cpu": cpu,
                "command": shlex.join(["pgbench", "-S", "-c", str(args.connections), "-j", "2",
                                       "-n", "-T", str(args.duration)])}
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", check=False)


def client_token(server, client_id, secret):
    """A fresh client-credentials token (the harness's call waits 10 s at most; a server
    still finishing a slow run's requests may take longer)."""
    status, body = server.request("POST", "/oidc/token", form={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=300)
    if status != 200:
        raise RuntimeError(f"token request failed: {status} {body}")
    return body["access_token"]


def measure(server, pg_db, script, env, args):
    """Warm-up (figures discarded), then the measured run, each starting on an idle
    server; the measured run's figures with how the CPUs were shared during it."""
    pid = server.proc.pid
    if args.warmup > 0:
        quiesce(pid, pg_db)
        wrk(server.base, script, env, args.warmup, args.connections)
    waited = quiesce(pid, pg_db)
    waited += wait_quiet()
    watch = CpuWatch(pid, pg_db is not None)
    r = wrk(server.base, script, env, args.duration, args.connections)
    r["cpu"] = watch.done()
    r["waited"] = waited
    return r


def run_backend(name, binary, args, queries):
    tmp = tempfile.mkdtemp(prefix="roster-search-")
    pg_db = None
    server = None
    client = None
    try:
        if name == "sqlite":
            database = "sqlite://" + os.path.join(tmp, "roster.db")
        else:
            pg_db = f"roster_search_{os.getpid()}"
            psql(f"CREATE DATABASE {pg_db}")
            database = pg_url(pg_db)
        server = Roster(binary, database)
        pid = server.proc.pid
        admin = server.admin_token()
        _, client_id, secret = server.create_app(admin, "Search bench")
        token = client_token(server, client_id, secret)
        print(f"  {name}: seeding {args.users:,} users, {BULK:,} per request, "
              f"{args.seed_threads} requests at once", flush=True)
        wait_quiet()
        watch = CpuWatch(pid, pg_db is not None)
        seconds, ids = seed(server.base, token, args.users, args.seed_threads)
        seed_cpu = watch.done()
        seeded_hwm = proc_status(pid, "VmHWM")
        print(f"  {name}: CPUs while seeding: {cpu_text(seed_cpu)}", flush=True)
        print(f"  {name}: seeded in {seconds:.1f} s ({args.users / seconds:,.0f} users/s); "
              f"VmHWM {seeded_hwm:.1f} MiB", flush=True)
        vacuum_s = None
        if pg_db:
            quiesce(pid, pg_db)
            started = time.perf_counter()
            psql("VACUUM (ANALYZE)", db=pg_db)
            vacuum_s = time.perf_counter() - started
            print(f"  {name}: VACUUM (ANALYZE) took {vacuum_s:.1f} s", flush=True)
        quiesce(pid, pg_db)

        # One client, unloaded: every query's answers checked, and timed.
        token = client_token(server, client_id, secret)
        client = Http(server.base)
        checks = {}
        for query in queries:
            c = single_client(client, token, query)
            checks[query["key"]] = c
            print(f"    1 client {query['key']}: median {c['median']:.1f} ms, max {c['max']:.1f} ms "
                  f"({c['n']} requests, status {c['statuses']})"
                  + (f"  {WARN} {len(c['wrong'])} wrong answers, e.g. {c['wrong'][0]}"
                     if c["wrong"] else ""), flush=True)
        offset_rows = offsets(client, token, args.users)
        client.close()
        client = None

        results = {}
        waits = {}
        for query in queries:
            key = query["key"]
            paths = os.path.join(tmp, f"{key}.paths")
            write_lines(paths, query["lines"])
            script = LUA_PATHS if len(set(query["lines"])) > 1 else lua_fixed(query["lines"][0])
            quiesce(pid, pg_db)
            env = {"BENCH_TOKEN": client_token(server, client_id, secret), "BENCH_PATHS": paths}
            r = measure(server, pg_db, script, env, args)
            results[key] = r
            waits[key] = r["waited"]
            print(f"  {name} {key}: {r['rps']:.1f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, "
                  f"{r['requests']} requests, non-2xx {r['non2xx']}, socket errors {r['socket_errors']} "
                  f"({socket_text(r)}); waited {waits[key]:.1f} s for an idle server; CPUs: "
                  f"{cpu_text(r['cpu'])}"
                  + (f"  {WARN} not trustworthy" if suspect(r, args) else ""), flush=True)
        after = quiesce(pid, pg_db)

        compare = None
        if pg_db:
            quiesce(pid, pg_db)
            pg = pgbench(args, f"roster_pgbench_{os.getpid()}", pid)
            print(f"  {name} pgbench -S: {pg['tps']:.0f} tps, latency average {pg['latency']:.2f} ms, "
                  f"failed {pg['failed']}", flush=True)
            sample = random.Random(7).sample(ids, min(len(ids), 100_000))
            ids_file = os.path.join(tmp, "ids")
            write_lines(ids_file, sample)
            env = {"BENCH_TOKEN": client_token(server, client_id, secret), "BENCH_IDS": ids_file}
            get = measure(server, pg_db, LUA_IDS, env, args)
            print(f"  {name} get_by_id: {get['rps']:.0f} req/s, p50 {get['p50']:.2f} ms, "
                  f"p99 {get['p99']:.2f} ms, non-2xx {get['non2xx']}, socket errors "
                  f"{get['socket_errors']} = {100 * get['rps'] / pg['tps']:.0f} % of pgbench -S"
                  + (f"  {WARN} not trustworthy" if suspect(get, args) else ""), flush=True)
            compare = {"pgbench": pg, "get": get, "ids": len(sample)}
        # VmHWM never falls, but the kernel's RSS counters are approximate: keep the larger.
        peak = max(seeded_hwm, proc_status(pid, "VmHWM"))
        server.stop()
        return {"seed_seconds": seconds, "seed_cpu": seed_cpu, "seeded_hwm": seeded_hwm, "peak_rss": peak,
                "vacuum_s": vacuum_s, "checks": checks, "offsets": offset_rows,
                "results": results, "waits": waits, "after_wait": after, "compare": compare}
    finally:
        if client is not None:
            client.close()
        shut(server)
        if pg_db:
            psql(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)", check=False)
        shutil.rmtree(tmp, ignore_errors=True)


# --- the report -----------------------------------------------------------------------------

def ms(x):
    return "n/a" if x != x else f"{x:,.2f}"


def matches_text(query):
    m = query["matches"]
    if len(set(m)) == 1:
        return f"{m[0]:,}"
    return f"{statistics.mean(m):,.0f} ({min(m):,}–{max(m):,})"


def cpu_cell(c, pg):
    parts = [c["server"], c["load"]] + ([c["postgres"]] if pg else []) + [c["other"]]
    return " / ".join(f"{x:.2f}" for x in parts)


def commit_text():
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return f"`{git_commit()}`" + (" with uncommitted changes in the working tree" if dirty else "")


def seed_goal(users):
    return SEED_GOAL_S * users / 1_000_000


def markdown(runs, args, queries, command):
    lines = [BEGIN, "## Search (`bench/search.py`)", ""] + machine_lines() + [
        f"- Commit: {commit_text()} (release build)",
        f"- Binary: `{args.bin}`",
        f"- Command: `{command}`",
        f"- Population: {args.users:,} users seeded through `POST /v1/users/bulk` "
        f"({BULK:,} per request, {args.seed_threads} requests at once) by one app's client, each "
        f"with a unique email, phone number, external_user_id and username, a first name of "
        f"{len(FIRST_NAMES)}, a last name of {len(LAST_NAMES)}, a country of {len(COUNTRIES)} and "
        "custom_data `{\"x\": \"v<i % 1000>\"}`; every request carries that client's token.",
        f"- Load: wrk, {args.connections} connections, 2 threads, {args.duration} s per query, on the "
        "same CPUs as the server, after a "
        + (f"{args.warmup} s warm-up run of the same script (discarded)" if args.warmup > 0
           else "no warm-up run")
        + "; each run starts once the server is idle; each script rotates over up to "
        f"{SAMPLE:,} values drawn from the seeded users (shuffled per wrk thread); searches ask "
        "`page_limit=100` and answer `total_count`; wrk's timeout is longer than the run. "
        "Goals are on p99.",
        "- 1 client: before the load, one client sends a few requests of each query (up to 20, "
        "about 10 s), checks that each answer counts exactly the users its value matches, and "
        "times them (median).",
        "- CPUs: how the 2 cores were shared during each measured run (1.00 = one core busy): "
        "the server, the load generator (wrk), PostgreSQL where used, and other work on the "
        f"machine; every run waits (up to 60 s) for the machine to be quiet first, and one "
        f"during which other work still took over {OTHER_MAX} CPUs is marked {WARN}.", ""]
    by_key = {qq["key"]: qq for qq in queries}
    for name, run in runs.items():
        res = run["results"]
        pg = run["compare"] is not None
        cpu_heads = "server / wrk / PostgreSQL / other" if pg else "server / wrk / other"
        lines += [f"### {name}", "",
                  "| query | distinct values | matches per value | 1 client ms | req/s | p50 ms | "
                  f"p99 ms | non-2xx | socket errors | goal p99 | | CPUs: {cpu_heads} |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
        notes = []
        for key, r in res.items():
            query = by_key[key]
            check = run["checks"][key]
            bad = suspect(r, args) or bool(check["wrong"])
            ok = r["requests"] > 0 and r["p99"] < query["goal"] and not bad
            goal = f"< {query['goal']:,} ms"
            lines.append(
                f"| {query['label']} | {len(set(query['lines'])):,} | {matches_text(query)} | "
                f"{check['median']:,.1f} | {r['rps']:,.1f}{f' {WARN}' if bad else ''} | {ms(r['p50'])} | "
                f"{ms(r['p99'])} | {r['non2xx']:,} | {r['socket_errors']:,} | {goal} | {verdict(ok)} | "
                f"{cpu_cell(r['cpu'], pg)} |")
            for c in cautions(r, args):
                notes.append(f"- {WARN} {query['label']}: {c}")
            if check["wrong"]:
                notes.append(f"- {WARN} {query['label']}: {len(check['wrong'])} of {check['n']} "
                             f"checked answers were wrong, e.g. {check['wrong'][0]}")
            if run["waits"].get(key, 0) > 5:
                notes.append(f"- {query['label']}: the server took {run['waits'][key]:.0f} s to "
                             "finish the warm-up's requests before the measured run")
        if notes:
            lines += [""] + notes
        lines += ["", "Examples: " + "; ".join(f"`{by_key[k]['example']}`" for k in res
                                                if by_key[k]["example"]), ""]
        lines += ["| `GET /v1/users?page_limit=100&page_offset=N`, 1 client | median ms | max ms | "
                  "users in the page |",
                  "| --- | ---: | ---: | ---: |"]
        for row in run["offsets"]:
            beyond = " (beyond the population)" if row["beyond"] else ""
            status = "" if row["statuses"] == [200] else f" {WARN} status {row['statuses']}"
            lines.append(f"| page_offset={row['offset']:,}{beyond} | {row['median']:,.1f} | "
                         f"{row['max']:,.1f} | {row['results']}{status} |")
        lines += ["", "(5 requests per offset; no goal is set for them.)", ""]
        goal_s = seed_goal(args.users)
        if name == BACKEND_LABELS["sqlite"]:
            seed_line = (f"(goal < {SEED_GOAL_S:.0f} s per 1,000,000 users, here < {goal_s:.1f} s: "
                         f"{verdict(run['seed_seconds'] < goal_s)})")
        else:
            seed_line = "(the goal, < 2 min per 1,000,000 users, is set for SQLite only)"
        lines.append(f"- Seeding {args.users:,} users: {run['seed_seconds']:.1f} s, "
                     f"{args.users / run['seed_seconds']:,.0f} users/s {seed_line}; CPUs meanwhile: "
                     f"{cpu_text(run['seed_cpu'])}"
                     + (f" {WARN} other work slowed it" if run["seed_cpu"]["other"] > OTHER_MAX else ""))
        if run["vacuum_s"] is not None:
            lines.append(f"- `VACUUM (ANALYZE)` after seeding: {run['vacuum_s']:.1f} s")
        lines.append(f"- Peak resident memory (VmHWM): {run['seeded_hwm']:.1f} MiB after seeding, "
                     f"{run['peak_rss']:.1f} MiB over the whole run (bench/users.py's goal under "
                     f"load, < {RSS_GOAL_MIB:.0f} MB: {verdict(run['peak_rss'] < RSS_GOAL_MIB)})")
        cmp_ = run["compare"]
        if cmp_:
            pg, get = cmp_["pgbench"], cmp_["get"]
            share = 100 * get["rps"] / pg["tps"] if pg["tps"] else float("nan")
            bad = suspect(get, args) or pg["failed"] > 0 or pg["cpu"]["other"] > OTHER_MAX
            lines += [
                f"- `{pg['command']}` (scale 10, scratch database): {pg['tps']:,.0f} tps, latency "
                f"average {pg['latency']:.2f} ms, failed transactions {pg['failed']:,}; CPUs: "
                f"{cpu_text(pg['cpu'])}"
                + (f" {WARN} other work took CPU" if pg["cpu"]["other"] > OTHER_MAX else ""),
                f"- `GET /v1/users/{{id}}` (rotating over {cmp_['ids']:,} seeded ids), same run: {get['rps']:,.0f} req/s, p50 {ms(get['p50'])} ms, p99 "
                f"{ms(get['p99'])} ms, non-2xx {get['non2xx']:,}, socket errors "
                f"{get['socket_errors']:,}: {share:.0f} % of pgbench -S (goal >= "
                f"{PGBENCH_SHARE_GOAL:.0f} %: {verdict(share >= PGBENCH_SHARE_GOAL and not bad)})"
                + (f" {WARN} not trustworthy" if bad else "")]
            for c in cautions(get, args):
                lines.append(f"  - {WARN} get-by-id: {c}")
            if pg["failed"]:
                lines.append(f"  - {WARN} pgbench: {pg['failed']:,} failed transactions")
            if pg["cpu"]["other"] > OTHER_MAX:
                lines.append(f"  - {WARN} pgbench: other work on the machine took "
                             f"{pg['cpu']['other']:.2f} CPUs during its run")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    p.add_argument("--backends", default="sqlite,postgres",
                   help="comma-separated: sqlite, postgres (default: %(default)s)")
    p.add_argument("--users", type=int, default=1_000_000, help="users to seed (default: %(default)s)")
    p.add_argument("--duration", type=int, default=10,
                   help="seconds of each measured wrk run (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=2, metavar="SECONDS",
                   help="seconds of the discarded warm-up run before each measured run, "
                        "0 for none (default: %(default)s)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default: %(default)s)")
    p.add_argument("--seed-threads", type=int, default=4,
                   help="bulk requests in flight at once while seeding (default: %(default)s)")
    p.add_argument("--bin", default=os.environ.get("ROSTER_BIN")
                   or os.path.join("target", "release", "roster"),
                   help="roster binary (default: $ROSTER_BIN, else %(default)s; build it with "
                        "cargo build --release -p roster-server)")
    args = p.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for name in backends:
        if name not in BACKEND_LABELS:
            p.error(f"unknown backend {name!r} (sqlite, postgres)")
    if args.duration < 1 or args.warmup < 0 or args.connections < 1 or args.seed_threads < 1:
        p.error("--duration, --connections and --seed-threads must be >= 1, --warmup >= 0")
    if not 1 <= args.users <= USERS_MAX:
        p.error(f"--users must be between 1 and {USERS_MAX:,}")
    binary = args.bin if os.path.isabs(args.bin) else os.path.join(ROOT, args.bin)
    if not os.access(binary, os.X_OK):
        p.error(f"--bin {args.bin}: not an executable file (cargo build --release -p roster-server)")
    for tool in ["wrk"] + (["psql", "pgbench"] if "postgres" in backends else []):
        if shutil.which(tool) is None:
            p.error(f"{tool} is not on PATH")
    command = ("python3 bench/search.py " + shlex.join(sys.argv[1:])).strip()
    print(f"building the queries over {args.users:,} users", flush=True)
    queries = build_queries(args.users)
    runs = {}
    for name in backends:
        print(f"== {BACKEND_LABELS[name]}", flush=True)
        runs[BACKEND_LABELS[name]] = run_backend(name, binary, args, queries)
    text = markdown(runs, args, queries, command)
    print(text)
    if args.write:
        write_section(text, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
