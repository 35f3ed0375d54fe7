#!/usr/bin/env python3
"""Memory benchmark: does the server's resident memory come back near its baseline after
a burst of large-but-legal requests? One roster on a fresh SQLite file.

Usage: bench/memory.py [--bin target/release/roster] [--concurrency 16] [--seconds 30]
                       [--settle 10,30] [--users 2000] [--list-concurrency 1]
                       [--max-rss-mib N]

1. Starts the server (scripts/roster_harness.py: bootstrap management client, JSON log,
   "roster ready" line for the address), creates an app and takes its client token.
2. Warm-up: a few token grants, a few small reads, one small user (the oldest user, so
   that `page_limit=1` pages stay small). Baseline = VmRSS (/proc/PID/status) 2 s later.
3. Burst, --concurrency threads, each on its own keep-alive connection, every request
   legal and as large as the documented limits allow (DECISIONS.md, crates/core):
   - tokens: `POST /oidc/token` (client credentials) with a 1020-byte `scope` of
     space-separated words (limit 1024), every token distinct, each used once on
     `GET /cis/v1/users?page_limit=1`, so the verified-token cache fills;
   - creates: --users `POST /cis/v1/users`, each with `custom_data` and `custom_app_data`
     of just under 500 KB serialised (the cap is 500 * 1024 bytes each), a body of about
     0.98 MiB (the body cap is 1 MiB; the two data caps keep it below);
   - updates: `PUT /cis/v1/users/{id}` adding 50 long `secondary_emails` (the per-user cap)
     to each created user, once;
   - lists: `GET /cis/v1/users?page_limit=5000` (the maximum), once all --users exist, at
     most --list-concurrency at a time: each page carries every user with both objects.
   Threads are given a role in turn (tokens, creates, updates, lists); a thread whose role
   has nothing to do makes token grants. The burst lasts --seconds, and longer if the
   creates or the first full list page are not done by then. A sampler thread reads VmRSS
   every 50 ms (peak; VmHWM is shown beside it).
4. After the burst the client closes its connections; VmRSS is read --settle seconds after
   the burst's end (comma-separated, default 10 and 30 s; the last is "after").

Expected statuses: 200 (token, reads, update), 201 (create). Any other status, a 5xx or a
connection error is listed and makes the exit status 1, as does VmRSS above --max-rss-mib
(the burst is then cut short to protect the machine). Prints a Markdown section for
docs/BENCHMARKS.md; it writes nothing there. Runs outside CI; traffic goes to 127.0.0.1
only; the server is stopped (SIGTERM) on every exit.
"""

import argparse
import collections
import datetime
import http.client
import json
import os
import re
import shlex
import shutil
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
from wrk_report import git_commit, shut  # noqa: E402

BEGIN = "<!-- bench/memory.py: begin -->"
END = "<!-- bench/memory.py: end -->"

# The limits the requests stay just under (DECISIONS.md; crates/api/src/routes/oidc.rs,
# crates/core/src/user/input.rs, crates/api/src/extract.rs).
SCOPE_MAX = 1024
SCOPE_BYTES = SCOPE_MAX - 4
CUSTOM_DATA_MAX = 500 * 1024
CUSTOM_DATA_BYTES = CUSTOM_DATA_MAX - 64
BODY_MAX = 1024 * 1024
SECONDARY_MAX = 50
PAGE_LIMIT_MAX = 5000

SAMPLE_SECONDS = 0.05
CHUNK = 1 << 20

TOKEN, READ, CREATE, UPDATE, LIST = "token", "read", "create", "update", "list"
EXPECTED = {TOKEN: 200, READ: 200, CREATE: 201, UPDATE: 200, LIST: 200}
LABELS = {
    TOKEN: f"`POST /oidc/token`, {SCOPE_BYTES}-byte scope",
    READ: "`GET /v1/users?page_limit=1`, each token once",
    CREATE: "`POST /v1/users`, 2 x ~500 KB custom data",
    UPDATE: f"`PUT /v1/users/{{id}}`, {SECONDARY_MAX} secondary emails",
    LIST: f"`GET /v1/users?page_limit={PAGE_LIMIT_MAX}`",
}
ROLES = [TOKEN, CREATE, UPDATE, LIST]


