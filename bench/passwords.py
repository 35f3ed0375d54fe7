#!/usr/bin/env python3
"""Password benchmark: password logins against pure Argon2id, refresh-token grants, and
reads while logins flood the server, in one run against one roster on a SQLite file.

Usage: bench/passwords.py [--write] [--duration 10] [--warmup 2] [--connections 32]
                          [--users 200] [--bin target/release/roster]
                          [--argon2-rate-bin target/release/examples/argon2_rate]
                          [--argon2-memory-kib 19456] [--argon2-iterations 2]
                          [--argon2-parallelism 1]

Seeds --users users with a usable password (POST /v1/users/bulk, credentials included)
in one app, then measures, in this order:

1. pure Argon2id verifications per second on every core (`argon2_rate`, --duration
   seconds), at the parameters the server is started with (the --argon2-* options, given
   to the server as ROSTER_ARGON2_* and to argon2_rate as arguments): the ceiling;
2. password logins per second, POST /cis/v1/auth/password/authenticate with the app's
   client token, cycling over the seeded users (one Argon2id verification each), p50/p99,
   and the API's overhead against the pure figure (goal: < 10 %, i.e. logins/s >= 90 %
   of verifications/s);
3. refresh-token grants per second (POST /oidc/token, grant_type=refresh_token), p50/p99:
   every token works once, so each wrk thread keeps a queue of unused tokens (its share of
   tokens from fresh logins, a few more than its connections) and every request takes the
   next one while every 200 answer puts its new refresh_token back; no token is sent twice
   and any non-2xx (a 400 means a token was refused) is reported;
4. GET /v1/users/{id} alone, then again while a second wrk floods the authenticate
   endpoint for the same duration, and the loaded figure as a share of the unloaded one
   (goal: >= 50 %).

Every measured wrk run follows a warm-up run of the same script (--warmup seconds, 0 for
none) whose figures are discarded (the concurrent pair warms up as a pair; argon2_rate
warms up too). Each figure stands beside its run's non-2xx responses and socket errors
(connect, read, write, timeout); a figure whose run had any is marked " ⚠" and explained
under its table: it is not trustworthy.

Needs the release server and the argon2_rate example; build them with
    cargo build --release && cargo build --release -p roster-core --example argon2_rate
--write replaces the script's own section of docs/BENCHMARKS.md (between
"<!-- bench/passwords.py: begin -->" and "... end -->", appended at the end of the file
when absent); leave it out to only print. Runs outside CI; traffic goes to 127.0.0.1 only;
every wrk run is bounded by its duration; the server is stopped on every exit.
"""

import argparse
import concurrent.futures
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from roster_harness import Roster  # noqa: E402
from wrk_report import (  # noqa: E402
    WARN, flagged, git_commit, machine_lines, parse_wrk, shut, socket_text,
    verdict, warning, write_lines, write_section,
)

BEGIN = "<!-- bench/passwords.py: begin -->"
END = "<!-- bench/passwords.py: end -->"

BUILD_HINT = "cargo build --release && cargo build --release -p roster-core --example argon2_rate"


PASSWORD = "Str0ng!Passw0rd-x"
# wrk threads; the machine this is written for has 2 cores.
THREADS = 2
# Unused refresh tokens each wrk thread holds beyond one per connection: wrk builds one
# request in thread 1's state before the run to check the script (that token is never
# sent), and a connection that breaks mid-request loses its token.
SPARE_TOKENS = 4
# Logins queue on the Argon2id workers (one per core), so at 32 connections a login
# answers in about a second; wrk's default 2 s would count slow ones as timeouts.
WRK_TIMEOUT = 10

LUA_COMMON = """
local n = 0
function setup(thread) n = n + 1; thread:set("tid", n) end
"""

