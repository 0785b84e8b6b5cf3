"""Backward-compatibility checker for OpenAPI 3.1 documents and event JSON Schemas.

``find_breaking_changes(old, new)``: what breaks a client built against ``old`` that calls a
server implementing ``new``. Breaking: a removed path (whatever its parameters are called) or
operation; a removed 2xx response or media type; in a 2xx body, a removed property, a property
no longer required, a type admitting more (e.g. now nullable), an enum that lost a value; in a
request (body or query/path/header parameter), a new or newly required property or parameter,
a body becoming required, a removed media type, a type or union variant no longer accepted, an
enum that lost a value (or a new enum), a tightened bound (``maximum``, ``maxLength``...), and a
removed body property when unknown ones are rejected (``additionalProperties: false``).
Not breaking: added optional things; removed error responses (clients handle any problem+json);
a removed query or header parameter (ignored by the server; a removed *filter* widens results,
so review it); a response enum or union gaining a value (clients tolerate unknown values);
``pattern``, ``format`` and texts (not compared).

``$ref``s are followed, ``allOf`` merged, ``anyOf``/``oneOf`` variants paired by component name
(``-Input``/``-Output`` ignored) or type, a lone non-null variant on each side always (``X |
None``, renamed components). Each pair of schemas is compared once per body or parameter, which
also ends recursion through cyclic ``$ref``s.

``find_breaking_event_changes(old, new)`` applies the response rules to an event ``data`` schema
(consumers only read it). A newly required property is fine.
"""

from __future__ import annotations

import json
import math
from typing import Any

Schema = dict[str, Any]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_LOOSEST = dict.fromkeys(_UPPER, math.inf) | dict.fromkeys(_LOWER, -math.inf)


def _ref(node: Any) -> str | None:
    ref = node.get("$ref") if isinstance(node, dict) else None
    return ref if isinstance(ref, str) else None


def _resolve(root: Schema, node: Any) -> Schema:
    """Follow local ``$ref``s (chains too); anything unresolvable becomes ``{}``."""
    for _ in range(32):
        if (ref := _ref(node)) is None or not ref.startswith("#"):
            return node if isinstance(node, dict) else {}
        node = root
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
    return {}


def _view(root: Schema, node: Any, depth: int = 0) -> Schema:
    schema = _resolve(root, node)
    if not isinstance(schema.get("allOf"), list) or depth > 32:
        return schema
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for sub in (_view(root, part, depth + 1) for part in schema["allOf"]):
        own = merged.get("properties") or {}
        props = {**own, **(sub.get("properties") or {}), **own}  # own ones first, and winning
        required = [*(merged.get("required") or []), *(sub.get("required") or [])]
        merged = {**sub, **merged, "properties": props, "required": required}
    return merged


def _variants(schema: Schema) -> list[Any] | None:
    found = [schema[k] for k in ("anyOf", "oneOf") if isinstance(schema.get(k), list)]
    return list(found[0]) if found else None


def _types(root: Schema, node: Any, refs: frozenset[str] = frozenset()) -> frozenset[str] | None:
    """The JSON types a schema admits, or None when it does not say."""
    schema = _view(root, node)
    if (variants := _variants(schema)) is not None:
        subs = [
            None if _ref(v) in refs else _types(root, v, refs | {_ref(v) or ""}) for v in variants
        ]
        return None if None in subs else frozenset(t for sub in subs for t in sub or ())
    implied = "object" if schema.get("properties") else "array" if "items" in schema else None
    declared = schema.get("type", implied)
    return frozenset([declared] if isinstance(declared, str) else declared or ()) or None


def _enum(schema: Schema) -> list[Any] | None:
    enum = [schema["const"]] if "const" in schema else schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


