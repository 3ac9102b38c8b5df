#!/usr/bin/python3
"""Validate results summaries (summary.json) against schemas/results.schema.json.

Usage (from anywhere):
    /usr/bin/python3 tests/schema/validate_results.py RESULTS_DIR_OR_SUMMARY_JSON ...

Each argument is a results directory (its summary.json is checked) or a
summary.json. The script also checks the schema itself, and that a few
deliberately broken copies of the first summary are rejected (so the schema is
not vacuous). At least one summary must be given.

Needs the Debian package python3-jsonschema; use /usr/bin/python3 (a pyenv
python on PATH will not see it).

Exit status: 0 when everything passed, 1 otherwise.
"""

import copy
import os
import sys

try:
    import jsonschema
except ImportError as exc:  # pragma: no cover
    sys.exit(f"error: {exc}; run `apt-get install -y python3-jsonschema` and use /usr/bin/python3")

from schema_check import ROOT, check_document, fmt_path, load_json, load_validator

SCHEMA_PATH = os.path.join(ROOT, "schemas", "results.schema.json")


# (description, change to a valid summary, path where the violation must be reported)
def _pop(key):
    return lambda d: d.pop(key)


BROKEN = [
    ("no schema_version", _pop("schema_version"), ()),
    ("schema_version 2", lambda d: d.update(schema_version=2), ("schema_version",)),
    ("unknown top-level key", lambda d: d.update(verdikt={}), ()),
    ("exit code 5", lambda d: d["verdict"].update(exit_code=5), ("verdict", "exit_code")),
    ("no expectations", _pop("expectations"), ()),
    ("counter as text", lambda d: d["run"]["counters"].update({"produce.sent": "12"}),
     ("run", "counters", "produce.sent")),
    ("latency without p99", lambda d: d["run"]["latency"].pop("p99_ms"), ("run", "latency")),
]


def main(argv):
    if not argv:
        print("usage: validate_results.py RESULTS_DIR_OR_SUMMARY_JSON ...")
        return 1
    passed = failed = 0
    validator = load_validator(SCHEMA_PATH)
    if validator is None:
        return 1

    first = None
    for arg in argv:
        path = os.path.join(arg, "summary.json") if os.path.isdir(arg) else arg
        try:
            doc = load_json(path)
        except (OSError, ValueError) as exc:
            print(f"FAIL {path}: {exc}")
            failed += 1
            continue
        if check_document(validator, path, doc):
            passed += 1
            first = first or doc
        else:
            failed += 1

    if first is not None:
        for desc, change, where in BROKEN:
            doc = copy.deepcopy(first)
            change(doc)
            errors = list(validator.iter_errors(doc))
            at = {tuple(e.absolute_path) for e in errors}
            if tuple(where) in at:
                passed += 1
                print(f"ok   broken summary rejected: {desc} ({fmt_path(where)})")
            else:
                failed += 1
                print(f"FAIL broken summary '{desc}' " + ("accepted" if not errors else f"not rejected at {fmt_path(where)}"))

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
