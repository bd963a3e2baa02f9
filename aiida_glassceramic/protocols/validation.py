"""Typed settings: pydantic models validate a protocol's settings; their errors become one message naming the field.

Every section model forbids unknown keys; an unknown key is reported with the closest valid key of its section.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping

import pydantic
from pydantic import BaseModel, ConfigDict

from ..workflows.input_checks import InputValidationError


class Section(BaseModel):
    """A section of a protocol: unknown keys are errors, values are not converted between types (an int is a valid
    float; the text '600' is not a number)."""

    model_config = ConfigDict(extra='forbid', strict=True, frozen=True)


def validate(model: type[BaseModel], settings: Mapping, where: str = '') -> BaseModel:
    """``settings`` as ``model``; :class:`InputValidationError` naming the first wrong fields (under ``where``)."""
    try:
        return model.model_validate(dict(settings))
    except pydantic.ValidationError as error:
        raise InputValidationError(describe(error, model, where)) from None


def validate_field(model: type[BaseModel], name: str, value, where: str | None = None) -> None:
    """``value`` as the field ``name`` of ``model``; :class:`InputValidationError` naming ``where`` (default: name)."""
    field = model.model_fields[name]
    annotation = typing.Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    adapter = pydantic.TypeAdapter(annotation, config=model.model_config)
    try:
        adapter.validate_python(value)
    except pydantic.ValidationError as error:
        raise InputValidationError(describe(error, model, where or name)) from None


def describe(error: pydantic.ValidationError, model: type[BaseModel], where: str = '') -> str:
    """One line per wrong field (at most three): the field's dotted path and what to give instead."""
    lines = []
    for entry in error.errors(include_url=False)[:3]:
        location = [str(part) for part in entry['loc']]
        path = '.'.join([where, *location] if where else location) or where or 'settings'
        if entry['type'] == 'extra_forbidden':
            lines.append(f'`{path}`: unknown key; {suggestion(model, entry["loc"])}')
        elif entry['type'] == 'missing':
            lines.append(f'`{path}`: missing; give it (see the protocol files for its value)')
        else:
            given = entry.get('input')
            message = entry['msg'].removeprefix('Value error, ')
            shown = '' if isinstance(given, Mapping) else f' = {given!r}'
            lines.append(f'`{path}`{shown}: {message}')
    if error.error_count() > 3:
        lines.append(f'... and {error.error_count() - 3} more')
    return '; '.join(lines)


def suggestion(model: type[BaseModel], location: tuple) -> str:
    """'did you mean `x`?' with the closest key of the section holding ``location``, and the section's keys."""
    section = section_model(model, location[:-1])
    if section is None:
        return 'remove it'
    keys = list(section.model_fields)
    close = difflib.get_close_matches(str(location[-1]), keys, n=1, cutoff=0.5)
    hint = f'did you mean `{close[0]}`? ' if close else ''
    return f'{hint}valid keys here: {", ".join(keys)}'


def section_model(model: type[BaseModel], location: tuple) -> type[BaseModel] | None:
    """The model of the section at ``location`` inside ``model`` (None where the path leaves the models)."""
    current: typing.Any = model
    for part in location:
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        current = _model_of(current.model_fields[part].annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _model_of(annotation) -> typing.Any:
    """The model class inside ``Optional[Model]`` / ``Model | None``, else the annotation."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        models = [arg for arg in typing.get_args(annotation) if isinstance(arg, type) and issubclass(arg, BaseModel)]
        return models[0] if models else annotation
    return annotation


def keys_of(model: type[BaseModel], prefix: str = '') -> list[tuple[str, str, bool]]:
    """Every key of ``model`` and its sections as (dotted path, description, whether it is a section), in the order
    of declaration; a section without a description of its own takes its model's docstring."""
    rows = []
    for name, field in model.model_fields.items():
        path = f'{prefix}{name}'
        inner = _model_of(field.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            description = field.description or ' '.join((inner.__doc__ or '').split())
            rows.append((path, description, True))
            rows.extend(keys_of(inner, f'{path}.'))
        else:
            rows.append((path, field.description or '', False))
    return rows
