#!/usr/bin/env python3
"""Start-to-ready with a seed file, and the reset, on the release binary.

  python3 bench/seed.py --bin target/release/roster [--users 10000] [--runs 5]
                        [--database postgres://...] [--write]

Measures, for a seed of N users (one tenant, one app, a management and an app client):
  * first start: `roster serve --seed` on an empty database until it prints
    `roster listening on URL` (migrations, the seed in one transaction, the listener);
  * second start: the same seed on that database (every user compared, nothing written);
  * reset: with N users in the tenant beside a small seed, `POST /roster/v1/reset`
    (admin token) until it answers; the N users are put back with `roster seed` before
    each run. A reset leaves the old users to a background deletion: timed both after it
    has finished and at once (when the reset may wait for one batch of that deletion).
With --write the table goes to docs/BENCHMARKS.md (section "Seed and reset").
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

# Longer than the background deletion of a reset tenant's users takes at 10,000 users.
PURGE_WAIT = 3.0
ADMIN = ("bench-admin", "bench-admin-secret-0123456789")


def seed(users, tenant, tag):
    return {
        "tenants": [
            {
                "name": tenant,
                "management_clients": [{"client_id": f"{ADMIN[0]}-{tag}", "client_secret": ADMIN[1]}],
                "apps": [
                    {
                        "app_name": "Shop",
                        "clients": [{"client_id": f"bench-shop-{tag}", "client_secret": "bench-shop-secret-0123456789"}],
                        "users": [
                            {
                                "email": f"user{i}.{tag}@bench.example",
                                "name": {"first_name": "User", "last_name": str(i)},
                                "custom_data": {"plan": "pro" if i % 2 else "free"},
                            }
                            for i in range(users)
                        ],
                    }
                ],
            }
        ]
    }


def write(path, value):
    with open(path, "w") as f:
        json.dump(value, f)


def start(binary, database, seed_path, extra=()):
    """Spawns the server; returns (process, URL, seconds until it announced itself)."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--database", database,
         "--seed", seed_path, "--log-level", "warn", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    took = time.perf_counter() - began
    if not line.startswith("roster listening on "):
        proc.kill()
        sys.exit(f"server did not start: {line!r}")
    return proc, line.split()[-1], took


def stop(proc):
    proc.terminate()
    proc.wait(timeout=30)


def post(url, data=None, token=None, form=False):
    headers = {}
    body = None
    if form:
        body = urllib.parse.urlencode(data).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    elif data is not None:
        body = json.dumps(data).encode()
        headers["content-type"] = "application/json"
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/roster")
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--database", default=None, help="postgres://... (default: a fresh SQLite file per run)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="roster-seed-bench-")
    big = os.path.join(work, "big.json")
    small = os.path.join(work, "small.json")
    # On a shared PostgreSQL database each run seeds its own tenant (and client ids).
    tag = time.strftime("%H%M%S")
    firsts, seconds, resets = [], [], []
    for run in range(args.runs):
        if args.database:
            database, tenant = args.database, f"Bench {tag}-{run}"
        else:
            database, tenant = f"sqlite://{work}/run{run}.db", "Bench"
        write(big, seed(args.users, tenant, f"{tag}-{run}"))
        proc, _, took = start(args.bin, database, big)
        stop(proc)
        firsts.append(took)
        proc, _, took = start(args.bin, database, big)
        stop(proc)
        seconds.append(took)
    write(small, seed(3, tenant, f"{tag}-{run}"))
    # Reset: the tenant holds N users; the seed it returns to holds 3.
    proc, url, _ = start(args.bin, database, small, ["--allow-reset"])
    token = post(f"{url}/oidc/token", {"grant_type": "client_credentials", "client_id": f"{ADMIN[0]}-{tag}-{run}",
                                      "client_secret": ADMIN[1]}, form=True)["access_token"]
    deleted, busy_resets = [], []
    for run in range(2 * args.runs):
        subprocess.run([args.bin, "seed", big, "--database", database, "--log-level", "warn"], check=True,
                       stderr=subprocess.DEVNULL)
        # Even runs: the server has finished deleting the previous reset's users in the
        # background. Odd runs: at once, while it may still be deleting them.
        if run % 2 == 0:
            time.sleep(PURGE_WAIT)
        began = time.perf_counter()
        answer = post(f"{url}/roster/v1/reset", {}, token)
        (resets if run % 2 == 0 else busy_resets).append(time.perf_counter() - began)
        deleted.append(answer["deleted_users"])
    # The usual case between tests: the tenant holds little more than the seed.
    small_resets = []
    for _ in range(20):
        began = time.perf_counter()
        post(f"{url}/roster/v1/reset", {}, token)
        small_resets.append(time.perf_counter() - began)
    stop(proc)

    def ms(values):
        return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"

    backend = "PostgreSQL" if args.database else "SQLite (file)"
    lines = [
        f"- first start, empty database, seed of {args.users} users: {ms(firsts)}",
        f"- second start, same seed (nothing to write): {ms(seconds)}",
        f"- reset of a tenant holding {deleted[0]} users back to a 3-user seed: {ms(resets)}",
        f"- the same, while the users of the previous reset are still being deleted in the background: "
        f"{ms(busy_resets)}",
        f"- reset of a tenant holding only the 3 seeded users (20 runs): {ms(small_resets)}",
    ]
    print(f"{backend}, {args.runs} runs")
    print("\n".join(lines))
    if args.write:
        record(backend, args, lines)


def record(backend, args, lines):
    path = os.path.join(os.path.dirname(__file__), "..", "docs", "BENCHMARKS.md")
    with open(path) as f:
        text = f.read()
    head = "## Seed and reset"
    cpu = platform.processor() or platform.machine()
    entry = (
        f"\n### {backend}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}. "
        f"Command: `python3 bench/seed.py --bin {args.bin} --users {args.users} --runs {args.runs}"
        f"{' --database ' + args.database if args.database else ''} --write`.\n\n" + "\n".join(lines) + "\n"
    )
    if head not in text:
        text += (
            f"\n{head}\n\nGoal: start to ready with a seed of 10,000 users under 1 s on SQLite; a reset "
            "answers within 50 ms at 10,000 users. `bench/seed.py` times the release binary from spawn "
            "to its `roster listening on` line.\n"
        )
    text += entry
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
