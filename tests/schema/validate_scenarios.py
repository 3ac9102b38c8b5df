#!/usr/bin/python3
"""Validate scenario files against schemas/scenario.schema.json.

Usage (from anywhere):
    /usr/bin/python3 tests/schema/validate_scenarios.py [scenario.yaml ...]

With no arguments every scenarios/*.yaml, bench/*.yaml and
tests/integration/fixtures/*.yaml in the repository is checked, except the
fixtures whose name starts with `bad` (deliberately invalid). The script also
checks the schema itself, that a set of valid inline documents is accepted and
that a set of deliberately invalid inline documents is rejected (each at the
expected place).

Needs the Debian packages python3-jsonschema and python3-yaml
(`apt-get install -y python3-jsonschema python3-yaml`). Use /usr/bin/python3:
a pyenv python on PATH will not see those packages.

Exit status: 0 when everything passed, 1 otherwise.
"""

import copy
import glob
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError as exc:  # pragma: no cover
    sys.exit(f"error: {exc}; run `apt-get install -y python3-jsonschema python3-yaml` "
             "and use /usr/bin/python3")

from schema_check import ROOT, check_document, describe, fmt_path, leaf_errors, load_validator

SCHEMA_PATH = os.path.join(ROOT, "schemas", "scenario.schema.json")
# Checked when no files are given; fixtures named bad* are deliberately invalid.
DEFAULT_FILES = ["scenarios/*.yaml", "bench/*.yaml", "tests/integration/fixtures/*.yaml"]


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


# --- deliberately invalid documents -----------------------------------------

BASE = {
    "name": "t",
    "workloads": {
        "w": {"type": "kafka-producer", "payload": {"size": "1KiB"}, "topic": "t"},
    },
    "topology": {"kafka": {"brokers": 3, "topics": [{"name": "t", "partitions": 2}]}},
    "timeline": [
        {
            "phase": "p",
            "duration": "10s",
            "load": {"w": "100/s"},
            "steps": [{"at": "1s", "chaos": "broker-down", "broker": 1, "for": "2s"}],
        }
    ],
    "expect": ["count(produce.failed) == 0"],
}


def mutate(fn):
    doc = copy.deepcopy(BASE)
    fn(doc)
    return doc


def step(doc):
    return doc["timeline"][0]["steps"][0]


def phase(doc):
    return doc["timeline"][0]


def workload(doc):
    return doc["workloads"]["w"]


def etl(doc):
    return doc["workloads"]["e"]


# BASE plus Redis and PostgreSQL in the topology and a minimal etl workload
# `e` writing to PostgreSQL.
def with_etl(fn=None):
    def build(d):
        d["topology"].update(redis={}, postgres={})
        d["workloads"]["e"] = {"type": "etl", "topics": "t", "postgres": True}
        if fn:
            fn(d)
    return mutate(build)


def with_step(**fields):
    """BASE (with the etl workload) whose only step is replaced by `fields`."""
    return with_etl(lambda d: phase(d).update(steps=[dict({"at": "1s", "for": "2s"}, **fields)]))


def with_kube_step(**fields):
    """BASE on the kubernetes target whose only step is `fields` (at 1s, no `for` added)."""
    return mutate(lambda d: (d.update(target="kubernetes"), d["topology"].update(kubernetes=None),
                             phase(d).update(steps=[dict({"at": "1s"}, **fields)])))


def with_kube_topology(kubernetes):
    """BASE with topology.kubernetes set to `kubernetes`."""
    return mutate(lambda d: (d.update(target="kubernetes"), d["topology"].update(kubernetes=kubernetes)))


# Kubernetes API load alone: nothing deployed, these workloads only.
KUBE_LOAD_TYPES = ("kube-churn", "kube-lifecycle")


def kube_load(**workloads):
    """A kubernetes-target document whose workloads are `workloads` (name -> spec);
    its phase gives every kube-churn and kube-lifecycle workload a rate."""
    return {
        "name": "api",
        "target": "kubernetes",
        "topology": {"kubernetes": {"deploy": []}},
        "workloads": copy.deepcopy(workloads),
        "timeline": [{"phase": "p", "duration": "10s",
                      "load": {n: "10/s" for n, w in workloads.items() if w.get("type") in KUBE_LOAD_TYPES}}],
        "expect": ["p99(kube.mutating_latency) <= 1s"],
    }


