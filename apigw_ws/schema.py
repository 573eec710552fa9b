"""Message schemas: the JSON-Schema subset a handler declares with ``@handler(schema=...)``.

A schema says what a handler's message body looks like. The built-in validator plugin
refuses bodies that do not match it (400, before the handler runs), and
``apigw_ws.testing.strategies.bodies_for`` generates bodies that do. Keywords:

- ``type``: ``"object"``, ``"array"``, ``"string"``, ``"integer"``, ``"number"``,
  ``"boolean"`` or ``"null"`` (one name, or a list of names);
- ``enum``: the allowed values;
- strings: ``minLength``, ``maxLength``;
- numbers: ``minimum``, ``maximum``;
- arrays: ``items`` (a schema), ``minItems``, ``maxItems``;
- objects: ``properties`` (name -> schema), ``required`` (names).

Keys that ``properties`` does not list are allowed (a message also carries its handler
and route keys). Anything else is a ``ConfigurationError`` where the handler is defined.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ConfigurationError

TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "items",
        "minItems",
        "maxItems",
        "properties",
        "required",
        "description",
    }
)


def types_of(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the type names ``schema`` allows (all of them when it names none)."""
    declared = schema.get("type", tuple(TYPES))
    return (declared,) if isinstance(declared, str) else tuple(declared)


def check_schema(schema: Any, where: str = "schema") -> Mapping[str, Any]:
    """Return ``schema`` if it uses only the supported subset correctly, else raise."""
    if not isinstance(schema, Mapping):
        raise ConfigurationError(f"{where} must be a dict, got {schema!r}")
    unknown = set(schema) - KEYWORDS
    if unknown:
        raise ConfigurationError(f"{where} has unsupported keywords {sorted(unknown)}")
    for name in types_of(schema):
        if name not in TYPES:
            raise ConfigurationError(f"{where} has unknown type {name!r}")
    for key in ("minLength", "maxLength", "minItems", "maxItems"):
        if key in schema and (not _is_int(schema[key]) or schema[key] < 0):
            raise ConfigurationError(f"{where}.{key} must be a non-negative int")
    for key in ("minimum", "maximum"):
        if key in schema and not _is_number(schema[key]):
            raise ConfigurationError(f"{where}.{key} must be a number")
    if "enum" in schema and not (isinstance(schema["enum"], list | tuple) and schema["enum"]):
        raise ConfigurationError(f"{where}.enum must be a non-empty list")
    if "items" in schema:
        check_schema(schema["items"], f"{where}.items")
    for name, sub in schema.get("properties", {}).items():
        check_schema(sub, f"{where}.properties.{name}")
    required = schema.get("required", [])
    if not isinstance(required, list | tuple) or not all(isinstance(r, str) for r in required):
        raise ConfigurationError(f"{where}.required must be a list of names")
    return schema


def problems(schema: Mapping[str, Any], value: Any, where: str = "body") -> list[str]:
    """Return what is wrong with ``value`` under ``schema``; an empty list if nothing."""
    if not any(_has_type(value, name) for name in types_of(schema)):
        return [f"{where} must be of type {' or '.join(types_of(schema))}"]
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        return [f"{where} must be one of {list(schema['enum'])!r}"]
    found = []
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(f"{where} is shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{where} is longer than {schema['maxLength']}")
    elif _is_number(value):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{where} is less than {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{where} is more than {schema['maximum']}")
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{where} has fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{where} has more than {schema['maxItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                found += problems(schema["items"], item, f"{where}[{i}]")
    elif isinstance(value, dict):
        found += [
            f"{where}.{key} is required" for key in schema.get("required", ()) if key not in value
        ]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += problems(sub, value[key], f"{where}.{key}")
    return found


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _has_type(value: Any, name: str) -> bool:
    if name == "integer":
        return _is_int(value) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return _is_number(value)
    return isinstance(value, TYPES[name]) and (name == "boolean" or not isinstance(value, bool))


def _same(value: Any, option: Any) -> bool:
    # JSON's true is not 1: compare the kind as well as the value.
    return value == option and isinstance(value, bool) == isinstance(option, bool)