# Requests are formatted once per thread, in a shuffled cycle, so the load generator
# spends its CPU on sending rather than on building strings (it shares the cores).
LUA_CYCLE = """
local reqs, i = {}, 0
function request() i = i % #reqs + 1; return reqs[i] end
local function shuffle(items, seed)
  math.randomseed(seed)
  for k = #items, 2, -1 do local j = math.random(k); items[k], items[j] = items[j], items[k] end
end
local function lines(env)
  local items = {}
  for line in io.lines(os.getenv(env)) do items[#items + 1] = line end
  return items
end
"""

LUA_AUTH = 'wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")\n'

LUA = {
    "login": LUA_AUTH + LUA_COMMON + LUA_CYCLE + """
wrk.headers["Content-Type"] = "application/json"
function init(args)
  local emails = lines("BENCH_EMAILS")
  shuffle(emails, tid * 104729 + tonumber(os.getenv("BENCH_SEED")))
  local password = os.getenv("BENCH_PASSWORD")
  for k = 1, #emails do
    local body = string.format('{"username":"%s","username_type":"email","password":"%s"}',
                               emails[k], password)
    reqs[k] = wrk.format("POST", "/cis/v1/auth/password/authenticate", nil, body)
  end
end
""",
    "get_by_id": LUA_AUTH + LUA_COMMON + LUA_CYCLE + """
function init(args)
  local ids = lines("BENCH_IDS")
  shuffle(ids, tid * 7919)
  for k = 1, math.min(#ids, 20000) do reqs[k] = wrk.format("GET", "/cis/v1/users/" .. ids[k]) end
end
""",
    # Each thread reads its share of BENCH_REFRESH_TOKENS (line k goes to thread
    # k mod BENCH_THREADS + 1) into a queue. request() takes the queue's head, so no token
    # is sent twice; response() appends the refresh_token of every 200 answer. A connection
    # asks for its next request only once its answer is in, so the queue never runs dry
    # while every answer is a 200; if it does, the request carries a token that cannot
    # work (a 400, reported), and `lacking` counts it. done() prints the counters.
    "refresh": """
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local prefix = os.getenv("BENCH_REFRESH_FORM")
local n, threads = 0, {}
function setup(thread) n = n + 1; thread:set("tid", n); threads[n] = thread end
local queue, head, tail = {}, 1, 0
lacking, issued, returned = 0, 0, 0
function init(args)
  local count, k = tonumber(os.getenv("BENCH_THREADS")), 0
  for line in io.lines(os.getenv("BENCH_REFRESH_TOKENS")) do
    if k % count == tid - 1 then tail = tail + 1; queue[tail] = line end
    k = k + 1
  end
end
function request()
  local token
  if head <= tail then
    token = queue[head]; queue[head] = nil; head = head + 1; issued = issued + 1
  else
    token = "rrt_none-left"; lacking = lacking + 1
  end
  return wrk.format("POST", "/oidc/token", nil, prefix .. token)
end
function response(status, headers, body)
  if status == 200 then
    local token = string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
    if token then tail = tail + 1; queue[tail] = token; returned = returned + 1 end
  end
end
function done(summary, latency, requests)
  local l, s, r = 0, 0, 0
  for _, t in ipairs(threads) do l = l + t:get("lacking"); s = s + t:get("issued"); r = r + t:get("returned") end
  io.write(string.format("refresh tokens: sent %d, new ones received %d, requests without a token %d\\n", s, r, l))
end
""",
}

LABELS = {
    "pure": "pure Argon2id verifications (`argon2_rate`)",
    "login": "`POST /cis/v1/auth/password/authenticate`",
    "refresh": "`POST /oidc/token` (`grant_type=refresh_token`)",
    "get_alone": "`GET /v1/users/{id}` alone",
    "get_loaded": "`GET /v1/users/{id}` during a login flood",
    "flood": "`POST /cis/v1/auth/password/authenticate` (the flood, at the same time)",
}


