"""Load YAML data files into pydantic models, reporting every error with its key path."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from omr.errors import InvalidDefinitionError, InvalidFormError
from omr.safe_text import NOT_TEXT, read_office_text

ModelT = TypeVar("ModelT", bound=BaseModel)


class Strict(BaseModel):
    """Base for data-file models: unknown keys are errors, instances are frozen, a number
    is finite (a NaN coordinate would slip past every range check)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    """Parse a YAML file (UTF-8 or Windows-1254), turning syntax errors into ``error`` with
    the line number; a value YAML takes for an impossible date, or nesting too deep to
    read, is such an error too."""
    try:
        text = read_office_text(path)
    except OSError as exc:
        raise error(str(path), [("", f"cannot read file: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise error(str(path), [("", NOT_TEXT)]) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise error(str(path), [(where, f"not valid YAML: {exc}")]) from exc
    except ValueError as exc:  # yaml's dates: 2026-02-30
        why = f"not valid YAML: {exc} (a date that does not exist?)"
        raise error(str(path), [("", why)]) from exc
    except RecursionError:
        raise error(str(path), [("", "not valid YAML: nested too deeply to read")]) from None


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