CHURN = {"type": "kube-churn", "lifetime": "20s"}
LIFECYCLE = {"type": "kube-lifecycle"}
WATCH = {"type": "kube-watch"}



STEP = ("timeline", 0, "steps", 0)

# (description, document, path where the violation must be reported)
INVALID = [
    ("unknown top-level key",
     mutate(lambda d: d.update(nmae="x")), ()),
    ("bad duration '10 sec'",
     mutate(lambda d: phase(d).update(duration="10 sec")), ("timeline", 0, "duration")),
    ("rate 'fast'",
     mutate(lambda d: phase(d)["load"].update(w="fast")), ("timeline", 0, "load", "w")),
    ("unknown chaos verb",
     mutate(lambda d: step(d).update(chaos="broker-explode")), ("timeline", 0, "steps", 0, "chaos")),
    ("phase without name",
     mutate(lambda d: phase(d).pop("phase")), ("timeline", 0)),
    ("negative partitions",
     mutate(lambda d: d["topology"]["kafka"]["topics"][0].update(partitions=-1)),
     ("topology", "kafka", "topics", 0, "partitions")),
    ("missing timeline",
     mutate(lambda d: d.pop("timeline")), ()),
    ("empty timeline",
     mutate(lambda d: d.update(timeline=[])), ("timeline",)),
    ("bad scenario name (uppercase)",
     mutate(lambda d: d.update(name="Chaos")), ("name",)),
    ("duration given as a bare number",
     mutate(lambda d: phase(d).update(duration=10)), ("timeline", 0, "duration")),
    ("phase with neither duration nor until",
     mutate(lambda d: phase(d).pop("duration")), ("timeline", 0)),
    ("until without timeout",
     mutate(lambda d: phase(d).update(until="last(produce.in_flight) == 0")), ("timeline", 0)),
    ("'max' in a ramp",
     mutate(lambda d: phase(d)["load"].update(w={"from": "10/s", "to": "max"})),
     ("timeline", 0, "load", "w", "to")),
    ("arrivals on a ramp",
     mutate(lambda d: phase(d)["load"].update(w={"from": "1/s", "to": "2/s", "arrivals": "poisson"})),
     ("timeline", 0, "load", "w")),
    ("unknown arrivals",
     mutate(lambda d: phase(d)["load"].update(w={"rate": "1/s", "arrivals": "bursty"})),
     ("timeline", 0, "load", "w", "arrivals")),
    ("step with both at and every",
     mutate(lambda d: step(d).update(every="5s")), ("timeline", 0, "steps", 0)),
    ("step with neither at nor every",
     mutate(lambda d: step(d).pop("at")), ("timeline", 0, "steps", 0)),
    ("start without every",
     mutate(lambda d: step(d).update(start="1s")), ("timeline", 0, "steps", 0)),
    ("step without for",
     mutate(lambda d: step(d).pop("for")), ("timeline", 0, "steps", 0)),
    ("broker-delay without delay",
     mutate(lambda d: step(d).update(chaos="broker-delay")), ("timeline", 0, "steps", 0)),
    ("delay on broker-down",
     mutate(lambda d: step(d).update(delay="40ms")), ("timeline", 0, "steps", 0)),
    ("broker 'leader' (not random/id/leader_of)",
     mutate(lambda d: step(d).update(broker="leader")), ("timeline", 0, "steps", 0, "broker")),
    ("leader_of without partition",
     mutate(lambda d: step(d).update(broker={"leader_of": "bps.texas"})),
     ("timeline", 0, "steps", 0, "broker", "leader_of")),
    ("workload with both generator and payload",
     mutate(lambda d: workload(d).update(generator={"lua": "g.lua"})), ("workloads", "w")),
    ("workload with neither generator nor payload",
     mutate(lambda d: workload(d).pop("payload")), ("workloads", "w")),
    ("unknown workload type",
     mutate(lambda d: workload(d).update(type="kafka-consumer")), ("workloads", "w", "type")),
    ("workload without topic",
     mutate(lambda d: workload(d).pop("topic")), ("workloads", "w")),
    ("acks 2",
     mutate(lambda d: workload(d).update(acks=2)), ("workloads", "w", "acks")),
    ("unknown compression",
     mutate(lambda d: workload(d).update(compression="brotli")), ("workloads", "w", "compression")),
    ("threads 0",
     mutate(lambda d: workload(d).update(threads=0)), ("workloads", "w", "threads")),
    ("allow unknown Lua library",
     mutate(lambda d: workload(d).update(allow=["debug"])), ("workloads", "w", "allow", 0)),
    ("bad size '1 KB'",
     mutate(lambda d: workload(d).update(payload={"size": "1 KB"})), ("workloads", "w", "payload", "size")),
    ("generator typo (fucntion)",
     mutate(lambda d: d["workloads"].update(w={"type": "kafka-producer", "topic": "t",
                                               "generator": {"lua": "g.lua", "fucntion": "gen"}})),
     ("workloads", "w", "generator")),
    ("unknown target",
     mutate(lambda d: d.update(target="docker")), ("target",)),
    ("negative seed",
     mutate(lambda d: d.update(seed=-1)), ("seed",)),
    ("33 brokers",
     mutate(lambda d: d["topology"]["kafka"].update(brokers=33)), ("topology", "kafka", "brokers")),
    ("topic property given as a list",
     mutate(lambda d: d["topology"]["kafka"]["topics"][0].update(configs={"retention.ms": [1]})),
     ("topology", "kafka", "topics", 0, "configs", "retention.ms")),
    ("unknown key in a phase",
     mutate(lambda d: phase(d).update(duraton="5s")), ("timeline", 0)),
    # --- stores, etl workloads, until lists, store and consumer chaos ---
    ("etl without topics",
     with_etl(lambda d: etl(d).pop("topics")), ("workloads", "e")),
    ("etl with an unknown key (threads)",
     with_etl(lambda d: etl(d).update(threads=2)), ("workloads", "e")),
    ("etl with a producer key (topic)",
     with_etl(lambda d: etl(d).update(topic="t")), ("workloads", "e")),
    ("etl with ledger (a producer key)",
     with_etl(lambda d: etl(d).update(ledger=True)), ("workloads", "e")),
    ("etl without a sink",
     with_etl(lambda d: etl(d).pop("postgres")), ("workloads", "e")),
    ("etl with postgres: false and no redis",
     with_etl(lambda d: etl(d).update(postgres=False)), ("workloads", "e")),
    ("etl topics an empty list",
     with_etl(lambda d: etl(d).update(topics=[])), ("workloads", "e", "topics")),
    ("etl topics with a nested list",
     with_etl(lambda d: etl(d).update(topics=["t", ["u"]])), ("workloads", "e", "topics", 1)),
    ("etl consumers 65",
     with_etl(lambda d: etl(d).update(consumers=65)), ("workloads", "e", "consumers")),
    ("etl batch 0",
     with_etl(lambda d: etl(d).update(batch=0)), ("workloads", "e", "batch")),
    ("etl batch_wait without a unit",
     with_etl(lambda d: etl(d).update(batch_wait="50")), ("workloads", "e", "batch_wait")),
    ("etl transform without lua",
     with_etl(lambda d: etl(d).update(transform={"function": "f"})), ("workloads", "e", "transform")),
    ("etl redis given as true",
     with_etl(lambda d: etl(d).update(redis=True)), ("workloads", "e", "redis")),
    ("etl redis with an unknown key (mode)",
     with_etl(lambda d: etl(d).update(redis={"mode": "hash"})), ("workloads", "e", "redis")),
    ("etl unknown aggregate",
     with_etl(lambda d: etl(d).update(redis={"aggregates": ["sales_by_city"]})),
     ("workloads", "e", "redis", "aggregates", 0)),
    ("etl allow unknown Lua library",
     with_etl(lambda d: etl(d).update(allow=["debug"])), ("workloads", "e", "allow", 0)),
    ("etl redis sink without topology.redis",
     with_etl(lambda d: (etl(d).update(redis={}), d["topology"].pop("redis"))), ("topology",)),
    ("etl postgres sink without topology.postgres",
     with_etl(lambda d: d["topology"].pop("postgres")), ("topology",)),
    ("ledger not a boolean",
     mutate(lambda d: workload(d).update(ledger=1)), ("workloads", "w", "ledger")),
    ("topology.redis url with the wrong scheme",
     mutate(lambda d: d["topology"].update(redis={"url": "http://localhost:6379"})),
     ("topology", "redis", "url")),
    ("topology.postgres url with the wrong scheme",
     mutate(lambda d: d["topology"].update(postgres={"url": "mysql://localhost/db"})),
     ("topology", "postgres", "url")),
    ("topology.redis with an unknown key (host)",
     mutate(lambda d: d["topology"].update(redis={"host": "localhost"})), ("topology", "redis")),
    ("topology.postgres given as a URL string",
     mutate(lambda d: d["topology"].update(postgres="postgresql://localhost/db")), ("topology", "postgres")),
    ("until as an empty list",
     mutate(lambda d: (phase(d).pop("duration"), phase(d).update(until=[], timeout="5s"))),
     ("timeline", 0, "until")),
    ("until list with an empty condition",
     mutate(lambda d: (phase(d).pop("duration"), phase(d).update(until=["last(etl.lag) == 0", ""], timeout="5s"))),
     ("timeline", 0, "until", 1)),
    ("until with duration",
     mutate(lambda d: phase(d).update(until="last(produce.in_flight) == 0", timeout="5s")), ("timeline", 0)),
    ("consumer-crash without workload",
     with_step(chaos="consumer-crash"), ("timeline", 0, "steps", 0)),
    ("workload on broker-down",
     mutate(lambda d: step(d).update(workload="e")), ("timeline", 0, "steps", 0)),
    ("workload on redis-kill",
     with_step(chaos="redis-kill", workload="e"), ("timeline", 0, "steps", 0)),
    ("redis-kill with broker",
     with_step(chaos="redis-kill", broker=1), ("timeline", 0, "steps", 0)),
    ("consumer-crash with broker",
     with_step(chaos="consumer-crash", workload="e", broker="random"), ("timeline", 0, "steps", 0)),
    ("delay on postgres-pause",
     with_step(chaos="postgres-pause", delay="40ms"), ("timeline", 0, "steps", 0)),
    ("redis-pause without topology.redis",
     mutate(lambda d: phase(d).update(steps=[{"at": "1s", "chaos": "redis-pause", "for": "2s"}])), ("topology",)),
    ("postgres-kill without topology.postgres",
     mutate(lambda d: phase(d).update(steps=[{"at": "1s", "chaos": "postgres-kill", "for": "2s"}])), ("topology",)),
    ("redis-kill on a Redis given by url",
     mutate(lambda d: (d["topology"].update(redis={"url": "redis://127.0.0.1:6379"}),
                       step(d).update(chaos="redis-kill"), step(d).pop("broker"))), ("topology", "redis")),
    ("postgres-pause on a PostgreSQL given by url",
     mutate(lambda d: (d["topology"].update(postgres={"url": "postgresql://localhost/db"}),
                       step(d).update(chaos="postgres-pause"), step(d).pop("broker"))), ("topology", "postgres")),
    # --- the kubernetes target: topology.kubernetes, pod/node chaos, scale KIND/NAME ---
    ("pod-kill without pods",
     with_kube_step(chaos="pod-kill", **{"for": "2s"}), STEP),
    ("pod-evict without pods",
     with_kube_step(chaos="pod-evict"), STEP),
    ("pods with both selector and name",
     with_kube_step(chaos="pod-kill", pods={"selector": "app=kafka", "name": "kafka-0"}), STEP + ("pods",)),
    ("pods with neither selector, name nor leader_of",
     with_kube_step(chaos="pod-kill", pods={"namespace": "lab", "min_age": "5s"}), STEP + ("pods",)),
    ("pods leader_of as topic/partition (the broker form)",
     with_kube_step(chaos="pod-kill", pods={"leader_of": "t/0"}), STEP + ("pods", "leader_of")),
    ("pods leader_of without topic",
     with_kube_step(chaos="pod-kill", pods={"leader_of": {"partition": 1}}), STEP + ("pods", "leader_of")),
    ("pods with an unknown key (label)",
     with_kube_step(chaos="pod-kill", pods={"selector": "app=kafka", "label": "x"}), STEP + ("pods",)),
    ("pod-kill count 1001",
     with_kube_step(chaos="pod-kill", pods={"selector": "app=kafka"}, count=1001), STEP + ("count",)),
    ("spacing on pod-kill",
     with_kube_step(chaos="pod-kill", pods={"selector": "app=kafka"}, spacing="5s"), STEP),
    ("pods on broker-down",
     mutate(lambda d: step(d).update(pods={"name": "kafka-0"})), STEP),
    ("node-cordon without for",
     with_kube_step(chaos="node-cordon", node="random"), STEP),
    ("node-drain without node",
     with_kube_step(chaos="node-drain", **{"for": "2s"}), STEP),
    ("node given as {name}",
     with_kube_step(chaos="node-drain", node={"name": "worker-1"}, **{"for": "2s"}), STEP + ("node",)),
    ("node on pod-kill",
     with_kube_step(chaos="pod-kill", pods={"name": "kafka-0"}, node="random"), STEP),
    ("grace_period on node-cordon",
     with_kube_step(chaos="node-cordon", node="random", grace_period="1s", **{"for": "2s"}), STEP),
    ("grace_period on broker-down",
     with_kube_step(chaos="broker-down", broker=1, grace_period="1s", **{"for": "2s"}), STEP),
    ("scale: statefulset/x without replicas",
     with_kube_step(scale="statefulset/x"), STEP),
    ("scale: statefulset without a name",
     with_kube_step(scale="statefulset/", replicas=1), STEP + ("scale",)),
    ("scale: daemonset/x",
     with_kube_step(scale="daemonset/x", replicas=1), STEP + ("scale",)),
    ("scale: sts/x with dry_run",
     with_kube_step(scale="sts/x", replicas=2, dry_run=True), STEP),
    ("scale: deployment/x replicas 1001",
     with_kube_step(scale="deployment/x", replicas=1001), STEP + ("replicas",)),
    ("replicas on add-brokers",
     with_kube_step(scale="add-brokers", count=1, replicas=4), STEP),
    ("for on add-brokers",
     with_kube_step(scale="add-brokers", count=1, **{"for": "2s"}), STEP),
    ("namespace on pod-kill (it goes in pods)",
     with_kube_step(chaos="pod-kill", pods={"name": "kafka-0"}, namespace="lab"), STEP),
    ("topology.kubernetes given as a string",
     with_kube_topology("yes"), ("topology", "kubernetes")),
    ("topology.kubernetes with an unknown key (namespaces)",
     with_kube_topology({"namespaces": "lab"}), ("topology", "kubernetes")),
    ("topology.kubernetes namespace not a DNS label",
     with_kube_topology({"namespace": "Chaos_Lab"}), ("topology", "kubernetes", "namespace")),
    ("topology.kubernetes deploys an unknown component",
     with_kube_topology({"deploy": ["kafka", "zookeeper"]}), ("topology", "kubernetes", "deploy", 1)),
    ("topology.kubernetes replicas of kafka",
     with_kube_topology({"replicas": {"kafka": 3}}), ("topology", "kubernetes", "replicas")),
    ("topology.kubernetes resources with an unknown key (request)",
     with_kube_topology({"resources": {"kafka": {"request": {"cpu": "1"}}}}), ("topology", "kubernetes", "resources", "kafka")),
    ("topology.kubernetes ready_timeout without a unit",
     with_kube_topology({"ready_timeout": 300}), ("topology", "kubernetes", "ready_timeout")),
    # --- Kubernetes API load: kube-churn, kube-lifecycle, kube-watch ---
    ("kube-churn with both lifetime and population",
     kube_load(c=dict(CHURN, population=1000)), ("workloads", "c")),
    ("kube-churn with neither lifetime nor population",
     kube_load(c={"type": "kube-churn", "connections": 4}), ("workloads", "c")),
    ("kube-churn lifetime without a unit",
     kube_load(c=dict(CHURN, lifetime=20)), ("workloads", "c", "lifetime")),
    ("kube-churn population 0",
     kube_load(c={"type": "kube-churn", "population": 0}), ("workloads", "c", "population")),
    ("kube-churn connections 1001",
     kube_load(c=dict(CHURN, connections=1001)), ("workloads", "c", "connections")),
    ("kube-churn server without a scheme",
     kube_load(c=dict(CHURN, servers=["https://10.0.0.1:6443", "10.0.0.2:6443"])), ("workloads", "c", "servers", 1)),
    ("kube-churn servers given as a string",
     kube_load(c=dict(CHURN, servers="https://10.0.0.1:6443")), ("workloads", "c", "servers")),
    ("kube-churn csv not a boolean",
     kube_load(c=dict(CHURN, csv="yes")), ("workloads", "c", "csv")),
    ("kube-churn with a lifecycle key (threads)",
     kube_load(c=dict(CHURN, threads=4)), ("workloads", "c")),
    ("object with an unknown key (kind)",
     kube_load(c=dict(CHURN, object={"resource": "configmaps", "kind": "ConfigMap"})), ("workloads", "c", "object")),
    ("object given as a string",
     kube_load(c=dict(CHURN, object="configmaps")), ("workloads", "c", "object")),
    ("object size over 1MiB",
     kube_load(c=dict(CHURN, object={"size": "2MiB"})), ("workloads", "c", "object", "size")),
    ("object size 1048577B",
     kube_load(c=dict(CHURN, object={"size": "1048577B"})), ("workloads", "c", "object", "size")),
    ("object size without a unit",
     kube_load(c=dict(CHURN, object={"size": 1024})), ("workloads", "c", "object", "size")),
    ("object name_length 254",
     kube_load(c=dict(CHURN, object={"name_length": 254})), ("workloads", "c", "object", "name_length")),
    ("object fields given as a list",
     kube_load(l=dict(LIFECYCLE, object={"fields": [{"spec": {}}]})), ("workloads", "l", "object", "fields")),
    ("kube-lifecycle with create_only and updates",
     kube_load(l=dict(LIFECYCLE, create_only=True, updates=2)), ("workloads", "l")),
    ("kube-lifecycle updates 10001",
     kube_load(l=dict(LIFECYCLE, updates=10001)), ("workloads", "l", "updates")),
    ("kube-lifecycle patch json",
     kube_load(l=dict(LIFECYCLE, patch="json")), ("workloads", "l", "patch")),
    ("kube-lifecycle threads 0",
     kube_load(l=dict(LIFECYCLE, threads=0)), ("workloads", "l", "threads")),
    ("kube-lifecycle with a churn key (lifetime)",
     kube_load(l=dict(LIFECYCLE, lifetime="10s")), ("workloads", "l")),
    ("kube-watch observers 10001",
     kube_load(o=dict(WATCH, observers=10001)), ("workloads", "o", "observers")),
    ("kube-watch restart without min",
     kube_load(o=dict(WATCH, restart={"max": "30s"})), ("workloads", "o", "restart")),
    ("kube-watch restart given as a duration",
     kube_load(o=dict(WATCH, restart="30s")), ("workloads", "o", "restart")),
    ("kube-watch restart with an unknown key (every)",
     kube_load(o=dict(WATCH, restart={"min": "10s", "every": "30s"})), ("workloads", "o", "restart")),
    ("kube-watch observes given as a map",
     kube_load(c=CHURN, o=dict(WATCH, observes={"workload": "c"})), ("workloads", "o", "observes")),
    ("kube-watch with an object (a churn key)",
     kube_load(o=dict(WATCH, object={"resource": "configmaps"})), ("workloads", "o")),
    ("kube-watch with csv (churn and lifecycle only)",
     kube_load(o=dict(WATCH, csv=True)), ("workloads", "o")),
]

