"""Run a parser on a stored CalcJobNode whose retrieved folder holds given files, as the engine would."""

from __future__ import annotations

import io

from aiida import orm
from aiida.common.links import LinkType
from aiida.plugins import ParserFactory


def parse_files(
    computer: orm.Computer,
    plugin: str,
    parser: str,
    files: dict[str, bytes | str],
    inputs: dict[str, orm.Data] | None = None,
):
    """Outputs and parser node of ``parser`` on a ``plugin`` calculation with ``inputs`` and retrieved ``files``."""
    node = orm.CalcJobNode(computer=computer, process_type=f'aiida.calculations:{plugin}')
    node.set_option('resources', {'num_machines': 1, 'num_mpiprocs_per_machine': 1})
    node.set_option('parser_name', parser)
    for label, data in (inputs or {}).items():
        node.base.links.add_incoming(data.store(), link_type=LinkType.INPUT_CALC, link_label=label)
    node.store()
    retrieved = orm.FolderData()
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        retrieved.base.repository.put_object_from_filelike(io.BytesIO(data), name)
    retrieved.base.links.add_incoming(node, link_type=LinkType.CREATE, link_label='retrieved')
    retrieved.store()
    return ParserFactory(parser).parse_from_node(node)
