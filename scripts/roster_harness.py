"""Starts a real `roster` binary for scripts: free port, bootstrap credentials, tokens.

Standard library only, so CI needs nothing but python3.
"""

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ADMIN_ID = "script-admin"
ADMIN_SECRET = "script-admin-secret-value"
ISSUER = "http://roster.script.test"


class Roster:
    def __init__(self, binary, database):
        env = dict(os.environ)
        env.update(
            ROSTER_BOOTSTRAP_CLIENT_ID=ADMIN_ID,
            ROSTER_BOOTSTRAP_CLIENT_SECRET=ADMIN_SECRET,
        )
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--log-format", "json",
             "--log-level", "warn,roster_server=info", "--database", database,
             "--public-url", ISSUER],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )
        self.base = None
        deadline = time.time() + 60
        for line in self.proc.stderr:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("message") == "roster ready":
                self.base = "http://" + record["addr"]
                break
            if time.time() > deadline:
                break
        if self.base is None:
            self.proc.kill()
            raise RuntimeError("roster did not become ready")
        # Keep draining stderr so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def request(self, method, path, token=None, body=None, form=None, timeout=10):
        headers = {}
        data = None
        if token:
            headers["Authorization"] = "Bearer " + token
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None

    def token(self, client_id, secret):
        status, body = self.request("POST", "/oidc/token", form={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        if status != 200:
            raise RuntimeError(f"token request failed: {status} {body}")
        return body["access_token"]

    def admin_token(self):
        return self.token(ADMIN_ID, ADMIN_SECRET)

    def create_app(self, admin_token, name):
        """Returns (app_id, client_id, client_secret) of a new app's default client."""
        status, body = self.request("POST", "/cis/v1/applications", admin_token, {"app_name": name})
        if status != 201:
            raise RuntimeError(f"app creation failed: {status} {body}")
        r = body["result"]
        return r["app_id"], r["client_id"], r["client_secret"]
