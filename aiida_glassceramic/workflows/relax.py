"""Energy minimisation of one or more structures (e.g. the anneal's snapshots), optionally with the cell."""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext

from ..engines import lammps_scripts as scripts
from .lammps_base import LammpsWorkChain, data_file_node


class RelaxWorkChain(LammpsWorkChain):
    """Minimise each structure of ``structures`` (conjugate gradient; ``cell``: null, iso, aniso or tri)."""

    PROTOCOL_SECTION = 'relax'
    MANY_STRUCTURES = True

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.run_relax, cls.results)
        spec.output_namespace('structures', valid_type=orm.StructureData, dynamic=True, help='Relaxed structures.')
        spec.output_namespace('thermo', valid_type=orm.ArrayData, dynamic=True, help='Minimisation thermo series.')

    @classmethod
    def validate_parameters(cls, parameters: dict) -> str | None:
        if parameters.get('cell') not in (None, False, 'iso', 'aniso', 'tri'):
            return f'`parameters.cell` = {parameters["cell"]!r}: use null (fixed cell), iso, aniso or tri'
        if parameters['maxiter'] < 1 or parameters['maxeval'] < 1:
            return '`parameters.maxiter` and `parameters.maxeval` must be positive'
        return None

    def run_relax(self):
        runs = {}
        for key, structure in self.inputs.structures.items():
            files = {'structure': data_file_node(structure, self.elements())}
            runs[key] = self.submit_run('relax', files, [scripts.FINAL_DUMP], f'relax_{key}')
        return ToContext(**{f'relax_{key}': node for key, node in runs.items()})

    def results(self):
        for key in self.inputs.structures:
            node = self.ctx[f'relax_{key}']
            if exit_code := self.failed(node, f'relax {key}'):
                return exit_code
            self.out(f'structures.{key}', node.outputs.structure)
            self.out(f'thermo.{key}', node.outputs.thermo)
        return None
