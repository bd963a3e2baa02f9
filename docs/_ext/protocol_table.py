"""``.. glassceramic-protocols:: module.WorkChain``: the table of the work chain's protocol keys and their values."""

from __future__ import annotations

import importlib

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from aiida_glassceramic.protocols.documentation import rst_list_table


class ProtocolTable(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module, name = self.arguments[0].rsplit('.', 1)
        work_chain = getattr(importlib.import_module(module), name)
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(StringList(rst_list_table(work_chain)), self.content_offset, container)
        return container.children


def setup(app):
    app.add_directive('glassceramic-protocols', ProtocolTable)
    return {'parallel_read_safe': True}