class Wrk:
    """One wrk run in the background: start it, then result() waits for its figures."""

    def __init__(self, base, key, env, duration, connections, tmp):
        self.duration = duration
        path = os.path.join(tmp, f"{key}.lua")
        with open(path, "w") as f:
            f.write(LUA[key])
        self.proc = subprocess.Popen(
            ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{duration}s", f"--timeout={WRK_TIMEOUT}s",
             "--latency", "-s", path, base],
            env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

    def result(self):
        try:
            out, err = self.proc.communicate(timeout=self.duration + WRK_TIMEOUT + 30)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError("wrk did not finish in time") from None
        try:
            return parse_wrk(out)
        except RuntimeError:
            raise RuntimeError(f"wrk exited with {self.proc.returncode}:\n{out}{err}") from None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


def run_wrk(runs, base, key, env, duration, connections, tmp):
    """Starts a wrk run and records it in `runs`, so that a failure elsewhere stops it."""
    w = Wrk(base, key, env, duration, connections, tmp)
    runs.append(w)
    return w


def show(name, r):
    extra = ""
    if "tokens" in r:
        t = r["tokens"]
        extra = (f", refresh tokens sent {t['sent']}, new ones received {t['received']}, "
                 f"requests without a token {t['lacking']}")
    print(f"  {name}: {r['rps']:.1f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, "
          f"{r['requests']} requests, non-2xx {r['non2xx']}, socket errors {r['socket_errors']} "
          f"({socket_text(r)}){extra}" + (f"  {WARN} not trustworthy" if flagged(r) else ""),
          flush=True)


def argon2_rate(binary, seconds, args):
    out = subprocess.run(
        [binary, str(seconds), str(args.argon2_memory_kib), str(args.argon2_iterations),
         str(args.argon2_parallelism)],
        capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"argon2_rate exited with {out.returncode}:\n{out.stdout}{out.stderr}")
    lines = [line for line in out.stdout.splitlines() if line.strip().startswith("{")]
    if not lines:
        raise RuntimeError(f"no figures in argon2_rate's output:\n{out.stdout}")
    return json.loads(lines[-1])


def seed(server, token, users):
    """Bulk-creates `users` users with a usable password, 1000 per request; returns
    (seconds, ids, emails)."""
    ids, emails = [], []
    started = time.perf_counter()
    for batch in range(0, users, 1000):
        items = [{"email": f"u{i}@bench.example",
                  "credentials": {"password": PASSWORD, "force_replace": False}}
                 for i in range(batch, min(batch + 1000, users))]
        status, body = server.request("POST", "/cis/v1/users/bulk", token, items, timeout=600)
        if status != 201 or body["result"]["failed"]:
            raise RuntimeError(f"bulk create failed: {status} {str(body)[:300]}")
        for u in body["result"]["users"]:
            ids.append(u["user_id"])
            emails.append(u["email"]["value"])
    return time.perf_counter() - started, ids, emails


def login(server, token, email):
    status, body = server.request("POST", "/cis/v1/auth/password/authenticate", token,
                                  {"username": email, "username_type": "email", "password": PASSWORD},
                                  timeout=60)
    if status != 200 or not (body or {}).get("refresh_token"):
        raise RuntimeError(f"login of {email} failed: {status} {str(body)[:300]}")
    return body["refresh_token"]


