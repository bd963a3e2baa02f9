"""Melt-quench (NVT): heat, hold the melt, cool, hold the glass; outputs the glass and the thermo series."""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext

from ..engines import lammps_scripts as scripts
from .lammps_base import LammpsWorkChain, data_file_node


class MeltQuenchWorkChain(LammpsWorkChain):
    """NVT ``t_initial -> t_melt`` at ``heating_rate_k_per_ps``, hold ``melt_hold_ps``, cool to ``t_final`` at
    ``cooling_rate_k_per_ps``, hold ``final_hold_ps`` (paper: 300 -> 1500 K at 240 K/ps, 10 ps, 4 K/ps, 7.5 ps)."""

    PROTOCOL_SECTION = 'melt_quench'

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.run_melt_quench, cls.results)
        spec.output('structure', valid_type=orm.StructureData, help='The glass at the end of the final hold.')
        spec.output('thermo', valid_type=orm.ArrayData, help='step, time (ps), temp (K), pe (eV), press (bar), vol ...')
        spec.output('restart', valid_type=orm.SinglefileData, help='LAMMPS restart file of the final state.')

    @classmethod
    def validate_parameters(cls, parameters: dict) -> str | None:
        for key in ('t_initial', 't_melt', 't_final', 'heating_rate_k_per_ps', 'cooling_rate_k_per_ps'):
            if parameters[key] <= 0:
                return f'`parameters.{key}` = {parameters[key]}: must be positive'
        if parameters['t_melt'] < max(parameters['t_initial'], parameters['t_final']):
            return '`parameters.t_melt` must not be below t_initial and t_final'
        try:
            scripts.melt_quench_stages(parameters)
        except scripts.ScriptSettingsError as error:
            return f'`parameters`: {error}'
        return None

    def run_melt_quench(self):
        files = {'structure': data_file_node(self.inputs.structure, self.elements())}
        retrieve = [scripts.RESTART_OUTPUT, scripts.FINAL_DUMP]
        return ToContext(run=self.submit_run('melt_quench', files, retrieve, 'melt_quench'))

    def results(self):
        if exit_code := self.failed(self.ctx.run, 'melt_quench'):
            return exit_code
        self.out_many({name: self.ctx.run.outputs[name] for name in ('structure', 'thermo', 'restart')})
        return None
