"""Vibrational density of states: NVT at low temperature with velocities dumped -> VDOS per species group and band
centres (the velocity dump stays a file, the run's ``velocities`` output, and streams through the analysis)."""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext

from ..engines import lammps_scripts as scripts
from .analysis_functions import compute_vdos
from .lammps_base import LammpsWorkChain, check_positive, data_file_node


class VdosWorkChain(LammpsWorkChain):
    """NVT at ``temperature`` for ``time_ps`` with velocities every ``dump_interval_fs``; VDOS of Li and of P+S by
    Welch segments of ``segment_frames`` frames (paper: 100 K, 1 ns)."""

    PROTOCOL_SECTION = 'vdos'
    MANY_STRUCTURES = True

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.run_md, cls.analyse)
        spec.output_namespace(
            'vdos', valid_type=orm.ArrayData, dynamic=True, help='frequency and VDOS per species group.'
        )
        spec.output_namespace(
            'band_centres', valid_type=orm.Dict, dynamic=True, help='Band centre per group (THz, meV).'
        )

    @classmethod
    def validate_parameters(cls, parameters: dict) -> str | None:
        if error := check_positive([parameters['temperature']], 'parameters.temperature'):
            return error
        try:
            scripts.steps_of(parameters['time_ps'], parameters['timestep_fs'], 'time_ps')
            scripts.steps_of(parameters['dump_interval_fs'] / 1000.0, parameters['timestep_fs'], 'dump_interval_fs')
        except scripts.ScriptSettingsError as error:
            return f'`parameters`: {error}'
        return None

    def run_md(self):
        runs = {}
        for key, structure in self.inputs.structures.items():
            files = {'structure': data_file_node(structure, self.elements())}
            runs[key] = self.submit_run('vdos', files, [scripts.VELOCITY_DUMP], f'md_{key}')
        return ToContext(**runs)

    def analyse(self):
        settings = self.inputs.parameters.get_dict()
        analysis = orm.Dict(
            {'frame_interval_ps': settings['dump_interval_fs'] / 1000.0, 'segment_frames': settings['segment_frames']}
        )
        for key in self.inputs.structures:
            node = self.ctx[key]
            if exit_code := self.failed(node, key):
                return exit_code
            outputs = compute_vdos(node.outputs.velocities, analysis)
            self.out(f'vdos.{key}', outputs['vdos'])
            self.out(f'band_centres.{key}', outputs['band_centre'])
        return None
