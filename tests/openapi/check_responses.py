#!/usr/bin/python3
"""Checks cdrd's OpenAPI document, and real responses of cdrd against it.

    check_responses.py DOC            checks the document alone
    check_responses.py DOC RECORDS    also checks every recorded response
    check_responses.py DOC RECORDS --partial
                                      the same, without failing for operations
                                      the records do not cover

RECORDS is a JSON array written by tests/e2e/openapi_e2e_test.cpp, one object
per request sent to a running cdrd:
    {"method", "path" (the document's templated path, or the literal path of a
     request meant to match no operation), "target" (what was sent: path and
     query), "status", "content_type", "headers" (lower-case names), "body"}

Fails (exit 1), naming the route and the JSON path of the mismatch, when a
response's status, content type, required headers or body are not what the
document says, when a successful request used a query parameter the document
does not list (or a value its schema refuses), and when a documented
operation got no request at all. Uses only Debian 12's python3-yaml and
python3-jsonschema (4.10): no pip.
"""

import json
import re
import sys
import urllib.parse

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Failures:
    def __init__(self):
        self.lines = []

    def add(self, where, message):
        self.lines.append(f"FAIL {where}: {message}")


def json_pointer(doc, ref):
    """The node `ref` ("#/a/b") points at in `doc`; KeyError when there is none."""
    if not ref.startswith("#/"):
        raise KeyError(f"{ref}: only local references (#/...) are used in this document")
    node = doc
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise KeyError(f"{ref}: no '{token}'")
    return node


