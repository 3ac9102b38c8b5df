#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<target>/) and their
dictionaries (tests/fuzz/<target>.dict) from what the project ships:

  fuzz_scenario    scenarios/*.yaml and bench/*.yaml, whole, the YAML examples
                   of docs/scenario-format.md, and a few scenarios with what
                   those lack (benchmark phases, closed loops, prometheus checks)
  fuzz_expression  each expectation in them (one per file), and those the
                   expectation tests parse
  fuzz_units       each duration, rate and size written in them
  fuzz_kubeconfig  the kubeconfig fixtures of tests/unit, and a few files with
                   the parts they lack (exec plugins, -data fields, extensions)

Run it again after adding scenarios: python3 tests/fuzz/make_corpus.py
(it replaces the corpus directories; the fuzzers' own finds stay in the work
directory scripts/fuzz uses, not here).
"""
import glob
import hashlib
import os
import re
import shutil

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "tests", "fuzz")

DURATION = re.compile(r"^\d+(\.\d+)?(us|ms|s|m|h)$")
RATE = re.compile(r"^\d+(\.\d+)?/(s|m|h)$")
SIZE = re.compile(r"^\d+(\.\d+)?(B|KB|MB|GB|KiB|MiB|GiB)$")
UNIT_IN_TEXT = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:us|ms|s|m|h|/s|/m|/h|B|KB|MB|GB|KiB|MiB|GiB)(?![\w/])")


def rel(path):
    return os.path.relpath(path, ROOT)


def scenario_files():
    return sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml")) + glob.glob(os.path.join(ROOT, "bench", "*.yaml")))


def scalars(node):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from scalars(k)
            yield from scalars(v)
    elif isinstance(node, list):
        for v in node:
            yield from scalars(v)
    elif node is not None and not isinstance(node, bool):
        yield str(node)


def expectations(doc):
    for item in (doc or {}).get("expect") or []:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict) and isinstance(item.get("expect"), str):
            yield item["expect"]


def c_string_literals(path, call):
    """The first string argument of each `call("...")` in a C++ test."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for m in re.finditer(re.escape(call) + r'\("((?:[^"\\]|\\.)*)"', text):
        yield bytes(m.group(1), "utf-8").decode("unicode_escape")


def write_corpus(target, items):
    """items: (name, text) pairs; duplicates by content are dropped."""
    out = os.path.join(FUZZ, "corpus", target)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    seen = set()
    for name, text in items:
        data = text.encode("utf-8")
        digest = hashlib.sha1(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60]
        with open(os.path.join(out, f"{safe}-{digest[:8]}"), "wb") as f:
            f.write(data)
    return len(seen)


def write_dict(target, comment, words):
    with open(os.path.join(FUZZ, f"{target}.dict"), "w", encoding="utf-8") as f:
        f.write(f"# {comment}\n# Written by tests/fuzz/make_corpus.py.\n")
        for w in sorted(set(words)):
            # libFuzzer's escapes: \\, \" and \xNN only.
            escaped = "".join(c if " " <= c <= "~" and c not in '\\"' else "\\" + c if c in '\\"' else "\\x%02X" % ord(c) for c in w)
            f.write(f'"{escaped}"\n')


def source_words(path, pattern=r'"([a-z][a-z0-9_.-]{1,40})"'):
    with open(path, encoding="utf-8") as f:
        return set(re.findall(pattern, f.read()))


# What no shipped scenario has, so that the fuzzer starts with it.
EXTRA_SCENARIOS = [
    ("extra-benchmark", """name: extra-benchmark
topology:
  kafka:
    brokers: 3
    topics:
      - { name: bench, partitions: 6, replication_factor: 3 }
workloads:
  p:
    type: kafka-producer
    payload: { size: 200B }
    topic: bench
    max_threads: 8
timeline:
  - phase: knee
    benchmark: { workload: p, from: 1000/s, step: 1000/s, every: 3s, max: 20000/s, rise: 50% }
  - phase: threads
    benchmark: { workload: p, by: threads, from: 1, step: 1, every: 5s, max: 8 }
expect:
  - count(produce.failed) == 0
  - { prometheus: 'sum(rate(process_cpu_seconds_total[1m]))', value: '< 0.8', url: 'http://127.0.0.1:9090' }
"""),
    ("extra-closed-loop", """name: extra-closed-loop
topology:
  webapp: { acks: all }
  prometheus: { url: http://127.0.0.1:9090 }
workloads:
  api:
    type: http
    url: "{webapp}/api/topics/orders"
    method: POST
    headers: { content-type: application/json }
    body_template: '{"id": ${seq}, "sent_us": ${now_us}, "pad": "${text:8}", "r": ${rand:10}, "d": "$$"}'
    closed: { concurrency: 4, requests: 100 }
    connections: 4
    timeout: 2s
    http: "2"
timeline:
  - phase: drain
    until: "count(http.responses) >= 100"
    timeout: 30s
expect:
  - { expect: "count(http.errors) < 10", abort: true }
  - { prometheus: 'up', value: '>= 1' }
"""),
]


def docs_yaml_blocks():
    """The ```yaml examples of docs/scenario-format.md (parts of scenarios)."""
    with open(os.path.join(ROOT, "docs", "scenario-format.md"), encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


def main():
    scenarios, exprs, units = [], [], []
    scenarios += EXTRA_SCENARIOS
    for i, block in enumerate(docs_yaml_blocks()):
        scenarios.append((f"docs-scenario-format-{i}", block))
        for j, e in enumerate(expectations(yaml.safe_load(block))):
            exprs.append((f"docs-scenario-format-{i}-expect{j}", e))
    for path in scenario_files():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        base = os.path.basename(path)
        scenarios.append((rel(path), text))
        doc = yaml.safe_load(text)
        for i, e in enumerate(expectations(doc)):
            exprs.append((f"{base}-expect{i}", e))
        for s in scalars(doc):
            if DURATION.match(s) or RATE.match(s) or SIZE.match(s):
                units.append((s, s))
        for e in expectations(doc):
            for u in UNIT_IN_TEXT.findall(e):
                units.append((u, u))

    tests = os.path.join(ROOT, "tests", "unit")
    for name in ("slo_expression_test.cpp", "slo_windows_test.cpp"):
        for i, e in enumerate(c_string_literals(os.path.join(tests, name), "parse_ok")):
            exprs.append((f"{name[:-4]}-{i}", e))
    for call in ("parse_duration_us", "parse_rate_per_s", "parse_size_bytes"):
        for s in c_string_literals(os.path.join(tests, "units_test.cpp"), call):
            units.append((s or "empty", s))

    kube = [(rel(p), open(p, encoding="utf-8").read()) for p in sorted(glob.glob(os.path.join(tests, "fixtures", "kube", "*.yaml")))]
    kube += [
        ("exec-plugin", """apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c
  cluster:
    server: https://k8s.example:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClltVjBZU0JEUVE9PQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==
    tls-server-name: k8s
    proxy-url: http://proxy.example:3128
    disable-compression: true
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: kapture, yes: on, hex: 0x10}
contexts:
- name: main
  context: {cluster: c, user: u, namespace: "123"}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin
      args: ["--cluster", "c"]
      env:
      - {name: A, value: b}
      installHint: 'install it'
      interactiveMode: Never
      provideClusterInfo: true
"""),
        ("cert-user", """apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://10.0.0.1", certificate-authority: /etc/ca.crt, insecure-skip-tls-verify: false}
users:
- name: u
  user:
    client-certificate: certs/client.crt
    client-key-data: Y2xpZW50IGtleQ==
    tokenFile: ../token
    as: admin
    as-groups: [system:masters]
    as-user-extra: {}
- name: p
  user:
    auth-provider: {name: oidc, config: {idp-issuer-url: https://issuer}}
- name: basic
  user: {username: admin, password: secret}
contexts: []
"""),
        ("empty", ""),
    ]

    n = {
        "fuzz_scenario": write_corpus("fuzz_scenario", scenarios),
        "fuzz_expression": write_corpus("fuzz_expression", exprs),
        "fuzz_units": write_corpus("fuzz_units", units),
        "fuzz_kubeconfig": write_corpus("fuzz_kubeconfig", kube),
    }

    engine = os.path.join(ROOT, "engine")
    yaml_syntax = [": ", "- ", "\n- ", "\n  ", "{", "}", "[", "]", ", ", "&a ", "*a", "<<: ", "!!str ", "---\n", "|\n", ">\n", "'", '"', "~", "null", "true", "false"]
    unit_words = ["us", "ms", "s", "m", "h", "/s", "/m", "/h", "B", "KB", "MB", "GB", "KiB", "MiB", "GiB", ".", "0", "1.5"]
    write_dict("fuzz_scenario", "Scenario keys and values the loader knows, and YAML syntax.",
               source_words(os.path.join(engine, "scenario", "ScenarioLoader.cpp")) | set(yaml_syntax) | {"250ms", "2000/s", "1KiB", "lua/bigpetstore.lua"})
    write_dict("fuzz_expression", "Aggregates, metrics, keywords, operators and units of expectations.",
               source_words(os.path.join(engine, "metrics", "MetricCatalog.cpp"), r'\{"([a-z_.]+)", Metric')
               | {"p99", "p50", "p99.9", "avg", "min", "max", "rate", "count", "last", "recovery_time", "during", "over", "for",
                  "consecutive", "windows", "after", "ends", "(", ")", "{", "}", "=", ",", '"', "<", "<=", ">", ">=", "==", "!=",
                  "+", "-", "*", "/", " "} | set(unit_words))
    write_dict("fuzz_units", "Numbers and units.", unit_words)
    write_dict("fuzz_kubeconfig", "Kubeconfig keys and YAML syntax.",
               source_words(os.path.join(engine, "drivers", "kube", "KubeconfigFile.cpp")) | set(yaml_syntax)
               | {"apiVersion", "kind", "Config", "v1", "current-context", "certificate-authority-data", "client-certificate-data",
                  "client-key-data", "insecure-skip-tls-verify", "tokenFile", "installHint", "interactiveMode", "provideClusterInfo",
                  "client.authentication.k8s.io/exec", "client.authentication.k8s.io/v1", "LS0tLS1=", "Y2xpZW50IGtleQ=="})
    for target, count in n.items():
        print(f"{target}: {count} seeds")


if __name__ == "__main__":
    main()
