"""Li diffusion: NVT per structure and temperature -> MSD -> D, Arrhenius barrier, Nernst-Einstein conductivity and
the Li displacement map. The trajectories stay files (the runs' ``trajectory`` outputs) and are read by streaming."""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext

from ..engines import lammps_scripts as scripts
from .analysis_functions import (
    compute_arrhenius_summary,
    compute_conductivity,
    compute_diffusion,
    compute_displacement_map,
)
from .lammps_base import LammpsWorkChain, check_positive, data_file_node, temperature_label


class DiffusionWorkChain(LammpsWorkChain):
    """For each structure and each of ``temperatures``: NVT ``time_ps`` with Li positions and image flags dumped every
    ``dump_interval_ps``; D from the MSD between ``fit_start_ps`` and ``fit_stop_ps`` (paper: 1 ns, 0.1-1 ns)."""

    PROTOCOL_SECTION = 'diffusion'
    MANY_STRUCTURES = True

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.outline(cls.run_md, cls.analyse)
        spec.output_namespace('summary', valid_type=orm.Dict, dynamic=True, help='Per structure: D(T), Ea, sigma.')
        spec.output_namespace('diffusion', valid_type=orm.Dict, dynamic=True, help='D per `<structure>_T<K>`.')
        spec.output_namespace('conductivity', valid_type=orm.Dict, dynamic=True, help='sigma at the run temperature.')
        spec.output_namespace('msd', valid_type=orm.ArrayData, dynamic=True, help='MSD per `<structure>_T<K>`.')
        spec.output_namespace(
            'trajectory', valid_type=orm.SinglefileData, dynamic=True, help='Li trajectory dump per `<structure>_T<K>`.'
        )
        spec.output_namespace(
            'displacement_map', valid_type=orm.ArrayData, dynamic=True, help='Li displacement map per run.'
        )
        spec.output_namespace('structure', valid_type=orm.StructureData, dynamic=True, help='Last frame per run.')

    @classmethod
    def validate_parameters(cls, parameters: dict) -> str | None:
        if error := check_positive(parameters.get('temperatures', []), 'parameters.temperatures'):
            return error
        if not 0 <= parameters['fit_start_ps'] < parameters['fit_stop_ps'] <= parameters['time_ps']:
            return '`parameters`: need 0 <= fit_start_ps < fit_stop_ps <= time_ps'
        if not parameters['dump_interval_ps'] <= parameters['displacement_window_ps'] <= parameters['time_ps']:
            return '`parameters.displacement_window_ps` must lie between dump_interval_ps and time_ps'
        try:
            scripts.steps_of(parameters['time_ps'], parameters['timestep_fs'], 'time_ps')
            scripts.steps_of(parameters['dump_interval_ps'], parameters['timestep_fs'], 'dump_interval_ps')
        except scripts.ScriptSettingsError as error:
            return f'`parameters`: {error}'
        return None

    def run_md(self):
        parameters = self.inputs.parameters.get_dict()
        runs = {}
        for key, structure in self.inputs.structures.items():
            files = {'structure': data_file_node(structure, self.elements())}
            for temperature in parameters['temperatures']:
                label = f'{key}_{temperature_label(temperature)}'
                retrieve = [scripts.TRAJECTORY_DUMP, scripts.FINAL_DUMP]
                runs[label] = self.submit_run('diffusion', files, retrieve, f'md_{label}', temperature=temperature)
        return ToContext(**runs)

    def analyse(self):
        settings = self.inputs.parameters.get_dict()
        interval = settings['dump_interval_ps']
        analysis = orm.Dict(
            {
                'frame_interval_ps': interval,
                'species': settings['species'],
                'fit_window_ps': [settings['fit_start_ps'], settings['fit_stop_ps']],
            }
        )
        mapping = orm.Dict(
            {
                'window_frames': round(settings['displacement_window_ps'] / interval),
                'bins': settings['displacement_bins'],
                'species': settings['species'],
            }
        )
        for key, structure in self.inputs.structures.items():
            series = {}
            for temperature in settings['temperatures']:
                label = f'{key}_{temperature_label(temperature)}'
                node = self.ctx[label]
                if exit_code := self.failed(node, label):
                    return exit_code
                trajectory = node.outputs.trajectory
                result = compute_diffusion(trajectory, analysis)
                conductivity = orm.Dict(
                    {
                        'temperature_K': temperature,
                        'species': settings['species'][0],
                        'haven_ratio': settings['haven_ratio'],
                    }
                )
                self.out(f'msd.{label}', result['msd'])
                self.out(f'trajectory.{label}', trajectory)
                self.out(f'structure.{label}', node.outputs.structure)
                self.out(f'diffusion.{label}', result['diffusion'])
                self.out(f'conductivity.{label}', compute_conductivity(structure, result['diffusion'], conductivity))
                self.out(f'displacement_map.{label}', compute_displacement_map(trajectory, mapping))
                series[temperature_label(temperature)] = result['diffusion']
            self.out(f'summary.{key}', compute_arrhenius_summary(structure, self.inputs.parameters, **series))
        return None