def deref(doc, node):
    """Follows OpenAPI (non-schema) $refs: responses, parameters, headers."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        node = json_pointer(doc, node["$ref"])
        seen += 1
    return node


def json_path(error):
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validator_for(doc, schema):
    # Schemas refer to #/components/...: resolve against the whole document.
    resolver = jsonschema.RefResolver(base_uri="", referrer=doc)
    return jsonschema.Draft202012Validator(schema, resolver=resolver)


def schema_errors(doc, schema, instance, limit=5):
    # The deepest first: an error inside `data` explains the ones it causes above it.
    errors = sorted(
        validator_for(doc, schema).iter_errors(instance),
        key=lambda e: (-len(e.absolute_path), list(map(str, e.absolute_path))),
    )
    return [f"at {json_path(e)}: {e.message[:300]}" for e in errors[:limit]]


def operations(doc):
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


# ---------------------------------------------------------------- the document


def check_refs(doc, node, where, failures):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                json_pointer(doc, ref)
            except (KeyError, IndexError, ValueError) as e:
                failures.add(where, f"$ref does not resolve: {e.args[0] if e.args else ref}")
        for key, value in node.items():
            token = str(key).replace("~", "~0").replace("/", "~1")
            check_refs(doc, value, f"{where}/{token}", failures)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            check_refs(doc, value, f"{where}/{i}", failures)


def check_schema(doc, schema, where, failures):
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        failures.add(where, f"not a valid JSON Schema 2020-12: {e.message}")


def check_responses_object(doc, responses, where, failures):
    if not responses:
        failures.add(where, "no responses")
    for status, response in responses.items():
        if not isinstance(status, str) or not re.fullmatch(r"[1-5][0-9][0-9]", status):
            failures.add(where, f"response key {status!r}: expected a quoted status code")
            continue
        response = deref(doc, response)
        if "description" not in response:
            failures.add(f"{where} {status}", "response without description")
        for media, content in response.get("content", {}).items():
            if "schema" not in content:
                failures.add(f"{where} {status} {media}", "no schema")
            else:
                check_schema(doc, content["schema"], f"{where} {status} {media}", failures)


def check_document(doc, failures):
    if not isinstance(doc, dict) or doc.get("openapi") != "3.1.0":
        failures.add("document", "expected `openapi: 3.1.0` at the top")
        return
    for key in ("info", "paths", "components"):
        if key not in doc:
            failures.add("document", f"no '{key}'")
    check_refs(doc, doc, "#", failures)
    if failures.lines:
        return  # what follows dereferences
    for name, schema in doc["components"].get("schemas", {}).items():
        check_schema(doc, schema, f"#/components/schemas/{name}", failures)
    for path, method, op in operations(doc):
        where = f"{method.upper()} {path}"
        if "operationId" not in op:
            failures.add(where, "no operationId")
        check_responses_object(doc, op.get("responses", {}), where, failures)
        declared = {
            p["name"]
            for p in (deref(doc, p) for p in doc["paths"][path].get("parameters", []) + op.get("parameters", []))
            if p.get("in") == "path"
        }
        templated = set(re.findall(r"\{([^}]+)\}", path))
        if declared != templated:
            failures.add(where, f"path parameters declared {sorted(declared)}, template has {sorted(templated)}")
        for p in op.get("parameters", []):
            p = deref(doc, p)
            if "schema" in p:
                check_schema(doc, p["schema"], f"{where} parameter {p.get('name')}", failures)
    other = doc.get("x-other-requests", {}).get("responses")
    if not other:
        failures.add("document", "no x-other-requests.responses (what unmatched requests get)")
    else:
        check_responses_object(doc, other, "x-other-requests", failures)


# ----------------------------------------------------------------- the records


def segments(path):
    return path.strip("/").split("/") if path.strip("/") else []


def matches_template(template, concrete):
    t, c = segments(template), segments(concrete)
    if len(t) != len(c):
        return False
    for ts, cs in zip(t, c):
        if ts.startswith("{") and ts.endswith("}"):
            if not cs:
                return False
        elif ts != cs:
            return False
    return True


def template_forms(doc, template):
    """The template and the aliases it is also served under (x-also-served-under)."""
    forms = [template]
    also = doc.get("x-also-served-under", {})
    prefix = also.get("prefix")
    if prefix and template.startswith(prefix + "/"):
        forms += [alias + template[len(prefix) :] for alias in also.get("aliases", [])]
    return forms


def served_by(doc, template, concrete):
    return any(matches_template(form, concrete) for form in template_forms(doc, template))


def check_query(doc, op, query, where, failures):
    """For a successful request: every query parameter is documented, with a valid value."""
    params = [deref(doc, p) for p in op.get("parameters", [])]
    by_name = {p["name"]: p for p in params if p.get("in") == "query"}
    exploded = [p for p in params if p.get("in") == "query" and p.get("schema", {}).get("type") == "object"]
    credentials = {
        s["name"]
        for s in doc["components"].get("securitySchemes", {}).values()
        if s.get("type") == "apiKey" and s.get("in") == "query"
    }
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if name in credentials:
            continue
        if name in by_name:
            schema = by_name[name].get("schema", {})
            typed = value
            if schema.get("type") == "integer":
                typed = int(value) if re.fullmatch(r"-?[0-9]+", value) else value
            elif schema.get("type") == "boolean":
                typed = {"true": True, "false": False}.get(value, value)
            for e in schema_errors(doc, schema, typed):
                failures.add(where, f"query parameter {name}={value!r} succeeded but the document refuses it: {e}")
            continue
        if any(schema_errors(doc, p["schema"], {name: value}) == [] for p in exploded):
            continue
        failures.add(where, f"query parameter '{name}' succeeded but is not documented")


def check_record(doc, rec, failures):
    method, template, target = rec["method"].lower(), rec["path"], rec["target"]
    status = str(rec["status"])
    concrete, _, query = target.partition("?")
    where = f"{rec['method']} {template} ({target}) -> {status}"
    item = doc["paths"].get(template)
    op = item.get(method) if item else None
    if item is not None and not served_by(doc, template, concrete):
        failures.add(where, f"the target does not match the path {template}")
        return None
    if item is None:
        for path in doc["paths"]:
            if served_by(doc, path, concrete):
                failures.add(where, f"recorded as an unmatched request, but the target matches {path}")
                return None
    if op is not None:
        responses = op.get("responses", {})
    else:
        responses = doc.get("x-other-requests", {}).get("responses", {})
        where += " [x-other-requests]"
    if status not in responses:
        failures.add(where, f"status {status} is not documented (documented: {', '.join(sorted(responses))})")
        return op
    response = deref(doc, responses[status])
    headers = {k.lower(): v for k, v in rec.get("headers", {}).items()}
    for name, header in response.get("headers", {}).items():
        header = deref(doc, header)
        if header.get("required") and name.lower() not in headers:
            failures.add(where, f"required header {name} is missing")
        elif name.lower() in headers and "schema" in header:
            for e in schema_errors(doc, header["schema"], headers[name.lower()]):
                failures.add(where, f"header {name}: {e}")
    content = {k.lower(): v for k, v in response.get("content", {}).items()}
    media = rec.get("content_type", "").split(";")[0].strip().lower()
    if not content:
        if rec.get("body"):
            failures.add(where, "a body was sent but the document gives this response no content")
        return op
    if media not in content:
        failures.add(where, f"content type '{media}' is not documented (documented: {', '.join(sorted(content))})")
        return op
    # Headers only some media types of a response carry (Content-Disposition with CSV).
    for name in content[media].get("x-required-headers", []):
        if name.lower() not in headers:
            failures.add(where, f"header {name} is missing ({media} requires it)")
    body = rec.get("body", "")
    if media == "application/json" or media.endswith("+json"):
        try:
            instance = json.loads(body)
        except ValueError as e:
            failures.add(where, f"the body is not JSON ({e}): {body[:200]!r}")
            return op
    else:
        instance = body
    for e in schema_errors(doc, content[media]["schema"], instance):
        failures.add(where, f"{media} body {e}")
    if op is not None and 200 <= rec["status"] < 300:
        check_query(doc, op, query, where, failures)
    return op


def check_records(doc, records, failures, partial):
    covered = set()
    checked = 0
    for rec in records:
        if rec["path"] in doc["paths"] and rec["method"].lower() in doc["paths"][rec["path"]]:
            covered.add((rec["path"], rec["method"].lower()))
        checked += 1
        check_record(doc, rec, failures)
    for path, method, _ in operations(doc):
        if not partial and (path, method) not in covered:
            failures.add(f"{method.upper()} {path}", "documented, but no request was sent to it")
    print(f"{checked} responses checked, {len(covered)} operations covered")


def main(argv):
    partial = "--partial" in argv
    argv = [a for a in argv if a != "--partial"]
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    failures = Failures()
    with open(argv[1], encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    check_document(doc, failures)
    if not failures.lines and len(argv) == 3:
        with open(argv[2], encoding="utf-8") as f:
            check_records(doc, json.load(f), failures, partial)
    for line in failures.lines:
        print(line)
    if failures.lines:
        print(f"{len(failures.lines)} failure(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
