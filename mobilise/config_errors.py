"""One renderer for configuration errors: a pydantic ``ValidationError`` as one problem per line, naming the key
path a person must fix (``mapping.eventDate.colum``, ``metadata.creators[0].email``), what is wrong, and for an
unknown key the closest allowed key (``did you mean 'column'?``) or the keys allowed there.

Used by the dataset config loader (:func:`mobilise.settings.load_config`, which adds the YAML file and line of
each key) and by :func:`mobilise.metadata.load_metadata` (metadata given as a plain mapping).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic import AliasChoices, BaseModel, ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a config: ``loc`` the keys from the root (list positions as ints), ``message`` why."""

    loc: tuple
    message: str

    def where(self, root: str = "") -> str:
        """The key path as a person writes it: ``metadata.creators[0].email``; ``(top level)`` for the root."""
        text = root
        for key in self.loc:
            text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
        return text or "(top level)"


def _is_key(part: Any) -> bool:
    """pydantic adds model names, union branches ('function-after[…]', 'list[str]') and '[key]' to an error's
    location; only the config's own keys and list positions remain."""
    return isinstance(part, int) or not ("[" in part or part.startswith("function-"))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is Annotated:
        return _model_in(get_args(annotation)[0])
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _field(model: type[BaseModel], key: str):
    field = model.model_fields.get(key)
    if field is None:  # a key given by one of its aliases
        field = next((f for f in model.model_fields.values() if isinstance(f.validation_alias, AliasChoices)
                      and key in f.validation_alias.choices), None)
    return field


def allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys of the model found at ``loc`` below ``model`` (through nested models, lists and dict values);
    empty when no model sits there."""
    annotation: Any = model
    for key in loc:
        if get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
            continue
        if isinstance(key, int):
            arguments = [a for a in get_args(annotation) if get_origin(a) is list or _model_in(a) is not None]
            annotation = get_args(arguments[0])[0] if arguments and get_origin(arguments[0]) is list else annotation
            continue
        owner = _model_in(annotation)
        field = _field(owner, str(key)) if owner is not None else None
        if field is None:
            return []
        annotation = field.annotation
    if get_origin(annotation) is dict:
        return []
    owner = _model_in(annotation)
    return list(owner.model_fields) if owner is not None else []


def problems(error: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Every problem of ``error`` (raised validating ``model``), in pydantic's order, each once."""
    found: list[Problem] = []
    for detail in error.errors(include_url=False):
        loc = tuple(part for part in detail["loc"] if _is_key(part))
        kind = detail["type"]
        if kind == "extra_forbidden":
            allowed = allowed_keys(model, loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1) if loc else []
            message = "unknown key" + (f" (did you mean '{hint[0]}'?)" if hint else
                                       f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif kind == "missing":
            message = "required key is missing"
        elif kind == "too_short" and isinstance(detail.get("input"), list):
            message = f"needs at least {detail['ctx'].get('min_length', 1)} entry"
        elif kind == "value_error":
            message = str(detail["ctx"]["error"])
        else:
            message = detail["msg"]
        problem = Problem(loc, message)
        if problem not in found:  # a union can report the same problem once per branch
            found.append(problem)
    return found


def yaml_problem(path: object, error: Exception, text: str = "") -> str:
    """One line a person can act on for a YAML syntax error from ruamel.yaml: ``FILE:LINE:COLUMN: what``; for a
    duplicate key, the line that first gives it (found in `text`, the file's content). ruamel's own text spans
    eight lines and ends with a link to its API. Errors without a position keep ruamel's text."""
    from ruamel.yaml.constructor import DuplicateKeyError

    mark = getattr(error, "problem_mark", None)
    if mark is None:
        return f"{path}: not valid YAML: {error}"
    where = f"{path}:{mark.line + 1}:{mark.column + 1}"
    if isinstance(error, DuplicateKeyError):
        key = str(error.problem).split('"')[1] if '"' in str(error.problem) else "?"
        start = getattr(error.context_mark, "line", 0)
        lines = text.splitlines()[start:mark.line]
        first = next((start + n + 1 for n, line in enumerate(lines)
                      if line[mark.column:].startswith((f"{key}:", f'"{key}":', f"'{key}':"))
                      and not line[:mark.column].replace("-", " ").strip()), None)
        earlier = f" (first at line {first})" if first else ""
        return f"{where}: the key '{key}' is given twice in the same mapping{earlier}: keep one"
    problem = error.problem or "not valid YAML"
    context = f" ({error.context})" if getattr(error, "context", None) else ""
    return f"{where}: not valid YAML: {problem}{context}"
