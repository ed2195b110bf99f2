"""Rule files and catalogs checked against their pydantic models, with every problem
located (file, line, column, key path) instead of pydantic's exception."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from riskassess.errors import Problem
from riskassess.io.reader import Document
from riskassess.words import kind_of, spelt


def validate(model: type[BaseModel], doc: Document) -> tuple[Any, list[Problem]]:
    """Validate plain data against a model; located problems instead of exceptions."""
    try:
        return model.model_validate(doc.data), list(doc.problems)
    except ValidationError as exc:
        found = []
        for err in exc.errors(include_url=False):
            path = tuple(p for p in err["loc"] if isinstance(p, int) or _is_key(p))
            value = err.get("input")
            if err["type"] == "extra_forbidden":
                found.append(doc.problem(path, f"unknown key '{path[-1]}'", prefer_key=True))
            elif err["type"] == "missing":
                found.append(doc.problem(path[:-1], f"missing key '{path[-1]}'"))
            elif err["type"] in ("model_type", "model_attributes_type", "dict_type"):
                found.append(doc.problem(path, f"expected a mapping of keys, got {kind_of(value)}"))
            elif err["type"] == "list_type":
                found.append(doc.problem(path, f"expected a list, got {kind_of(value)}"))
            else:
                shown = "" if isinstance(value, (dict, list)) else f"'{spelt(value)}': "
                found.append(doc.problem(path, f"{shown}{err['msg']}"))
        # a value the reader already refused (a tag, an alias) needs no second message
        return None, list(doc.problems) + [p for p in found if p.path not in doc.voided]


def _is_key(part: Any) -> bool:
    # pydantic adds union-member tags such as 'str', 'function-after[...]' or
    # "literal['x']" to locations; real keys in rule files are plain identifiers.
    return isinstance(part, str) and part.replace("_", "").isalnum() and part not in {
        "str", "int", "bool", "float", "list", "dict", "date", "none"}