def proc_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_parts(pid):
    """VmRSS split as the kernel counts it: anonymous (heap), file-backed (the mapped
    database, the binary), shared memory (SQLite's -shm)."""
    return {k: proc_kib(pid, k) for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem")}


def parts_text(parts):
    return (f"anon {mib(parts['RssAnon']):.1f}, file {mib(parts['RssFile']):.1f}, "
            f"shmem {mib(parts['RssShmem']):.1f}")


def mib(kib):
    return kib / 1024.0


def json_object(target, tag, salt):
    """The compact JSON text of an object of exactly `target` bytes: keys k000, k001, ...
    whose values are runs of letters (no escapes), each starting with `tag`."""
    value_len = 2000
    letters = "abcdefghijklmnopqrstuvwxyz"
    base = (letters[salt % 26:] + letters[:salt % 26]) * (value_len // 26 + 2)
    parts, size, k = [], 2, 0  # the braces
    while True:
        key = f'"k{k:03d}":"'
        sep = 1 if parts else 0
        fixed = sep + len(key) + 1
        room = target - size - fixed
        if room <= 0:
            raise ValueError("json_object: target too small")
        if room <= value_len + fixed + len(key) + 2:
            # Last entry: take all the room left.
            value = (tag + base * (room // len(base) + 1))[:room]
            parts.append(key + value + '"')
            size += fixed + room
            break
        value = (tag + base)[:value_len]
        parts.append(key + value + '"')
        size += fixed + value_len
        k += 1
    text = "{" + ",".join(parts) + "}"
    assert len(text) == target, (len(text), target)
    return text


def create_body(i):
    """A create body for user `i`: both data objects just under their 500 KB cap."""
    head = json.dumps({"email": f"mem{i:07d}@bench.example",
                       "name": {"first_name": "Memory", "last_name": f"U{i}"}},
                      separators=(",", ":"))[:-1]
    tag = f"u{i:07d}-"
    body = (head + ',"custom_data":' + json_object(CUSTOM_DATA_BYTES, tag, i)
            + ',"custom_app_data":' + json_object(CUSTOM_DATA_BYTES, tag, i + 13) + "}")
    return body.encode()


def update_body(i):
    """50 secondary emails of 129 characters each (local part 64, a 50-letter label)."""
    domain = "s" * 50 + ".bench.example"
    emails = [(f"sec{i:07d}-{k:02d}-" + "x" * 64)[:64] + "@" + domain for k in range(SECONDARY_MAX)]
    return json.dumps({"secondary_emails": emails}).encode()


def scope_text(n):
    """A distinct scope of exactly SCOPE_BYTES bytes of space-separated words."""
    words = [f"burst:{n}"]
    k = 0
    while len(" ".join(words)) < SCOPE_BYTES:
        words.append(f"users:read{k:03d}")
        k += 1
    text = " ".join(words)[:SCOPE_BYTES]
    return text.rstrip(" ") + "x" * (SCOPE_BYTES - len(text.rstrip(" ")))


class Conn:
    """One keep-alive HTTP/1.1 connection; a broken one is reopened for the next request."""

    def __init__(self, host, port):
        self.host, self.port, self.c = host, port, None

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None

    def request(self, method, path, body=None, headers=None, timeout=120, keep=True):
        """Returns (status, body bytes, bytes received), or (None, error text, 0). With
        keep=False only the first 4 KiB of the body are kept (the rest is read and dropped)."""
        try:
            if self.c is None:
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            elif self.c.sock is not None:
                self.c.sock.settimeout(timeout)
            self.c.request(method, path, body=body, headers=headers or {})
            r = self.c.getresponse()
            if keep:
                data = r.read()
                received = len(data)
            else:
                data, received = b"", 0
                while True:
                    chunk = r.read(CHUNK)
                    if not chunk:
                        break
                    if received < 4096:
                        data += chunk[:4096 - received]
                    received += len(chunk)
            if r.will_close:
                self.close()
            return r.status, data, received
        except (OSError, http.client.HTTPException) as err:
            self.close()
            return None, f"{type(err).__name__}: {err}", 0


class Burst:
    def __init__(self, server, client_id, secret, token, args):
        parsed = urllib.parse.urlsplit(server.base)
        self.host, self.port = parsed.hostname, parsed.port
        self.proc = server.proc
        self.client_id, self.secret, self.token = client_id, secret, token
        self.args = args
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.counts = collections.Counter()           # (kind, status) -> n
        self.bytes_out = collections.Counter()        # kind -> bytes sent
        self.bytes_in = collections.Counter()         # kind -> bytes received
        self.slowest = collections.defaultdict(float)  # kind -> seconds
        self.problems = []                            # first few unexpected answers
        self.next_create = 0
        self.creates_done = 0
        self.created = []                             # (index, user_id), in creation order
        self.to_update = collections.deque()
        self.updated = []
        self.lists_done = 0
        self.list_totals = []
        self.list_slots = threading.Semaphore(args.list_concurrency)
        self.token_n = 0
        self.guard_tripped = None

    def record(self, kind, status, sent, received, seconds, data):
        with self.lock:
            self.counts[(kind, status)] += 1
            self.bytes_out[kind] += sent
            self.bytes_in[kind] += received
            self.slowest[kind] = max(self.slowest[kind], seconds)
            if status != EXPECTED[kind] and len(self.problems) < 20:
                text = data if isinstance(data, str) else data[:300].decode("utf-8", "replace")
                self.problems.append(f"{kind}: {status}: {text}")

    def call(self, conn, kind, method, path, body=None, headers=None, timeout=120, keep=True):
        started = time.perf_counter()
        status, data, received = conn.request(method, path, body, headers, timeout, keep)
        self.record(kind, status, len(body or b""), received, time.perf_counter() - started, data)
        return status, data

    def auth(self, token, content_type=None):
        h = {"Authorization": "Bearer " + token}
        if content_type:
            h["Content-Type"] = content_type
        return h

    def do_token(self, conn):
        with self.lock:
            self.token_n += 1
            n = self.token_n
        scope = scope_text(n)
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": self.client_id,
                                       "client_secret": self.secret, "scope": scope}).encode()
        status, data = self.call(conn, TOKEN, "POST", "/oidc/token", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            return
        try:
            body = json.loads(data)
            body["access_token"]
        except (ValueError, KeyError, TypeError):
            with self.lock:
                self.problems.append(f"token: 200 without an access_token: {data[:200]!r}")
                self.counts[(TOKEN, "no access_token")] += 1
            return
        if body.get("scope") != scope:
            with self.lock:
                self.problems.append(f"token: scope not echoed ({len(body.get('scope', ''))} bytes)")
                self.counts[(TOKEN, "scope mismatch")] += 1
        self.call(conn, READ, "GET", "/cis/v1/users?page_limit=1", headers=self.auth(body["access_token"]))

    def do_create(self, conn):
        with self.lock:
            if self.next_create >= self.args.users:
                return False
            i = self.next_create
            self.next_create += 1
        try:
            body = create_body(i)
            status, data = self.call(conn, CREATE, "POST", "/cis/v1/users", body,
                                     self.auth(self.token, "application/json"))
            if status == 201:
                m = re.search(rb'"user_id"\s*:\s*"([^"]+)"', data)
                user_id = m.group(1).decode() if m else json.loads(data)["result"]["user_id"]
                with self.lock:
                    self.created.append((i, user_id))
                    self.to_update.append((i, user_id))
        finally:
            with self.lock:
                self.creates_done += 1
        return True

    def do_update(self, conn):
        with self.lock:
            if not self.to_update:
                return False
            i, user_id = self.to_update.popleft()
        status, _ = self.call(conn, UPDATE, "PUT", f"/cis/v1/users/{user_id}", update_body(i),
                              self.auth(self.token, "application/json"))
        if status == 200:
            with self.lock:
                self.updated.append(user_id)
        return True

    def do_list(self, conn):
        with self.lock:
            ready = self.creates_done >= self.args.users
        if not ready or not self.list_slots.acquire(blocking=False):
            return False
        try:
            status, head = self.call(conn, LIST, "GET", f"/cis/v1/users?page_limit={PAGE_LIMIT_MAX}",
                                     headers=self.auth(self.token), timeout=900, keep=False)
            if status == 200:
                m = re.search(rb'"total_count"\s*:\s*(\d+)', head)
                with self.lock:
                    self.lists_done += 1
                    if m:
                        self.list_totals.append(int(m.group(1)))
        finally:
            self.list_slots.release()
        return True

    def worker(self, n):
        conn = Conn(self.host, self.port)
        role = ROLES[n % len(ROLES)]
        try:
            while not self.stop.is_set():
                done = False
                if role == CREATE:
                    done = self.do_create(conn)
                elif role == UPDATE:
                    done = self.do_update(conn)
                elif role == LIST:
                    done = self.do_list(conn)
                if not done:
                    self.do_token(conn)
        finally:
            conn.close()

    def finished(self, started):
        with self.lock:
            return (time.monotonic() - started >= self.args.seconds
                    and self.creates_done >= self.args.users and self.lists_done >= 1)

    def run(self, sampler):
        started = time.monotonic()
        threads = [threading.Thread(target=self.worker, args=(n,), daemon=True)
                   for n in range(self.args.concurrency)]
        for t in threads:
            t.start()
        last = started
        hard_stop = started + self.args.seconds + 1800
        while not self.finished(started):
            if sampler.over is not None:
                self.guard_tripped = sampler.over
                break
            if self.proc.poll() is not None:
                break
            if time.monotonic() > hard_stop:
                with self.lock:
                    self.problems.append("burst: creates or the first list page not done "
                                         f"within {self.args.seconds + 1800} s; stopped")
                    self.counts[("burst", "timeout")] += 1
                break
            time.sleep(0.2)
            if time.monotonic() - last >= 5:
                last = time.monotonic()
                with self.lock:
                    ok = sum(v for (k, s), v in self.counts.items() if s == EXPECTED.get(k))
                    bad = sum(v for (k, s), v in self.counts.items() if s != EXPECTED.get(k))
                    print(f"  {last - started:5.0f} s: VmRSS {mib(sampler.last):7.1f} MiB "
                          f"(peak {mib(sampler.peak):7.1f}), {ok} answered as expected, {bad} not; "
                          f"users {len(self.created)}/{self.args.users}, updated {len(self.updated)}, "
                          f"tokens {self.token_n}, list pages {self.lists_done}", flush=True)
        self.stop.set()
        for t in threads:
            t.join()
        return time.monotonic() - started


class Sampler:
    """Reads VmRSS every 50 ms; remembers the peak; flags a value over `limit_kib`."""

    def __init__(self, pid, limit_kib):
        self.pid, self.limit = pid, limit_kib
        self.peak = self.last = proc_kib(pid, "VmRSS")
        self.peak_parts = rss_parts(pid)
        self.over = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.done.is_set():
            rss = proc_kib(self.pid, "VmRSS")
            self.last = rss
            if rss > self.peak:
                self.peak = rss
                self.peak_parts = rss_parts(self.pid)
            if rss > self.limit and self.over is None:
                self.over = rss
            time.sleep(SAMPLE_SECONDS)


def warm_up(server, client_id, secret, token):
    for _ in range(5):
        server.token(client_id, secret)
    status, body = server.request("POST", "/cis/v1/users", token,
                                  {"email": "warmup@bench.example", "name": {"first_name": "Warm"}})
    if status != 201:
        raise RuntimeError(f"warm-up create failed: {status} {str(body)[:300]}")
    for path in ("/cis/v1/users?page_limit=1", "/cis/v1/users/count",
                 f"/cis/v1/users/{body['result']['user_id']}", "/cis/v1/users?page_limit=100"):
        for _ in range(3):
            status, reply = server.request("GET", path, token)
            if status != 200:
                raise RuntimeError(f"warm-up GET {path} failed: {status} {str(reply)[:300]}")


def check_update(server, token, user_id):
    """The stored user carries the 50 secondary emails an update added."""
    status, body = server.request("GET", f"/cis/v1/users/{user_id}", token, timeout=60)
    if status != 200:
        return f"GET /cis/v1/users/{user_id}: {status}"
    got = len(body["result"].get("secondary_emails", []))
    return None if got == SECONDARY_MAX else f"user {user_id} has {got} secondary emails, not {SECONDARY_MAX}"


def machine_lines():
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or "?"
    cpu, mem_kib = "unknown", 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return [f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
            f"- Machine: {nproc} CPUs ({cpu}), {mem_kib / 2**20:.1f} GiB memory"]


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def status_text(burst, kind):
    rows = sorted(((s, n) for (k, s), n in burst.counts.items() if k == kind), key=lambda x: str(x[0]))
    return ", ".join(f"{s if s is not None else 'connection error'}: {n:,}" for s, n in rows) or "none"


def unexpected(burst):
    return {(k, s): n for (k, s), n in burst.counts.items() if s != EXPECTED.get(k)}


def markdown(r, args, command):
    b = r["burst"]
    lines = [BEGIN, "## Memory after a burst of large requests (`bench/memory.py`)", ""]
    lines += machine_lines()
    lines += [f"- Commit: `{git_commit()}` (release build)",
              f"- Command: `{command}`",
              f"- Load: {args.concurrency} threads (Python, keep-alive connections, on the same "
              f"CPUs as the server) for {r['burst_seconds']:.0f} s (asked: {args.seconds:g} s); "
              f"{args.users:,} users of two ~500 KB data objects each, every one then given "
              f"{SECONDARY_MAX} secondary emails; pages of up to {PAGE_LIMIT_MAX} users (at most "
              f"{args.list_concurrency} at a time) once all exist; every other request a token "
              f"grant with a {SCOPE_BYTES}-byte scope whose token is used once. SQLite file; "
              f"VmRSS sampled every {int(SAMPLE_SECONDS * 1000)} ms.", "",
              "| requests | count | statuses | sent | received | slowest |",
              "| --- | ---: | --- | ---: | ---: | ---: |"]
    for kind in (TOKEN, READ, CREATE, UPDATE, LIST):
        n = sum(v for (k, _), v in b.counts.items() if k == kind)
        lines.append(f"| {LABELS[kind]} | {n:,} | {status_text(b, kind)} | "
                     f"{b.bytes_out[kind] / 2**20:,.1f} MiB | {b.bytes_in[kind] / 2**20:,.1f} MiB | "
                     f"{b.slowest[kind]:.2f} s |")
    def row(label, parts):
        return (f"| {label} | {mib(parts['VmRSS']):.1f} | {mib(parts['RssAnon']):.1f} | "
                f"{mib(parts['RssFile']):.1f} | {mib(parts['RssShmem']):.1f} |")

    lines += ["", "| server memory, MiB | VmRSS | anonymous | file-backed | shared memory |",
              "| --- | ---: | ---: | ---: | ---: |",
              row("idle after start", r["idle"]),
              row("baseline (after warm-up)", r["baseline"]),
              row(f"peak during the burst (sampled; VmHWM {mib(r['hwm']):.1f})", r["peak"])]
    for s, v in r["after"]:
        lines.append(row(f"{s:g} s after the burst", v))
    after = r["after"][-1][1]["VmRSS"]
    growth = r["peak"]["VmRSS"] - r["baseline"]["VmRSS"]
    kept = after - r["baseline"]["VmRSS"]
    share = f"{100 * kept / growth:.0f} %" if growth > 0 else "n/a"
    lines += ["", f"- After {r['after'][-1][0]:g} s: {mib(kept):+.1f} MiB against the baseline "
                  f"({share} of the burst's growth of {mib(growth):.1f} MiB still resident)."]
    if r["guard"]:
        lines.append(f"- ⚠ VmRSS passed --max-rss-mib ({args.max_rss_mib} MiB) at "
                     f"{mib(r['guard']):.1f} MiB: the burst was cut short.")
    bad = unexpected(b)
    if bad:
        lines.append("- ⚠ Unexpected answers: " + ", ".join(f"{k} {s}: {n}" for (k, s), n in bad.items()))
    lines += ["", END]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("ROSTER_BIN") or os.path.join(ROOT, "target", "release", "roster"),
                   help="roster binary (default: $ROSTER_BIN, else target/release/roster)")
    p.add_argument("--concurrency", type=int, default=16, help="client threads (default: %(default)s)")
    p.add_argument("--seconds", type=float, default=30, help="burst length (default: %(default)s)")
    p.add_argument("--settle", default="10,30",
                   help="seconds after the burst at which to read VmRSS, comma-separated; "
                        "the last is 'after' (default: %(default)s)")
    p.add_argument("--users", type=int, default=2000, help="large users to create (default: %(default)s)")
    p.add_argument("--list-concurrency", type=int, default=1,
                   help=f"page_limit={PAGE_LIMIT_MAX} pages in flight at once (default: %(default)s)")
    p.add_argument("--max-rss-mib", type=int, default=None,
                   help="cut the burst short (and fail) when the server's VmRSS passes this "
                        "(default: half of MemAvailable at start, at most 8192)")
    args = p.parse_args()
    try:
        settle = sorted(float(s) for s in args.settle.split(",") if s.strip())
    except ValueError:
        p.error("--settle: comma-separated seconds")
    if not settle or settle[0] < 0:
        p.error("--settle: at least one value, none negative")
    if args.concurrency < 1 or args.users < 1 or args.seconds < 0 or args.list_concurrency < 1:
        p.error("--concurrency, --users and --list-concurrency must be >= 1, --seconds >= 0")
    if not os.access(args.bin, os.X_OK):
        p.error(f"--bin {args.bin}: not an executable file")
    if args.max_rss_mib is None:
        args.max_rss_mib = min(8192, mem_available_kib() // 2048)
    assert len(create_body(0)) < BODY_MAX and len(scope_text(1).encode()) == SCOPE_BYTES
    command = ("python3 bench/memory.py " + shlex.join(sys.argv[1:])).strip()

    tmp = tempfile.mkdtemp(prefix="roster-memory-")
    server = None
    sampler = None
    try:
        server = Roster(args.bin, "sqlite://" + os.path.join(tmp, "roster.db"))
        pid = server.proc.pid
        time.sleep(0.5)
        idle = rss_parts(pid)
        admin = server.admin_token()
        _, client_id, secret = server.create_app(admin, "Memory bench")
        token = server.token(client_id, secret)
        warm_up(server, client_id, secret, token)
        time.sleep(2)
        baseline = rss_parts(pid)
        print(f"server pid {pid} at {server.base}; VmRSS idle {mib(idle['VmRSS']):.1f} MiB, "
              f"baseline after warm-up {mib(baseline['VmRSS']):.1f} MiB ({parts_text(baseline)}); burst: {args.concurrency} threads, "
              f"{args.seconds:g} s, {args.users} users (create body {len(create_body(0)):,} bytes)",
              flush=True)

        sampler = Sampler(pid, args.max_rss_mib * 1024)
        sampler.thread.start()
        burst = Burst(server, client_id, secret, token, args)
        burst_seconds = burst.run(sampler)
        ended = time.monotonic()
        peak = dict(sampler.peak_parts, VmRSS=sampler.peak)
        print(f"burst over after {burst_seconds:.1f} s; peak VmRSS {mib(peak['VmRSS']):.1f} MiB "
              f"({parts_text(peak)})", flush=True)
        if server.proc.poll() is not None:
            raise RuntimeError(f"the server exited during the burst (status {server.proc.returncode})")

        after = []
        for s in settle:
            time.sleep(max(0.0, ended + s - time.monotonic()))
            after.append((s, rss_parts(pid)))
            print(f"  {s:g} s after: VmRSS {mib(after[-1][1]['VmRSS']):.1f} MiB "
                  f"({parts_text(after[-1][1])})", flush=True)
        sampler.done.set()
        hwm = proc_kib(pid, "VmHWM")

        check = check_update(server, token, burst.updated[0]) if burst.updated else "no update answered 200"
        if check:
            burst.problems.append("check: " + check)
            burst.counts[("check", "failed")] += 1

        server.stop()
        server = None
        r = {"idle": idle, "baseline": baseline, "peak": peak, "hwm": hwm, "after": after,
             "burst": burst, "burst_seconds": burst_seconds, "guard": burst.guard_tripped}
        print()
        print(f"baseline {mib(baseline['VmRSS']):.1f} MiB, peak {mib(peak['VmRSS']):.1f} MiB, "
              f"after {mib(after[-1][1]['VmRSS']):.1f} MiB ({after[-1][0]:g} s)")
        print(f"creates answered 201: {len(burst.created):,}/{args.users:,}; updates 200: "
              f"{len(burst.updated):,}; list pages: {burst.lists_done} "
              f"(total_count {sorted(set(burst.list_totals))}); tokens granted: "
              f"{burst.counts[(TOKEN, 200)]:,}")
        for kind in (TOKEN, READ, CREATE, UPDATE, LIST):
            print(f"  {kind:6} {status_text(burst, kind)}")
        bad = unexpected(burst)
        if bad:
            print("UNEXPECTED:", ", ".join(f"{k} {s}: {n}" for (k, s), n in bad.items()))
            for line in burst.problems:
                print("  " + line)
        if burst.guard_tripped:
            print(f"VmRSS passed --max-rss-mib {args.max_rss_mib}: {mib(burst.guard_tripped):.1f} MiB")
        print()
        print(markdown(r, args, command))
        return 1 if bad or burst.guard_tripped else 0
    finally:
        if sampler is not None:
            sampler.done.set()
        shut(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
