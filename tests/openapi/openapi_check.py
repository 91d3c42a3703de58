#!/usr/bin/env python3
"""docs/openapi.json: validated with openapi-spec-validator (`validate`), and used to
generate requests against a real `ferry server` with real PostgreSQL and ClickHouse
(`fuzz`): for every documented operation, bounded random valid and invalid path
parameters, query parameters, bodies and tokens. Every answer must be below 500; every
4xx must be JSON with an "error" string, and where the request broke one field or named
one pipe, the message must name it; every status must be one the document lists; every
JSON 2xx body must match its documented schema.

  openapi_check.py validate
  openapi_check.py fuzz FERRY_BINARY      (needs the env of scripts/test-servers)
Environment: FERRY_FUZZ_EXAMPLES (per operation, default 40), FERRY_FUZZ_SEED.
"""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

DOC_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "openapi.json")
DOC = json.load(open(DOC_PATH))
TOKEN = f"fuzz-token-{os.getpid()}"


def validate():
    validate_spec(DOC)
    print(f"{DOC_PATH}: valid OpenAPI {DOC['openapi']}, {sum(len(v) for v in DOC['paths'].values())} operations")


# ---- values from schemas ------------------------------------------------------------

def deref(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        node = DOC
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def weird_string(rnd):
    return rnd.choice(["", "x", "ö✓", "a b", "a%2Fb", "..", "'; DROP TABLE x; --", "x" * 300, "\u0000", "NaN", "🙂"])


def value_for(schema, rnd):
    schema = deref(schema)
    if "enum" in schema:
        return rnd.choice(schema["enum"])
    if "oneOf" in schema:
        return value_for(rnd.choice(schema["oneOf"]), rnd)
    t = schema.get("type", "object")
    if isinstance(t, list):
        t = rnd.choice(t)
    if t == "boolean":
        return rnd.choice([True, False])
    if t == "integer":
        lo, hi = schema.get("minimum", -2**63), schema.get("maximum", 2**63 - 1)
        return rnd.choice([v for v in (0, 1, -1, 2**31, 2**62, lo, hi) if lo <= v <= hi])
    if t == "number":
        return rnd.choice([0, 1.5, -3.25, 1e300])
    if t == "null":
        return None
    if t == "string":
        return rnd.choice(["public.orders", "orders", weird_string(rnd)])
    if t == "array":
        return [value_for(schema.get("items", {}), rnd) for _ in range(rnd.randint(0, 2))]
    props = schema.get("properties", {})
    return {k: value_for(v, rnd) for k, v in props.items() if rnd.random() < 0.5}


def wrong_type(schema, rnd):
    t = deref(schema).get("type")
    # Filter by Python type, not equality: 1 == True, so list.remove(True) would drop 1.
    choices = [1, "text", [1], {"a": 1}, 2.5, True]
    if t == "boolean":
        choices = [c for c in choices if not isinstance(c, bool)]
    elif t == "string":
        choices = [c for c in choices if not isinstance(c, str)]
    elif t == "integer":
        choices = [c for c in choices if type(c) is not int]
    elif t == "number":
        choices = [c for c in choices if type(c) not in (int, float)]
    return rnd.choice(choices)


# ---- the servers ----------------------------------------------------------------------

def env(name):
    v = os.environ.get(name)
    if not v:
        sys.exit(f'{name} is not set: start the servers with eval "$(scripts/test-servers start)"')
    return v


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Setup:
    def __init__(self, binary):
        self.name = f"fuzz_{os.getpid()}"
        self.admin = env("FERRY_TEST_PG_DSN")
        self.dsn = f"{self.admin} dbname={self.name}"
        self.ch_url = env("FERRY_TEST_CH_URL")
        self.dir = tempfile.mkdtemp(prefix="ferry-openapi-fuzz-")
        self.binary = binary
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = f"""
peers:
  pg: {{ type: postgres, dsn: "{self.dsn}" }}
  ch: {{ type: clickhouse, url: "{self.ch_url}", database: "{self.name}" }}
pipes:
  shop:
    source: pg
    destination: ch
    mode: snapshot+cdc
    tables: [public.orders]
  once:
    source: pg
    destination: ch
    mode: snapshot
    tables: [{{ source: public.orders, destination: orders_once }}]
"""

    def psql(self, dsn, sql):
        subprocess.run(["psql", dsn, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True)

    def ch(self, sql):
        urllib.request.urlopen(urllib.request.Request(self.ch_url + "/", data=sql.encode())).read()

    def start(self):
        self.psql(self.admin, f"CREATE DATABASE {self.name}")
        self.ch(f"CREATE DATABASE IF NOT EXISTS {self.name}")
        self.psql(self.dsn, "CREATE TABLE orders (id int PRIMARY KEY, note text); "
                            "INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 200) g")
        cfg = os.path.join(self.dir, "ferry.yaml")
        open(cfg, "w").write(self.config)
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(
            [self.binary, "server", "-f", cfg, "--catalog", "sqlite:" + os.path.join(self.dir, "c.db"),
             "--listen", f"0.0.0.0:{self.port}"],
            env={**os.environ, "FERRY_API_TOKEN": TOKEN}, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/v1/pipes").read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("ferry server did not answer")

    def stop(self):
        if getattr(self, "proc", None) and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            self.psql(self.admin, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
            self.ch(f"DROP DATABASE IF EXISTS {self.name}")
        except Exception as e:  # cleanup only
            print("cleanup:", e)

    def server_log_tail(self):
        return "".join(open(os.path.join(self.dir, "server.log")).readlines()[-40:])


def request(url, method, path, body=None, content_type=None, token=TOKEN, query=None):
    full = url + path + ("?" + urllib.parse.urlencode(query) if query else "")
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = body.encode() if isinstance(body, str) else body
    if method == "POST" and data is None:
        data = b""
    req = urllib.request.Request(full, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


# ---- the fuzz -------------------------------------------------------------------------

class Case:
    def __init__(self, path_params, query=None, body=None, content_type=None, token=TOKEN, expect_in_error=None):
        self.path_params, self.query, self.body = path_params, query, body
        self.content_type, self.token, self.expect_in_error = content_type, token, expect_in_error

    def describe(self, method, template):
        return f"{method} {template} params={self.path_params} query={self.query} body={self.body!r:.200} token={'ok' if self.token == TOKEN else self.token}"


def cases_for(method, template, op, rnd, n, setup):
    params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "path"}
    body_schema = None
    rb = op.get("requestBody", {}).get("content", {})
    if "application/json" in rb:
        body_schema = rb["application/json"]["schema"]
    for i in range(n):
        pp, expect = {}, None
        for name, p in params.items():
            if name == "name":
                pp[name] = rnd.choice(["shop", "shop", "once", "no_such_pipe", weird_string(rnd) or "e"])
                if pp[name] == "no_such_pipe":
                    expect = "no_such_pipe"
            elif name == "action":
                pp[name] = rnd.choice(DOC["components"]["schemas"]["Action"]["enum"] + ["explode", "check2"])
            else:
                pp[name] = rnd.choice(["app.js", "index.html", "style.css", "missing.js", weird_string(rnd) or "e"])
        token = rnd.choices([TOKEN, None, "wrong"], [0.85, 0.1, 0.05])[0]
        if method == "GET":
            yield Case(pp, token=token, expect_in_error=expect)
        elif template == "/api/v1/apply":
            kind = rnd.choice(["valid", "garbage", "empty", "badprune", "json-type"])
            query = {"prune": "false"}
            body, ctype = setup.config, "application/yaml"
            if kind == "garbage":
                body = rnd.choice(["pipes: [", "peers: {x: {type: oracle}}", "\u0000\u0001", "pipes:\n  p: {source: nope}"])
            elif kind == "empty":
                body = ""
            elif kind == "badprune":
                query = {"prune": rnd.choice(["maybe", "yes", "2"])}
                expect = "prune"
            elif kind == "json-type":
                ctype = rnd.choice(["image/png", "application/xml"])
                expect = "Content-Type"
            if token != TOKEN:
                expect = "token"
            yield Case(pp, query=query, body=body, content_type=ctype, token=token, expect_in_error=expect)
        else:
            kind = rnd.choice(["valid", "valid", "valid", "unknown-field", "wrong-type", "out-of-range", "not-object",
                               "bad-json", "empty"])
            props = deref(body_schema).get("properties", {}) if body_schema else {}
            bounded = sorted(k for k, v in props.items() if "maximum" in deref(v))
            if kind == "out-of-range" and not bounded:
                kind = "valid"  # nothing to push out of range: a valid body
            body = value_for(body_schema, rnd) if body_schema else {}
            if kind == "valid" and "table" in body and pp.get("action") != "resync" and template.endswith("{action}"):
                expect = "table"  # "table" applies to resync only: a 400 naming it
            # A broken body is reported before the pipe is looked up.
            if kind == "unknown-field":
                body["bogus_field"] = 1
                expect = "bogus_field"
            elif kind == "wrong-type" and props:
                field = rnd.choice(sorted(props))
                body = {field: wrong_type(props[field], rnd)}
                expect = field
            elif kind == "out-of-range" and bounded:
                field = rnd.choice(bounded)
                body = {field: deref(props[field])["maximum"] + 1}
                expect = field
            elif kind in ("not-object", "bad-json"):
                expect = None
                if kind == "not-object":
                    body = rnd.choice([[1], 7, "s"])
            text = json.dumps(body)
            if kind == "bad-json":
                text = rnd.choice(["{", "{\"confirm\": tru}", "[1,", "\xff"])
            elif kind == "empty":
                text = ""
            if pp.get("action") not in DOC["components"]["schemas"]["Action"]["enum"] and "action" in pp:
                expect = None if pp["name"] == "no_such_pipe" else "pause, resume, resync, reset, delete"
            if token != TOKEN:
                expect = "token"
            yield Case(pp, body=text, content_type="application/json", token=token, expect_in_error=expect)


def check_answer(op, method, template, case, status, ctype, raw, failures):
    what = case.describe(method, template)
    documented = set(op["responses"].keys())
    if status >= 500:
        failures.append(f"{status} for {what}: {raw[:300]!r}")
        return
    if str(status) not in documented:
        failures.append(f"undocumented status {status} for {what}: {raw[:200]!r}")
    if 400 <= status < 500:
        try:
            body = json.loads(raw)
        except ValueError:
            failures.append(f"{status} without a JSON body for {what}: {raw[:200]!r}")
            return
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, str) or not err.strip():
            failures.append(f"{status} without an error message for {what}: {body}")
        elif case.expect_in_error and case.expect_in_error not in err and status != 404:
            failures.append(f"{status} error does not name {case.expect_in_error!r} for {what}: {err}")
        elif status == 404 and case.path_params.get("name") == "no_such_pipe" and "no_such_pipe" not in err:
            failures.append(f"404 does not name the pipe for {what}: {err}")
    content = op["responses"].get(str(status), {}).get("content", {})
    if 200 <= status < 300 and "application/json" in content and "application/json" in ctype:
        schema = dict(content["application/json"]["schema"])
        schema["components"] = DOC["components"]
        errors = list(Draft202012Validator(schema).iter_errors(json.loads(raw)))
        if errors:
            failures.append(f"{status} body does not match its schema for {what}: {errors[0].message}")


def fuzz(binary):
    validate_spec(DOC)
    n = int(os.environ.get("FERRY_FUZZ_EXAMPLES", "40"))
    seed = int(os.environ.get("FERRY_FUZZ_SEED", str(int(time.time()))))
    rnd = random.Random(seed)
    print(f"fuzz: seed {seed} (FERRY_FUZZ_SEED), {n} examples per operation")
    setup = Setup(binary)
    failures, sent, by_class = [], 0, {}
    try:
        setup.start()
        for template, ops in DOC["paths"].items():
            for method, op in ops.items():
                method = method.upper()
                for case in cases_for(method, template, op, rnd, n, setup):
                    path = template
                    for k, v in case.path_params.items():
                        path = path.replace("{" + k + "}", urllib.parse.quote(str(v), safe=""))
                    status, ctype, raw = request(setup.url, method, path, case.body, case.content_type, case.token, case.query)
                    sent += 1
                    by_class[status // 100] = by_class.get(status // 100, 0) + 1
                    check_answer(op, method, template, case, status, ctype, raw, failures)
                    # A deleted pipe comes back, so later requests still reach real pipes.
                    if template.endswith("{action}") and case.path_params.get("action") == "delete" and status == 200:
                        request(setup.url, "POST", "/api/v1/apply", setup.config, "application/yaml", query={"confirm": "true"})
    finally:
        log = setup.server_log_tail() if getattr(setup, "proc", None) else ""
        setup.stop()
    print(f"fuzz: {sent} requests; answers by class: " + ", ".join(f"{k}xx {v}" for k, v in sorted(by_class.items())))
    if failures:
        print(f"fuzz: {len(failures)} failures (seed {seed}):")
        for f in failures[:40]:
            print("  " + f)
        print("server log tail:\n" + log)
        sys.exit(1)
    shutil.rmtree(setup.dir, ignore_errors=True)
    print("fuzz: every answer below 500, every 4xx a JSON error naming the cause")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "validate":
        validate()
    elif len(sys.argv) >= 3 and sys.argv[1] == "fuzz":
        fuzz(sys.argv[2])
    else:
        sys.exit(__doc__)