# Valid variants, so the rejections above are not vacuous.
VALID = [
    ("base document", BASE),
    ("minimal document", {"name": "m", "timeline": [{"phase": "only", "duration": "1s"}]}),
    ("every/start, broker-delay, random broker, max rate, until/timeout",
     mutate(lambda d: d["timeline"].extend([
         {"phase": "soak", "duration": "1m", "load": {"w": {"rate": "max"}},
          "steps": [{"every": "10s", "start": "2s", "chaos": "broker-delay",
                     "broker": "random", "delay": "1.5ms", "for": "500us"}]},
         {"phase": "drain", "until": "last(produce.in_flight) == 0", "timeout": "1h",
          "load": {"w": "max"}},
     ]))),
    ("generator workload with all options",
     mutate(lambda d: d["workloads"].update(g={
         "type": "kafka-producer", "generator": {"lua": "g.lua", "function": "gen", "params": [1, "x"]},
         "topic": "t.{a.b}", "key": "{id}", "acks": -1, "idempotence": False, "compression": "none",
         "properties": {"linger.ms": 5, "enable.gzip": True}, "threads": 64, "allow": ["os", "ffi"]}))),
    ("payload value and integer size",
     mutate(lambda d: d["workloads"].update(v={"type": "kafka-producer", "payload": {"value": "x"},
                                               "topic": "t", "acks": "all"},
                                            s={"type": "kafka-producer", "payload": {"size": 512},
                                               "topic": "t", "acks": "0"}))),
    ("etl minimal with postgres only", with_etl()),
    ("etl with every option, topics as a list, producer with ledger",
     with_etl(lambda d: (workload(d).update(ledger=True), etl(d).update(
         topics=["bps.*", "t"], group="g", consumers=64, batch=100000, batch_wait="50ms",
         transform={"lua": "t.lua", "function": "f", "params": {"drop": 0.5}},
         redis={"set": False, "key": "tx:{store.id}:{id}", "ttl": "1h",
                "aggregates": ["sales_by_state", "store_counters"]},
         postgres=False, properties={"fetch.min.bytes": 1, "enable.partition.eof": False},
         allow=["io"])))),
    ("etl with a null redis sink only, stores as null and {}",
     mutate(lambda d: (d["topology"].update(redis=None, postgres={}),
                       d["workloads"].update(e={"type": "etl", "topics": "t", "redis": None})))),
    ("topology redis with url, postgres with url",
     mutate(lambda d: d["topology"].update(redis={"url": "redis://127.0.0.1:6379"},
                                           postgres={"url": "postgres://kapture@127.0.0.1:5432/kapture"}))),
    ("topology postgres with a postgresql:// url",
     mutate(lambda d: d["topology"].update(postgres={"url": "postgresql://localhost/db"}))),
    ("until list",
     mutate(lambda d: d["timeline"].append(
         {"phase": "drain", "until": ["last(produce.in_flight) == 0", "last(etl.lag) == 0"],
          "timeout": "30s"}))),
    ("store and consumer chaos verbs",
     with_etl(lambda d: phase(d).update(steps=[
         {"at": "1s", "chaos": "redis-kill", "for": "1s"},
         {"at": "2s", "chaos": "redis-pause", "for": "1s"},
         {"at": "3s", "chaos": "postgres-kill", "for": "1s"},
         {"every": "4s", "start": "1s", "chaos": "postgres-pause", "for": "1s"},
         {"at": "5s", "chaos": "consumer-crash", "workload": "e", "for": "2s"},
     ]))),
    ("bare metric names in expect",
     with_etl(lambda d: (workload(d).update(ledger=True),
                         d.update(expect=["ledger.lost == 0", "etl.dead_letter == 0"])))),
    ("kubernetes target: topology.kubernetes as null",
     with_kube_topology(None)),
    ("kubernetes target: topology.kubernetes with every option",
     with_kube_topology({"namespace": "chaos-lab", "manifests": "../manifests",
                         "deploy": ["webapp", "kafka", "rbac", "redis", "postgres", "etl", "loader"],
                         "images": {"kafka": "apache/kafka:3.9.0", "loader": "kapture/engine:dev"},
                         "replicas": {"loader": 2, "webapp": 0},
                         "resources": {"kafka": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                                 "limits": {"cpu": 2, "memory": "2Gi"}}, "redis": {}},
                         "ready_timeout": "10m"})),
    ("kubernetes target: pod, node, scale and broker steps",
     mutate(lambda d: (d.update(target="kubernetes"), d["topology"].update(kubernetes={"deploy": ["rbac", "kafka"]}),
                       phase(d).update(duration="60s", steps=[
         {"at": "1s", "chaos": "pod-kill", "pods": {"leader_of": {"topic": "t", "partition": 1}},
          "grace_period": "0s", "for": "8s"},
         {"at": "2s", "chaos": "pod-kill", "pods": {"leader_of": {"topic": "t"}}},
         {"at": "3s", "chaos": "pod-evict", "pods": {"selector": "app=redis", "namespace": "lab",
                                                     "min_age": "5s", "one_per_owner": True},
          "count": 2, "dry_run": True},
         {"every": "20s", "start": "4s", "chaos": "pod-kill", "pods": {"name": "kafka-0"}, "for": "5s"},
         {"at": "5s", "chaos": "node-cordon", "node": "random", "for": "5s"},
         {"at": "6s", "chaos": "node-drain", "node": {"selector": "zone=a"}, "grace_period": "10s",
          "for": "5s", "dry_run": False},
         {"at": "7s", "chaos": "node-cordon", "node": "worker-1", "for": "5s"},
         {"at": "8s", "scale": "statefulset/kafka", "replicas": 4},
         {"at": "9s", "scale": "sts/kafka", "replicas": 3, "for": "10s"},
         {"at": "10s", "scale": "deployment/loader", "replicas": 0, "namespace": "lab", "for": "5s"},
         {"at": "11s", "scale": "deploy/loader", "replicas": 1000},
         {"at": "12s", "chaos": "broker-kill", "broker": 2, "for": "20s"},
         {"at": "13s", "chaos": "broker-kill", "broker": "random", "grace_period": "5s", "for": "20s"},
     ])))),
    ("kube-churn, kube-lifecycle and kube-watch, minimal",
     kube_load(c=CHURN, l=LIFECYCLE, o=WATCH)),
    ("kube-churn with population and every option",
     kube_load(c={"type": "kube-churn", "population": 1000, "connections": 1000, "csv": True,
                  "servers": ["https://10.0.0.1:6443", "http://127.0.0.1:8080"],
                  "object": {"resource": "flunders.v1alpha1.wardle.example.com", "namespace": "api-load",
                             "size": "1MiB", "name_length": 253, "fields": {"spec": {"size": 3}}}})),
    ("object sizes at the edges",
     kube_load(a=dict(CHURN, object={"size": "0B"}), b=dict(CHURN, object={"size": "1048576B"}),
               c=dict(CHURN, object={"size": "1024KiB"}), d=dict(CHURN, object={"size": "1048KB"}),
               e=dict(CHURN, object={"size": "1MB", "name_length": 0}), f=dict(CHURN, object={}))),
    ("kube-lifecycle with every option",
     kube_load(l={"type": "kube-lifecycle", "object": {"resource": "secrets", "size": "512B"},
                  "updates": 10000, "patch": "apply", "create_only": False, "threads": 1000, "csv": False})),
    ("kube-lifecycle create_only without updates, updates 0",
     kube_load(l=dict(LIFECYCLE, create_only=True, patch="strategic"), m=dict(LIFECYCLE, updates=0))),
    ("kube-watch with every option, observes as a list",
     kube_load(c=CHURN, l=LIFECYCLE,
               o={"type": "kube-watch", "resource": "configmaps", "namespace": "api-load",
                  "selector": "kapture.io/workload=c", "observers": 10000,
                  "restart": {"min": "10s", "max": "30s"}, "observes": ["c", "l"]},
               p=dict(WATCH, restart={"min": "5s"}, observes="c"))),
    ("kube-churn ramp and Poisson loads",
     mutate(lambda d: (d.update(target="kubernetes"), d["topology"].update(kubernetes={"deploy": []}),
                       d["workloads"].update(c=CHURN),
                       phase(d)["load"].update(c={"from": "10/s", "to": "50/s"}),
                       d["timeline"].append({"phase": "q", "duration": "5s",
                                             "load": {"c": {"rate": "50/s", "arrivals": "poisson"}}})))),
]


