"""Protocol files (``paper``, ``fast``, ``demo``) and the one way to read them."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from importlib import resources

import yaml


class ProtocolError(ValueError):
    """An unknown protocol name or a malformed protocol file."""


def recursive_merge(base: Mapping, overrides: Mapping) -> dict:
    """``base`` updated by ``overrides``, nested mappings merged key by key."""
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = recursive_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def read_protocol_file(filename: str) -> dict:
    """The content of ``protocols/<filename>``."""
    return yaml.safe_load(resources.files(__name__).joinpath(filename).read_text())


def load_protocol(
    filename: str,
    protocol: str | None = None,
    overrides: Mapping | None = None,
    error: type[Exception] = ProtocolError,
) -> dict:
    """Settings of ``protocol`` (default: the file's ``default_protocol``) with ``overrides`` merged in.

    A protocol is merged over the file's ``default_inputs`` (if any) or over the protocol it is ``based_on``. An
    unknown protocol raises ``error`` (the caller's input-validation exception).
    """
    content = read_protocol_file(filename)
    protocols = content['protocols']
    name = protocol or content['default_protocol']
    if name not in protocols:
        raise error(f'protocol `{name}` of {filename}: unknown; choose one of {sorted(protocols)}')
    body = {key: value for key, value in protocols[name].items() if key not in ('description', 'based_on')}
    if 'based_on' in protocols[name]:
        base = load_protocol(filename, protocols[name]['based_on'])
    else:
        base = content.get('default_inputs', {})
    return recursive_merge(recursive_merge(base, body), overrides or {})
