"""The embedded reference engines, tblite (GFN1-xTB) and the universal potentials CHGNet and SevenNet, for the
reference-data work chain.

Each runs the package's own runner through its restart work chain; the MD frames of a universal potential carry the
labels (its energies, forces and stresses), so it has no static stage.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiida import orm
from ase.data import atomic_numbers

from ..runners.reference_engine import InputError, check_elements, validate
from ..workflows.reference_engine_base import (
    ChgnetBaseWorkChain,
    ReferenceEngineBaseWorkChain,
    SevennetBaseWorkChain,
    TbliteBaseWorkChain,
)
from .reference_engine import (
    EngineInputError,
    ReferenceEngine,
    left_out,
    max_iterations,
    snapshot_stride,
    temperature_programs,
)

THERMOSTAT_KEYS = ('thermostat', 'friction')  # the runner's md settings given in parameters.<engine>


@dataclass(frozen=True)
class EmbeddedEngine(ReferenceEngine):
    """An engine run by :mod:`..runners.reference_engine`; ``parameters.<name>`` holds ``calculator``,
    ``thermostat`` and (Langevin) ``friction``."""

    name: str
    code_plugins: tuple[str, ...]
    workchain: type[ReferenceEngineBaseWorkChain]
    labels_from_md: bool = False

    def md_parameters(self, parameters: dict, temperatures: tuple[float, float]) -> dict:
        """The runner's description of the AIMD of one condition, from ``temperatures[0]`` to ``temperatures[1]``."""
        settings, md = parameters[self.name], parameters['md']
        thermostat = {key: settings[key] for key in THERMOSTAT_KEYS if key in settings}
        start, end = temperatures
        ramp = {} if end == start else {'temperature_end': float(end)}
        return {
            'task': 'md',
            'calculator': settings['calculator'],
            'md': {
                **thermostat,
                **ramp,
                'temperature': float(start),
                'timestep': float(md['timestep']),
                'steps': int(md['steps']),
                'interval': snapshot_stride(md),
                'seed': int(md.get('seed', 0)),
            },
        }

    def check(self, parameters: dict, elements: set[str]) -> None:
        if self.name not in parameters:
            raise EngineInputError(f'parameters.{self.name}: missing; give the {self.name} calculator and thermostat')
        runner = self.workchain._process_class.ENGINE
        try:
            for temperatures in temperature_programs(parameters['conditions']):
                validate(self.md_parameters(parameters, temperatures), runner)
        except InputError as error:
            field = str(error)
            if field.startswith(tuple(f'md.{key}' for key in THERMOSTAT_KEYS)):
                field = field.removeprefix('md.')
            raise EngineInputError(f'parameters.{self.name}.{field}') from None
        try:
            check_elements([atomic_numbers[element] for element in elements], runner, 'structures')
        except InputError as error:
            raise EngineInputError(str(error)) from None

    def _inputs(self, calc: dict, code, parameters: dict, options: dict) -> tuple[type, dict]:
        calc = {**calc, 'code': code, 'metadata': {'options': options}}
        return self.workchain, {'calc': calc, 'max_iterations': max_iterations(parameters)}

    def aimd(self, code, structure, temperatures, cell_size, parameters, options):  # noqa: PLR0917
        run = orm.Dict(self.md_parameters(parameters, temperatures))
        return self._inputs({'structure': structure, 'parameters': run}, code, parameters, options)

    def static(self, code, structures, cell_size, parameters, options):
        run = orm.Dict({'task': 'single_point', 'calculator': parameters[self.name]['calculator']})
        return self._inputs({'structures': structures, 'parameters': run}, code, parameters, options)

    def labels(self, jobs):
        """The labels of the converged single points; the others, and every point of a job that made no ``misc``
        (killed too often), are left out."""
        sets, excluded = [], []
        for job in jobs:
            batch = job.inputs.calc.structures
            if 'labels' in job.outputs:
                sets.append(job.outputs.labels)
            failed = job.outputs.misc['unconverged'] if 'misc' in job.outputs else range(len(batch.get_array('natoms')))
            excluded.extend(left_out(f'structure {index} of structure set <{batch.pk}>', job) for index in failed)
        return sets, excluded


TBLITE = EmbeddedEngine('tblite', ('glassceramic.tblite',), TbliteBaseWorkChain)
CHGNET = EmbeddedEngine('chgnet', ('glassceramic.chgnet',), ChgnetBaseWorkChain, labels_from_md=True)
SEVENNET = EmbeddedEngine('sevennet', ('glassceramic.sevennet',), SevennetBaseWorkChain, labels_from_md=True)
