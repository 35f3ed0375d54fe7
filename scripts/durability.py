#!/usr/bin/env python3
"""Acknowledged writes survive a crash: create users concurrently on a SQLite file, SIGKILL
the server mid-load, restart it, and find every user whose create was answered 201.

Usage: scripts/durability.py [path/to/roster]   (default: target/release/roster)
"""

import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roster_harness import Roster  # noqa: E402

WRITERS = 16
LOAD_SECONDS = 3.0


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/roster"
    with tempfile.TemporaryDirectory() as tmp:
        database = "sqlite://" + os.path.join(tmp, "roster.db")
        server = Roster(binary, database)
        admin = server.admin_token()
        _, client_id, secret = server.create_app(admin, "Durability")
        token = server.token(client_id, secret)

        acknowledged = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n):
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    status, body = server.request(
                        "POST", "/cis/v1/users", token,
                        {"email": f"w{n}-{i}@durability.example", "custom_data": {"i": i}},
                        timeout=5)
                except OSError:
                    return  # the server is gone
                if status == 201:
                    with lock:
                        acknowledged.append(body["result"]["user_id"])

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for t in threads:
            t.start()
        time.sleep(LOAD_SECONDS)
        server.kill()  # SIGKILL while writes are in flight
        stop.set()
        for t in threads:
            t.join(timeout=30)

        restarted = Roster(binary, database)
        token = restarted.token(client_id, secret)
        missing = [u for u in acknowledged
                   if restarted.request("GET", f"/cis/v1/users/{u}", token)[0] != 200]
        status, count = restarted.request("GET", "/cis/v1/users/count", token)
        restarted.stop()

        print(f"acknowledged creates: {len(acknowledged)}; found after SIGKILL and restart: "
              f"{len(acknowledged) - len(missing)}; stored users: {count['result']['user_count']}")
        if not acknowledged:
            print("FAIL: no create was acknowledged")
            return 1
        if missing:
            print(f"FAIL: {len(missing)} acknowledged users are missing, e.g. {missing[:5]}")
            return 1
        print("1 passed, 0 failed")
        return 0


if __name__ == "__main__":
    sys.exit(main())
