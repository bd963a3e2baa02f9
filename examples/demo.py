"""The whole study at demo scale, run in this process: ``verdi run examples/demo.py``.

Needs the codes made by ``aiida-glassceramic setup`` (glassceramic-chgnet, glassceramic-train, glassceramic-lmp
on the computer `localhost`). Prints the summary and writes the report to ``report-<PK>``.
"""

from aiida import orm
from aiida.engine import run_get_node

from aiida_glassceramic.report import write_report
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.glassceramic import GlassCeramicWorkChain

codes = {
    'reference': orm.load_code('glassceramic-chgnet@localhost'),
    'train': orm.load_code('glassceramic-train@localhost'),
    'lammps': orm.load_code('glassceramic-lmp@localhost'),
}
builder = GlassCeramicWorkChain.get_builder_from_protocol(
    codes, orm.StructureData(ase=read_crystal('beta')), protocol='demo'
)
results, node = run_get_node(builder)
print(f'{node.process_label}<{node.pk}>: exit status {node.exit_status}')
print(results['summary'].get_dict())
print('report:', write_report(node, f'report-{node.pk}'))
