"""What validate_scenarios.py and validate_results.py share: loading a schema
into a validator, checking one document and printing the outcome."""

import json
import os

import jsonschema

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


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


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_validator(schema_path):
    """A validator for the schema at schema_path, or None (after a FAIL line)
    when the schema itself is invalid."""
    schema = load_json(schema_path)
    validator_cls = jsonschema.validators.validator_for(schema)
    try:
        validator_cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        print(f"FAIL {os.path.relpath(schema_path, ROOT)}: not a valid {validator_cls.__name__} schema: "
              f"{exc.message}")
        return None
    return validator_cls(schema)


def check_document(validator, name, doc):
    """Prints `ok   NAME` or FAIL with every violation; True when valid."""
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        print(f"ok   {name}")
        return True
    print(f"FAIL {name}: {len(errors)} violation(s)")
    for err in errors:
        print(f"  {name}: {describe(err)}")
    return False
