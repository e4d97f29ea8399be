"""The essentials of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json, OASIS), as a JSON Schema
subset, and a small validator for it: no network, no jsonschema package.

Only what a code-scanning service reads is here: the log, a run, the tool's driver and its
rules (reportingDescriptor), results, locations, artifact locations and regions. Types,
required properties, enums and minimums are as in the official schema; properties it does
not list are allowed (as there: SARIF objects are open to `properties` bags and more).
"""
from __future__ import annotations

import re

MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
MULTIFORMAT = {"type": "object", "required": ["text"],
               "properties": {"text": {"type": "string"}, "markdown": {"type": "string"}}}
LEVEL = {"enum": ["none", "note", "warning", "error"]}
URI = {"type": "string", "format": "uri-reference"}
REGION = {"type": "object", "properties": {
    "startLine": {"type": "integer", "minimum": 1}, "startColumn": {"type": "integer", "minimum": 1},
    "endLine": {"type": "integer", "minimum": 1}, "endColumn": {"type": "integer", "minimum": 1},
    "charOffset": {"type": "integer", "minimum": -1}, "charLength": {"type": "integer", "minimum": 0}}}
ARTIFACT_LOCATION = {"type": "object", "properties": {
    "uri": URI, "uriBaseId": {"type": "string"}, "index": {"type": "integer", "minimum": -1},
    "description": MESSAGE}}
PHYSICAL_LOCATION = {"type": "object", "anyRequired": ["address", "artifactLocation"], "properties": {
    "artifactLocation": ARTIFACT_LOCATION, "region": REGION}}
LOCATION = {"type": "object", "properties": {
    "id": {"type": "integer", "minimum": -1}, "physicalLocation": PHYSICAL_LOCATION, "message": MESSAGE}}
RULE = {"type": "object", "required": ["id"], "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "shortDescription": MULTIFORMAT,
    "fullDescription": MULTIFORMAT, "help": MULTIFORMAT, "helpUri": {"type": "string", "format": "uri"},
    "defaultConfiguration": {"type": "object", "properties": {"level": LEVEL, "enabled": {"type": "boolean"}}},
    "properties": {"type": "object"}}}
RESULT = {"type": "object", "required": ["message"], "properties": {
    "ruleId": {"type": "string"}, "ruleIndex": {"type": "integer", "minimum": -1},
    "kind": {"enum": ["notApplicable", "pass", "fail", "review", "open", "informational"]},
    "level": LEVEL, "message": MESSAGE,
    "locations": {"type": "array", "items": LOCATION, "uniqueItems": True},
    "relatedLocations": {"type": "array", "items": LOCATION, "uniqueItems": True}}}
SCHEMA = {"type": "object", "required": ["version", "runs"], "properties": {
    "$schema": {"type": "string", "format": "uri"},
    "version": {"enum": ["2.1.0"]},
    "runs": {"type": "array", "items": {"type": "object", "required": ["tool"], "properties": {
        "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
            "type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "version": {"type": "string"},
                "semanticVersion": {"type": "string"}, "informationUri": {"type": "string", "format": "uri"},
                "rules": {"type": "array", "items": RULE, "uniqueItems": True}}}}},
        "originalUriBaseIds": {"type": "object", "additionalProperties": ARTIFACT_LOCATION},
        "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
        "results": {"type": "array", "items": RESULT}}}}}}

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")
_URI_REF = re.compile(r"^[^\s<>\"{}|\\^`]*$")


def validate(value: object, schema: dict = SCHEMA, where: str = "$") -> list[str]:
    """Every way `value` breaks `schema`, as `path: problem` strings (empty: valid)."""
    errs: list[str] = []
    t = schema.get("type")
    if t == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: expected an integer, got {value!r}"]
    elif t and not isinstance(value, _TYPES[t]):
        return [f"{where}: expected {t}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and value < schema["minimum"]:
        errs.append(f"{where}: {value} < {schema['minimum']}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        errs.append(f"{where}: shorter than {schema['minLength']}")
    fmt = schema.get("format")
    if fmt == "uri" and not _URI.match(value):
        errs.append(f"{where}: {value!r} is not an absolute URI")
    if fmt == "uri-reference" and not _URI_REF.match(value):
        errs.append(f"{where}: {value!r} is not a URI reference (unescaped characters)")
    if isinstance(value, dict):
        errs += [f"{where}: missing {k!r}" for k in schema.get("required", ()) if k not in value]
        if "anyRequired" in schema and not any(k in value for k in schema["anyRequired"]):
            errs.append(f"{where}: needs one of {schema['anyRequired']}")
        for k, v in value.items():
            sub = schema.get("properties", {}).get(k) or schema.get("additionalProperties")
            if isinstance(sub, dict):
                errs += validate(v, sub, f"{where}.{k}")
    if isinstance(value, list):
        if schema.get("uniqueItems") and len({repr(v) for v in value}) != len(value):
            errs.append(f"{where}: items are not unique")
        for i, v in enumerate(value):
            errs += validate(v, schema.get("items", {}), f"{where}[{i}]")
    return errs