def refresh_tokens(server, token, emails, count):
    """`count` refresh tokens, each from its own login (its own session)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda k: login(server, token, emails[k % len(emails)]), range(count)))


def run(binary, rate_bin, args):
    tmp = tempfile.mkdtemp(prefix="roster-passwords-")
    server = None
    runs = []
    results = {}
    try:
        server = Roster(binary, "sqlite://" + os.path.join(tmp, "roster.db"))
        admin = server.admin_token()
        _, client_id, secret = server.create_app(admin, "Bench passwords")
        token = server.token(client_id, secret)
        seconds, ids, emails = seed(server, token, args.users)
        print(f"  seeded {len(ids)} users with a password in {seconds:.1f} s", flush=True)
        ids_file = os.path.join(tmp, "ids")
        emails_file = os.path.join(tmp, "emails")
        write_lines(ids_file, ids)
        write_lines(emails_file, emails)

        # One login and its refresh, by hand: the rotation works and the old token is refused.
        first = login(server, token, emails[0])
        form = {"grant_type": "refresh_token", "client_id": client_id, "client_secret": secret}
        status, body = server.request("POST", "/oidc/token", form={**form, "refresh_token": first})
        if status != 200 or not (body or {}).get("refresh_token") or body["refresh_token"] == first:
            raise RuntimeError(f"refresh grant failed: {status} {str(body)[:300]}")

        # Refresh tokens for the warm-up and the measured run, each from its own login.
        per_thread = -(-args.connections // THREADS) + SPARE_TOKENS
        phases = (["warmup"] if args.warmup > 0 else []) + ["measured"]
        started = time.perf_counter()
        tokens = refresh_tokens(server, token, emails, per_thread * THREADS * len(phases))
        if len(set(tokens)) != len(tokens):
            raise RuntimeError("two logins returned the same refresh token")
        token_files = {}
        for k, phase in enumerate(phases):
            token_files[phase] = os.path.join(tmp, f"refresh-{phase}")
            write_lines(token_files[phase], tokens[k * per_thread * THREADS:(k + 1) * per_thread * THREADS])
        print(f"  {len(tokens)} refresh tokens from as many logins in "
              f"{time.perf_counter() - started:.1f} s ({per_thread} per wrk thread and run)", flush=True)

        env = {"BENCH_TOKEN": token, "BENCH_IDS": ids_file, "BENCH_EMAILS": emails_file,
               "BENCH_PASSWORD": PASSWORD, "BENCH_SEED": "1", "BENCH_THREADS": str(THREADS),
               "BENCH_REFRESH_FORM": urllib.parse.urlencode(form) + "&refresh_token="}
        flood_env = {**env, "BENCH_SEED": "2"}

        def measure(key, name):
            e = env
            if args.warmup > 0:
                w = {"BENCH_REFRESH_TOKENS": token_files["warmup"]} if key == "refresh" else {}
                run_wrk(runs, server.base, key, {**e, **w}, args.warmup, args.connections, tmp).result()
            m = {"BENCH_REFRESH_TOKENS": token_files["measured"]} if key == "refresh" else {}
            r = run_wrk(runs, server.base, key, {**e, **m}, args.duration, args.connections, tmp).result()
            show(name, r)
            return r

        # 1. The ceiling: pure Argon2id on every core, the server idle.
        if args.warmup > 0:
            argon2_rate(rate_bin, args.warmup, args)
        pure = argon2_rate(rate_bin, args.duration, args)
        results["pure"] = pure
        print(f"  pure Argon2id: {pure['per_second']:.1f} verifications/s on {pure['threads']} threads "
              f"(m={pure['memory_kib']} KiB, t={pure['iterations']}, p={pure['parallelism']}, "
              f"{pure['verifications']} in {pure['seconds']} s)", flush=True)

        # 2. Password logins.
        results["login"] = measure("login", "logins")

        # 3. Refresh-token grants, chained.
        results["refresh"] = measure("refresh", "refresh grants")

        # 4. Reads alone, then beside a login flood.
        results["get_alone"] = measure("get_by_id", "get-by-id alone")
        pair = []
        if args.warmup > 0:
            pair = [run_wrk(runs, server.base, "login", flood_env, args.warmup, args.connections, tmp),
                    run_wrk(runs, server.base, "get_by_id", env, args.warmup, args.connections, tmp)]
            for w in pair:
                w.result()
        pair = [run_wrk(runs, server.base, "login", flood_env, args.duration, args.connections, tmp),
                run_wrk(runs, server.base, "get_by_id", env, args.duration, args.connections, tmp)]
        results["flood"], results["get_loaded"] = (w.result() for w in pair)
        show("get-by-id during the login flood", results["get_loaded"])
        show("the login flood", results["flood"])

        server.stop()
        results["seed_seconds"] = seconds
        results["tokens_per_thread"] = per_thread
        return results
    finally:
        for w in runs:
            if w.proc.poll() is None:
                w.stop()
        shut(server)
        shutil.rmtree(tmp, ignore_errors=True)


def rps_cell(r):
    return f"{r['rps']:,.1f}" + (f" {WARN}" if flagged(r) else "")


def mark(*rs):
    return f" {WARN} from a run with errors, not trustworthy" if any(flagged(r) for r in rs) else ""


def warmup_text(args):
    if args.warmup > 0:
        return (f"each measured run follows a {args.warmup} s warm-up run of the same script "
                "whose figures are discarded (the concurrent pair warms up as a pair, "
                "argon2_rate warms up too)")
    return "no warm-up run (`--warmup 0`)"


def markdown(res, args, command):
    pure = res["pure"]
    pure_rps = pure["per_second"]
    login, refresh = res["login"], res["refresh"]
    alone, loaded, flood = res["get_alone"], res["get_loaded"], res["flood"]
    lines = [BEGIN, "## Password logins (`bench/passwords.py`)", ""] + machine_lines() + [
        f"- Commit: `{git_commit()}` (release build)",
        f"- Command: `{command}`",
        f"- Load: wrk, {args.connections} connections, {THREADS} threads, {args.duration} s per run "
        f"(wrk timeout {WRK_TIMEOUT} s), on the same CPUs as the server; {warmup_text(args)}; "
        f"one server on a SQLite file (WAL) in a temporary directory, log level `warn`; "
        f"{args.users:,} users seeded with a password through `POST /v1/users/bulk` "
        f"({res['seed_seconds']:.1f} s); Argon2id m={args.argon2_memory_kib} KiB, "
        f"t={args.argon2_iterations}, p={args.argon2_parallelism} in the server and in the pure "
        f"figure (`argon2_rate`: {pure['threads']} threads, one per core, {pure['seconds']} s); "
        "logins cycle over the seeded users (a shuffled cycle per wrk thread); each refresh "
        "grant presents a token never sent before: each wrk thread starts with "
        f"{res['tokens_per_thread']} tokens from as many logins and queues the refresh_token "
        "of every answer for its next request; the login flood is a second wrk on the "
        f"authenticate endpoint ({args.connections} connections) started with the loaded "
        "get-by-id run, for the same duration.", "",
        "| measurement | per second | p50 ms | p99 ms | requests | non-2xx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {LABELS['pure']} | {pure_rps:,.1f} | – | – | {pure['verifications']:,} | – | – |"]
    for key in ("login", "refresh", "get_alone", "get_loaded", "flood"):
        r = res[key]
        lines.append(f"| {LABELS[key]} | {rps_cell(r)} | {r['p50']:.2f} | {r['p99']:.2f} | "
                     f"{r['requests']:,} | {r['non2xx']:,} | {r['socket_errors']:,} |")
    notes = [f"- {WARN} {LABELS[key]}: {warning(res[key])}"
             for key in ("login", "refresh", "get_alone", "get_loaded", "flood") if flagged(res[key])]
    if notes:
        lines += [""] + notes

    share_login = 100 * login["rps"] / pure_rps if pure_rps else float("nan")
    overhead = 100 - share_login
    login_ok = pure_rps > 0 and login["rps"] >= 0.9 * pure_rps
    t = refresh.get("tokens", {"sent": 0, "received": 0, "lacking": 0})
    refresh_ok = refresh["non2xx"] == 0 and t["lacking"] == 0
    refresh_note = ("" if refresh_ok else
                    f": **{refresh['non2xx']:,} refused** (a 400 means the server saw a refresh "
                    f"token it had already rotated, or one it never issued; "
                    f"{t['lacking']:,} requests found no unused token left)")
    get_share = 100 * loaded["rps"] / alone["rps"] if alone["rps"] else float("nan")
    get_ok = alone["rps"] > 0 and loaded["rps"] >= 0.5 * alone["rps"]
    lines += ["",
              f"- Password logins: {login['rps']:,.1f}/s = {share_login:.0f} % of the pure "
              f"{pure_rps:,.1f} Argon2id verifications/s, the API's overhead {overhead:.0f} % "
              f"(goal < 10 %: {verdict(login_ok)}){mark(login)}",
              f"- Refresh-token grants: {refresh['rps']:,.1f}/s, p99 {refresh['p99']:.2f} ms; "
              f"no token put into two requests ({t['sent']:,} taken from the queues, "
              f"{t['received']:,} new ones received); non-2xx {refresh['non2xx']:,} "
              f"(must be 0: {verdict(refresh_ok)}){refresh_note}",
              f"- `GET /v1/users/{{id}}` during a login flood: {loaded['rps']:,.1f}/s = "
              f"{get_share:.0f} % of its {alone['rps']:,.1f}/s alone (goal >= 50 %: {verdict(get_ok)})"
              f"{mark(alone, loaded)}; the flood meanwhile: {flood['rps']:,.1f} logins/s"
              f"{mark(flood)}", ""]
    lines.append(END)
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    p.add_argument("--duration", type=int, default=10,
                   help="seconds of each measured run (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=2, metavar="SECONDS",
                   help="seconds of the discarded warm-up run before each measured run, "
                        "0 for none (default: %(default)s)")
    p.add_argument("--connections", type=int, default=32,
                   help="wrk connections of each run (default: %(default)s)")
    p.add_argument("--users", type=int, default=200, help="users to seed (default: %(default)s)")
    p.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "roster"),
                   help="roster binary (default: target/release/roster)")
    p.add_argument("--argon2-rate-bin", default=os.path.join(ROOT, "target", "release", "examples",
                                                             "argon2_rate"),
                   help="the argon2_rate example (default: target/release/examples/argon2_rate)")
    p.add_argument("--argon2-memory-kib", type=int, default=19456,
                   help="Argon2id memory of the server and the pure figure (default: %(default)s)")
    p.add_argument("--argon2-iterations", type=int, default=2,
                   help="Argon2id iterations (default: %(default)s)")
    p.add_argument("--argon2-parallelism", type=int, default=1,
                   help="Argon2id lanes (default: %(default)s)")
    args = p.parse_args()
    if args.duration < 1 or args.warmup < 0 or args.users < 1:
        p.error("--duration and --users must be >= 1, --warmup >= 0")
    if args.connections < THREADS:
        p.error(f"--connections must be >= {THREADS} (wrk threads)")
    if min(args.argon2_memory_kib, args.argon2_iterations, args.argon2_parallelism) < 1:
        p.error("the --argon2-* values must be >= 1")
    for flag, path in (("--bin", args.bin), ("--argon2-rate-bin", args.argon2_rate_bin)):
        if not os.access(path, os.X_OK):
            p.error(f"{flag} {path}: not an executable file; build it with `{BUILD_HINT}` "
                    "(in the repository root) or pass its path")
    if shutil.which("wrk") is None:
        p.error("wrk is not on PATH (apt-get install wrk)")
    # The harness passes its environment on to the server: the same Argon2id parameters
    # there as in the pure figure.
    os.environ.update(ROSTER_ARGON2_MEMORY_KIB=str(args.argon2_memory_kib),
                      ROSTER_ARGON2_ITERATIONS=str(args.argon2_iterations),
                      ROSTER_ARGON2_PARALLELISM=str(args.argon2_parallelism))
    command = ("python3 bench/passwords.py " + shlex.join(sys.argv[1:])).strip()
    print("== SQLite (file, WAL)", flush=True)
    results = run(os.path.abspath(args.bin), os.path.abspath(args.argon2_rate_bin), args)
    text = markdown(results, args, command)
    print(text)
    if args.write:
        write_section(text, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
