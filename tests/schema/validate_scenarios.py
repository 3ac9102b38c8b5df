#!/usr/bin/python3
"""Validate scenario files against schemas/scenario.schema.json.

Usage (from anywhere):
    /usr/bin/python3 tests/schema/validate_scenarios.py [scenario.yaml ...]

With no arguments every scenarios/*.yaml in the repository is checked. The
script also checks the schema itself and asserts that a set of deliberately
invalid inline documents is rejected (each at the expected place).

Needs the Debian packages python3-jsonschema and python3-yaml
(`apt-get install -y python3-jsonschema python3-yaml`). Use /usr/bin/python3:
a pyenv python on PATH will not see those packages.

Exit status: 0 when everything passed, 1 otherwise.
"""

import copy
import glob
import json
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError as exc:  # pragma: no cover
    sys.exit(f"error: {exc}; run `apt-get install -y python3-jsonschema python3-yaml` "
             "and use /usr/bin/python3")

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCHEMA_PATH = os.path.join(ROOT, "schemas", "scenario.schema.json")


def fmt_path(path):
    """JSON path as `timeline[3].steps[0].delay` ('<root>' for the document)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def leaf_errors(error):
    """The error plus, for oneOf/anyOf failures, the sub-errors behind it."""
    yield error
    for sub in error.context or ():
        yield from leaf_errors(sub)


def describe(error):
    msg = f"{fmt_path(error.absolute_path)}: {error.message}"
    if error.context:
        # For oneOf/anyOf failures, show why the alternatives of the right
        # shape failed (skip "is not of type" noise from the other shapes).
        leaves = [e for sub in error.context for e in leaf_errors(sub)
                  if e.validator not in ("oneOf", "anyOf", "type")]
        seen = []
        for leaf in leaves or list(error.context):
            line = f"{fmt_path(leaf.absolute_path)}: {leaf.message}"
            if line not in seen:
                seen.append(line)
        for line in seen[:4]:
            msg += f"\n      alternative failed: {line}"
    return msg


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
]


def main(argv):
    passed = failed = 0

    schema = load_json(SCHEMA_PATH)
    validator_cls = jsonschema.validators.validator_for(schema)
    try:
        validator_cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        print(f"FAIL {os.path.relpath(SCHEMA_PATH, ROOT)}: not a valid {validator_cls.__name__} schema: "
              f"{exc.message}")
        return 1
    validator = validator_cls(schema)

    if argv:
        files = [(path, path) for path in argv]
    else:
        files = [(path, os.path.relpath(path, ROOT))
                 for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml")))]
        if not files:
            print("FAIL no scenarios/*.yaml found")
            failed += 1
    for path, name in files:
        try:
            doc = load_yaml(path)
        except (OSError, yaml.YAMLError) as exc:
            print(f"FAIL {name}: {exc}")
            failed += 1
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            failed += 1
            print(f"FAIL {name}: {len(errors)} violation(s)")
            for err in errors:
                print(f"  {name}: {describe(err)}")
        else:
            passed += 1
            print(f"ok   {name}")

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


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