class _SchemaDiff:
    """Compares two schemas; ``request`` says whether clients write (True) or read them."""

    def __init__(self, old_root: Schema, new_root: Schema, *, request: bool) -> None:
        self.old_root, self.new_root, self.request = old_root, new_root, request
        self.seen: set[tuple[str, str]] = set()
        self.problems: list[str] = []

    def report(self, path: str, text: str) -> None:
        self.problems.append(f"'{path}': {text}" if path else text)

    def compare(self, old: Any, new: Any, path: str = "", *, check_types: bool = True) -> None:
        pair = (_ref(old) or f"id:{id(old)}", _ref(new) or f"id:{id(new)}")
        if pair in self.seen:
            return
        self.seen.add(pair)
        o, n = _view(self.old_root, old), _view(self.new_root, new)
        old_t, new_t = _types(self.old_root, old), _types(self.new_root, new)
        if check_types and old_t is not None and new_t is not None:
            lost = old_t - new_t - ({"integer"} if "number" in new_t else set())
            gained = new_t - old_t - ({"integer"} if "number" in old_t else set())
            if lost if self.request else gained:
                types = "|".join(sorted(old_t)), "|".join(sorted(new_t))
                self.report(path, "type changed from {} to {}".format(*types))
        old_e, new_e = _enum(o), _enum(n)
        if old_e is not None and new_e is not None:
            if removed := [v for v in old_e if v not in new_e]:
                self.report(path, f"enum values removed: {json.dumps(removed)[1:-1]}")
        elif old_e is None and new_e is not None and self.request:
            self.report(path, f"now restricted to enum values: {json.dumps(new_e)[1:-1]}")
        for key, loosest in _LOOSEST.items() if self.request else ():
            was, now = o.get(key, loosest), n.get(key, loosest)
            if now < was if loosest > 0 else now > was:
                self.report(path, f"{key} tightened from {was} to {now}")
        old_vs, new_vs = _variants(o), _variants(n)
        if old_vs is not None or new_vs is not None:
            self._variants(old_vs or [old], new_vs or [new], path)
            return
        self._properties(o, n, path)
        for key, suffix in (("items", "[]"), ("additionalProperties", "{}")):
            if isinstance(o.get(key), dict) and isinstance(n.get(key), dict):
                self.compare(o[key], n[key], path + suffix)

    def _key(self, root: Schema, variant: Any) -> str:
        if (ref := _ref(variant)) is not None:
            return ref.rsplit("/", 1)[-1].removesuffix("-Input").removesuffix("-Output")
        types = _types(root, variant)
        return "|".join(sorted(types)) if types else json.dumps(variant, sort_keys=True)

    def _variants(self, old: list[Any], new: list[Any], path: str) -> None:
        old_nn = [v for v in old if _resolve(self.old_root, v).get("type") != "null"]
        new_nn = [v for v in new if _resolve(self.new_root, v).get("type") != "null"]
        if len(old_nn) == 1 and len(new_nn) == 1:
            self.compare(old_nn[0], new_nn[0], path, check_types=False)
            return
        by_key = {self._key(self.new_root, v): v for v in new_nn}
        for variant in old_nn:
            if (key := self._key(self.old_root, variant)) in by_key:
                self.compare(variant, by_key[key], path, check_types=False)
            elif self.request:
                self.report(path, f"variant {key} no longer accepted")

    def _properties(self, o: Schema, n: Schema, path: str) -> None:
        old_p, new_p = o.get("properties") or {}, n.get("properties") or {}
        old_req, new_req = set(o.get("required") or []), set(n.get("required") or [])
        added = sorted((new_p.keys() - old_p.keys()) & new_req) if self.request else []
        for name in [*old_p, *added]:
            where = f"{path}.{name}" if path else name
            if name not in old_p:
                self.problems.append(f"new required property '{where}'")
            elif name not in new_p and not self.request:
                self.problems.append(f"property '{where}' removed")
            elif name not in new_p and n.get("additionalProperties") is False:
                self.problems.append(f"property '{where}' removed and now rejected")
            elif name in new_p:
                if self.request and name in new_req - old_req:
                    self.problems.append(f"property '{where}' became required")
                if not self.request and name in old_req - new_req:
                    self.problems.append(f"property '{where}' no longer required (may be absent)")
                self.compare(old_p[name], new_p[name], where)


