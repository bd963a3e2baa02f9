"""Submit the study with every setting of the paper to a cluster: ``verdi run examples/paper_on_cluster.py``.

Assumes a computer `cluster` (SSH + SLURM) with the codes `vasp`, `glassceramic-train` and `glassceramic-lmp`, and a
POTCAR family `PBE.54` (see docs/cluster.md). The work chain runs in the daemon; follow it with
``verdi process list`` and write the report with ``aiida-glassceramic report PK`` when it has finished.
"""

from aiida import orm
from aiida.engine import submit

from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.glassceramic import GlassCeramicWorkChain

codes = {
    'reference': orm.load_code('vasp@cluster'),
    'train': orm.load_code('glassceramic-train@cluster'),
    'lammps': orm.load_code('glassceramic-lmp@cluster'),
}
lammps_options = {
    'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1, 'num_cores_per_mpiproc': 16},
    'max_wallclock_seconds': 24 * 3600,
}
builder = GlassCeramicWorkChain.get_builder_from_protocol(
    codes,
    orm.StructureData(ase=read_crystal('beta')),
    protocol='paper',
    overrides={'reference_data': {'vasp': {'potential_family': 'PBE.54'}, 'static': {'max_concurrent': 200}}},
    options={
        'reference': {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 32}, 'max_wallclock_seconds': 86400},
        'lammps': lammps_options,
    },
)
node = submit(builder)
print(f'submitted {node.process_label}<{node.pk}>')
