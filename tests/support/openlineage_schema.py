"""Validate OpenLineage events against JSON schemas that ship in the installed packages.

The OpenLineage provider ships its facets' schemas (``airflow/providers/openlineage/facets/*.json``),
which refer to the core ``OpenLineage.json`` by URL; the ``openlineage-python`` client ships that
core spec as the classes it generates from it (``openlineage.client.generated.base``), not as a
file, and tests have no network. So the core schema is rebuilt here from those classes (their
attrs fields: names, which are required, types, the EventType enum), registered under the spec's
URL, and every facet whose ``_schemaURL`` names a schema we have (the provider's, ours) is
validated against it too.
"""

from __future__ import annotations

import enum
import json
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attr
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

CORE_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
CORE_CLASSES = ("RunEvent", "Run", "Job", "InputDataset", "OutputDataset", "RunFacet", "JobFacet", "BaseFacet")


def _type_schema(annotation: str, module: Any) -> dict[str, Any]:
    text = annotation.replace(" ", "")
    optional = text.endswith("|None")
    text = text.removesuffix("|None")
    if text == "str":
        schema: dict[str, Any] = {"type": "string"}
    elif text == "bool":
        schema = {"type": "boolean"}
    elif text.startswith("dict["):
        schema = {"type": "object"}
    elif text.startswith("list["):
        item = text[5:-1]
        schema = {"type": "array", "items": _type_schema(item, module) if hasattr(module, item) else {}}
    elif isinstance(getattr(module, text, None), type) and issubclass(getattr(module, text), enum.Enum):
        schema = {"enum": [member.value for member in getattr(module, text)]}
    elif attr.has(getattr(module, text, None)):
        schema = {"$ref": f"#/$defs/{text}"}
    else:
        schema = {}
    return {"anyOf": [schema, {"type": "null"}]} if optional and schema else schema


def core_schema() -> dict[str, Any]:
    """``OpenLineage.json`` as the client's generated classes state it."""
    from openlineage.client.generated import base

    definitions: dict[str, Any] = {}
    for name in CORE_CLASSES:
        cls = getattr(base, name)
        properties, required = {}, []
        for item in attr.fields(cls):
            key = item.name  # the JSON keeps the underscore of _producer and _schemaURL
            annotation = item.type if isinstance(item.type, str) else typing.get_type_hints(cls)[item.name]
            properties[key] = _type_schema(str(annotation), base)
            if item.default is attr.NOTHING and item.init:
                required.append(key)
        if name.endswith("Facet"):
            required += [key for key in ("_producer", "_schemaURL") if key not in required]
        if name == "RunEvent":  # defaults in the classes, required in the spec
            required += ["producer", "schemaURL", "eventType"]
        definitions[name] = {"type": "object", "properties": properties, "required": required}
    definitions["Run"]["properties"]["runId"] = {"type": "string", "format": "uuid",
                                                 "pattern": "^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": CORE_URL, "$defs": definitions}


def facet_schemas() -> Iterator[Path]:
    import airflow.providers.openlineage.facets as provider_facets

    import airflow_jobs_provider.lineage as ours

    yield from Path(provider_facets.__path__[0]).glob("*.json")
    yield from Path(ours.__path__[0]).glob("*.json")


class EventValidator:
    """``errors(event)``: what is wrong with one event, as readable lines (none when it is valid)."""

    def __init__(self) -> None:
        core = core_schema()
        resources = [(CORE_URL, Resource.from_contents(core))]
        self.facets: dict[str, str] = {}
        for path in facet_schemas():
            document = json.loads(path.read_text())
            uri = document.get("$id") or f"file://{path}"
            resources.append((uri, Resource.from_contents(document)))
            for name in document.get("$defs", {}):
                self.facets[name] = uri
        self.registry = Registry().with_resources(resources)
        self.core = core

    def _validate(self, schema: dict[str, Any], value: Any, where: str) -> list[str]:
        checker = Draft202012Validator.FORMAT_CHECKER
        validator = Draft202012Validator(schema, registry=self.registry, format_checker=checker)
        return [f"{where}: {error.message} at {list(error.absolute_path)}" for error in validator.iter_errors(value)]

    def errors(self, event: dict[str, Any]) -> list[str]:
        found = self._validate({"$ref": f"{CORE_URL}#/$defs/RunEvent"}, event, "event")
        facets = [("run", event.get("run", {}).get("facets") or {}), ("job", event.get("job", {}).get("facets") or {})]
        for where, group in facets:
            for key, facet in group.items():
                found += self._validate({"$ref": f"{CORE_URL}#/$defs/BaseFacet"}, facet, f"{where} facet {key}")
                name = re.sub(r".*#/\$defs/", "", str(facet.get("_schemaURL", "")))
                if name in self.facets:
                    schema = {"$ref": f"{self.facets[name]}#/$defs/{name}"}
                    found += self._validate(schema, facet, f"{where} facet {key}")
        return found
