"""Load YAML data files into pydantic models, reporting every error with its key path."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from omr.errors import InvalidDefinitionError, InvalidFormError

ModelT = TypeVar("ModelT", bound=BaseModel)


class Strict(BaseModel):
    """Base for data-file models: unknown keys are errors, instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def key_path(loc: tuple[str | int, ...]) -> str:
    """Render a pydantic error location as ``fields.course1.options[2]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def read_yaml(path: Path, error: type[InvalidDefinitionError] = InvalidFormError) -> object:
    """Parse a YAML file, turning syntax errors into ``error`` with the line number."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(str(path), [("", f"cannot read file: {exc.strerror or exc}")]) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise error(str(path), [(where, f"not valid YAML: {exc}")]) from exc


def validate(
    data: object,
    model: type[ModelT],
    source: str,
    error: type[InvalidDefinitionError],
) -> ModelT:
    """Validate ``data`` against ``model``; raise ``error`` listing every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [(key_path(e["loc"]), _clean_message(e)) for e in exc.errors()]
        raise error(source, problems) from None


def _clean_message(err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown key (check its spelling)"
    if err["type"] == "missing":
        return "required key is missing"
    if err["type"] == "value_error":
        return msg.removeprefix("Value error, ")
    return msg
