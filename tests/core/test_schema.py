"""Handler schemas: a small JSON-Schema subset, checked where the handler is written."""

import pytest

import apigw_ws
from apigw_ws.schema import problems


@pytest.mark.parametrize(
    "schema",
    [
        [],
        {"type": "text"},
        {"pattern": "^a"},
        {"minLength": -1},
        {"maximum": "9"},
        {"enum": []},
        {"properties": {"a": {"type": "strin"}}},
        {"required": "a"},
        {"items": {"format": "date"}},
    ],
)
def test_an_unsupported_or_malformed_schema_fails_at_the_decorator(schema):
    with pytest.raises(apigw_ws.ConfigurationError):
        apigw_ws.handler(schema=schema)(lambda ctx: None)


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [
        ({"type": "string"}, 1, ["body must be of type string"]),
        ({"type": "integer"}, True, ["body must be of type integer"]),
        ({"type": "integer"}, 2.0, []),
        ({"type": "number", "minimum": 1}, 0, ["body is less than 1"]),
        ({"type": "string", "maxLength": 2}, "abc", ["body is longer than 2"]),
        ({"enum": [1, "a"]}, True, ["body must be one of [1, 'a']"]),
        ({"type": "array", "items": {"type": "null"}}, [None, 0], ["body[1] must be of type null"]),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "b"]},
            {"a": 1},
            ["body.b is required", "body.a must be of type string"],
        ),
        ({"type": "object", "properties": {"a": {"type": "string"}}}, {"z": 1}, []),
    ],
)
def test_problems_name_what_is_wrong_and_where(schema, value, expected):
    assert problems(schema, value) == expected
