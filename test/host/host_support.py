"""Shared by the host package's tests: the package on sys.path, and the run folder's JSON Schema (generated from
src/shared/runs, see test/host/run-folder.schema.json) with a validator for the subset of JSON Schema it uses."""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
HOST_DIR = os.path.join(REPO, "resources", "host")
FIXTURES = os.path.join(REPO, "test", "fixtures")

if HOST_DIR not in sys.path:
    sys.path.insert(0, HOST_DIR)


def run_folder_schema():
    with open(os.path.join(HERE, "run-folder.schema.json"), encoding="utf-8") as handle:
        return json.load(handle)


def _is_type(value, name):
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    raise ValueError("unsupported type %r" % name)


SUPPORTED = {
    "type", "enum", "const", "properties", "required", "additionalProperties", "items", "anyOf", "oneOf",
    "minimum", "maximum", "exclusiveMinimum", "minLength", "minItems", "pattern", "default", "$comment", "$schema",
    "propertyNames",
}


def schema_errors(value, schema, where="$"):
    """The ways `value` breaks `schema` (a list of strings; empty when it is valid). Fails loudly on a keyword it does
    not know, so a schema that grows past this subset is noticed rather than half-checked."""
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise ValueError("%s: JSON Schema keywords this validator does not know: %s" % (where, sorted(unknown)))
    errors = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, t) for t in types):
            return ["%s: %r is not %s" % (where, value, " or ".join(types))]
    if "const" in schema and value != schema["const"]:
        errors.append("%s: %r is not %r" % (where, value, schema["const"]))
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r is not one of %r" % (where, value, schema["enum"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append("%s: %r < %r" % (where, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append("%s: %r > %r" % (where, value, schema["maximum"]))
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append("%s: %r <= %r" % (where, value, schema["exclusiveMinimum"]))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append("%s: shorter than %d" % (where, schema["minLength"]))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append("%s: %r does not match %s" % (where, value, schema["pattern"]))
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append("%s: fewer than %d items" % (where, schema["minItems"]))
        if "items" in schema:
            for i, item in enumerate(value):
                errors += schema_errors(item, schema["items"], "%s[%d]" % (where, i))
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append("%s: %s is missing" % (where, key))
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], "%s.%s" % (where, key))
            elif schema.get("additionalProperties") is False:
                errors.append("%s: %s is not declared" % (where, key))
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += schema_errors(item, schema["additionalProperties"], "%s.%s" % (where, key))
        if "propertyNames" in schema:
            for key in value:
                errors += schema_errors(key, schema["propertyNames"], "%s{%s}" % (where, key))
    if "anyOf" in schema:
        results = [schema_errors(value, option, where) for option in schema["anyOf"]]
        if all(results):
            errors.append("%s: matches none of anyOf (%s)" % (where, "; ".join(r[0] for r in results)))
    if "oneOf" in schema:
        results = [schema_errors(value, option, where) for option in schema["oneOf"]]
        matched = [r for r in results if not r]
        if len(matched) != 1:
            # For a discriminated union, the option with the same `type` says best what is wrong.
            same = [
                r
                for option, r in zip(schema["oneOf"], results)
                if isinstance(value, dict) and option.get("properties", {}).get("type", {}).get("const") == value.get("type")
            ]
            detail = "; ".join(same[0]) if same and same[0] else "%d options match" % len(matched)
            errors.append("%s: oneOf: %s" % (where, detail))
    return errors