def _diff(old_root: Schema, new_root: Schema, old: Any, new: Any, request: bool,
          prefix: str = "") -> list[str]:  # fmt: skip
    diff = _SchemaDiff(old_root, new_root, request=request)
    diff.compare(old, new)
    return [prefix + problem for problem in dict.fromkeys(diff.problems)]


def _parameters(doc: Schema, item: Schema, op: Schema) -> dict[tuple[str, str], Schema]:
    params = [_resolve(doc, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]]
    keys = [(str(p.get("in")), str(p.get("name"))) for p in params]
    return {
        (i, n.lower() if i == "header" else n): p for (i, n), p in zip(keys, params, strict=True)
    }


def _content(old_doc: Schema, new_doc: Schema, old: Any, new: Any, what: str) -> list[str]:
    problems, old, new = list[str](), _resolve(old_doc, old), _resolve(new_doc, new)
    new_content = new.get("content") or {}
    for media_type, media in (old.get("content") or {}).items():
        if media_type not in new_content:
            problems.append(f"{what}: content type '{media_type}' removed")
        elif "schema" in media and "schema" in new_content[media_type]:
            new_schema, request = new_content[media_type]["schema"], what == "request body"
            problems += _diff(old_doc, new_doc, media["schema"], new_schema, request, f"{what}: ")
    return problems


def _operation(old: Schema, new: Schema, path: str, old_item: Schema, new_item: Schema,
               method: str) -> list[str]:  # fmt: skip
    """Breaking changes of one operation kept from document ``old`` to ``new``."""
    old_op, new_op, problems = old_item[method], new_item[method], list[str]()
    old_params = _parameters(old, old_item, old_op)
    for key, param in _parameters(new, new_item, new_op).items():
        what, before = f"{key[0]} parameter '{key[1]}'", old_params.get(key)
        if key[0] != "path" and param.get("required") and not (before or {}).get("required"):
            problems.append(f"{what} " + ("became" if before else "added as") + " required")
        if before is not None and "schema" in before and "schema" in param:
            problems += _diff(old, new, before["schema"], param["schema"], True, what + ": ")
    old_body = _resolve(old, old_op.get("requestBody"))
    new_body = _resolve(new, new_op.get("requestBody"))
    if new_body.get("required") and not old_body.get("required"):
        problems.append("request body " + ("became" if old_body else "added as") + " required")
    if new_body:  # a body no longer read is ignored by the server
        problems += _content(old, new, old_body, new_body, "request body")
    new_responses = new_op.get("responses") or {}
    for status, response in (old_op.get("responses") or {}).items():
        if str(status).startswith("2") and status not in new_responses:
            problems.append(f"response {status} removed")
        elif str(status).startswith("2"):
            problems += _content(old, new, response, new_responses[status], f"response {status}")
    return [f"{method.upper()} {path}: {problem}" for problem in problems]


def _path_key(path: str) -> str:
    return "/".join("{}" if p[:1] == "{" and p[-1:] == "}" else p for p in path.split("/"))


def find_breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Backward-incompatible changes from OpenAPI document ``old`` to ``new``."""
    problems: list[str] = []
    new_paths = {_path_key(p): item for p, item in (new.get("paths") or {}).items()}
    for path, old_item in (old.get("paths") or {}).items():
        new_item = new_paths.get(_path_key(path))
        for method in (m for m in HTTP_METHODS if m in old_item):
            if new_item is None:
                problems.append(f"{method.upper()} {path}: path removed")
            elif method not in new_item:
                problems.append(f"{method.upper()} {path}: operation removed")
            else:
                problems += _operation(old, new, path, old_item, new_item, method)
    return list(dict.fromkeys(problems))


def find_breaking_event_changes(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Changes to an event's ``data`` JSON Schema that break its consumers."""
    return _diff(old_schema, new_schema, old_schema, new_schema, False)
