"""The table of a work chain's protocol keys, generated from its settings model and protocol file, for the docs."""

from __future__ import annotations

import json

from .validation import keys_of

MISSING = '-'


def protocol_rows(work_chain) -> tuple[list[str], list[list[str]]]:
    """Header and rows (key, meaning, value in each protocol) of every key of ``work_chain``'s protocols."""
    names = list(work_chain.get_available_protocols())
    settings = {name: work_chain.get_protocol_inputs(name) for name in names}
    rows = []
    for path, description, section in keys_of(work_chain.protocol_model()):
        if section:  # its keys follow
            rows.append([f'**{path}**', description, *([''] * len(names))])
        else:
            rows.append([f'`{path}`', description, *(_value(settings[name], path) for name in names)])
    return ['key', 'meaning', *names], rows


def _value(settings: dict, path: str) -> str:
    value = settings
    for key in path.split('.'):
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return json.dumps(value)


def rst_list_table(work_chain) -> list[str]:
    """The rows of :func:`protocol_rows` as the lines of an RST ``list-table``."""
    header, rows = protocol_rows(work_chain)
    lines = [
        f'.. list-table:: Protocols of {work_chain.__name__} ({work_chain._protocol_file})',
        '   :header-rows: 1',
        '',
    ]
    for row in [header, *rows]:
        lines.append(f'   * - {row[0]}')
        lines.extend(f'     - {cell}' for cell in row[1:])
    return lines