def main(argv):
    passed = failed = 0

    validator = load_validator(SCHEMA_PATH)
    if validator is None:
        return 1

    if argv:
        files = [(path, path) for path in argv]
    else:
        files = []
        for pattern in DEFAULT_FILES:
            found = [path for path in sorted(glob.glob(os.path.join(ROOT, pattern)))
                     if not os.path.basename(path).startswith("bad")]
            if not found:
                print(f"FAIL no {pattern} found")
                failed += 1
            files += [(path, os.path.relpath(path, ROOT)) for path in found]
    for path, name in files:
        try:
            doc = load_yaml(path)
        except (OSError, yaml.YAMLError) as exc:
            print(f"FAIL {name}: {exc}")
            failed += 1
            continue
        if check_document(validator, name, doc):
            passed += 1
        else:
            failed += 1

    for desc, doc in VALID:
        errors = list(validator.iter_errors(doc))
        if errors:
            failed += 1
            print(f"FAIL valid case '{desc}' was rejected:")
            for err in errors:
                print(f"  {describe(err)}")
        else:
            passed += 1
            print(f"ok   valid case: {desc}")

    for desc, doc, where in INVALID:
        errors = list(validator.iter_errors(doc))
        at = {tuple(leaf.absolute_path) for err in errors for leaf in leaf_errors(err)}
        if not errors:
            failed += 1
            print(f"FAIL invalid case '{desc}' was accepted")
        elif tuple(where) not in at:
            failed += 1
            print(f"FAIL invalid case '{desc}' rejected, but not at {fmt_path(where)}:")
            for err in errors:
                print(f"  {describe(err)}")
        else:
            passed += 1
            print(f"ok   invalid case rejected: {desc} ({fmt_path(where)})")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0



if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
