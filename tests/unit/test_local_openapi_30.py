"""Swagger UI 4 (served offline from swagger-ui-bundle) reads OpenAPI 3.0: the merged 3.1 document is handed to it
converted, the 3.1 original staying at /openapi.json."""

from infra.local.local_routes import openapi_30


def test_31_schemas_become_their_30_forms() -> None:
    document = {
        "openapi": "3.1.0",
        "paths": {},
        "components": {
            "schemas": {
                "A": {
                    "properties": {
                        "name": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}], "title": "Name"},
                        "ref": {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]},
                        "both": {"type": ["integer", "null"], "exclusiveMinimum": 0},
                        "kind": {"const": "x", "examples": ["x"]},
                    }
                }
            }
        },
    }
    converted = openapi_30(document)
    assert converted["openapi"] == "3.0.3"
    properties = converted["components"]["schemas"]["A"]["properties"]
    assert properties["name"] == {"type": "string", "maxLength": 3, "title": "Name", "nullable": True}
    assert properties["ref"] == {"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": True}
    assert properties["both"] == {"type": "integer", "nullable": True, "minimum": 0, "exclusiveMinimum": True}
    assert properties["kind"] == {"enum": ["x"], "example": "x"}
    assert document["openapi"] == "3.1.0"  # the original is left alone
