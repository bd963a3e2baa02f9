"""VASP as a reference engine: inputs of aiida-vasp's work chains for AIMD and static points, and their labels.

The INCAR, k-point meshes and potentials come from the ``vasp`` section of a reference-data protocol
(``protocols/reference_data.yaml``); the meshes are keyed by the atoms of the pristine cell (32 or 64).
The AIMD runs through :class:`..workflows.vasp_aimd.VaspAimdWorkChain`, which continues a killed run from its
CONTCAR (positions and velocities); static points through ``vasp.vasp`` and its handlers.
"""

from __future__ import annotations

import ase
import numpy as np
from aiida import orm
from aiida.engine import calcfunction
from aiida.plugins import WorkflowFactory
from ase import units

from ..data.training_set import TrainingSetData
from ..training_set import TrainingSet
from ..workflows.vasp_aimd import VaspAimdWorkChain
from .reference_engine import EngineInputError, ReferenceEngine, left_out, max_iterations

KBAR_TO_EV_PER_A3 = 0.1 * units.GPa
AIMD_PARSER_SETTINGS = {'include_node': ['trajectory'], 'check_ionic_convergence': False}


def kpoints_mesh(table: dict, cell_size: int) -> list[int]:
    """The k-point mesh of a cell size from a ``{natoms: [n1, n2, n3]}`` table (keys int or str)."""
    meshes = {int(key): value for key, value in table.items()}
    if cell_size not in meshes:
        raise EngineInputError(f'kpoints: no mesh for {cell_size}-atom cells; add `{cell_size}: [n1, n2, n3]`')
    return [int(n) for n in meshes[cell_size]]


def check_potential_family(family: str, mapping: dict, elements: set[str]) -> None:
    """Raise :class:`EngineInputError` if the POTCAR family is not uploaded or lacks an element of ``elements``."""
    from aiida_vasp.data.potcar import PotcarData

    missing = sorted(elements - set(mapping))
    if missing:
        raise EngineInputError(f'potential_mapping: no POTCAR chosen for {missing}; add e.g. {{"{missing[0]}": ...}}')
    if not family or PotcarData.get_potcar_group(family) is None:
        raise EngineInputError(
            f'potential_family `{family}`: no such POTCAR family in this profile; upload it with '
            '`aiida-vasp potcar uploadfamily --path ... --name ...` or choose an uploaded one'
        )
    try:
        PotcarData.get_potcars_dict(sorted(elements), family, mapping={e: mapping[e] for e in elements})
    except Exception as error:
        raise EngineInputError(
            f'potential_family `{family}`: lacks {sorted(elements)} with {mapping} ({error})'
        ) from None


def _mesh(structure: orm.StructureData, mesh: list[int]) -> orm.KpointsData:
    kpoints = orm.KpointsData()
    kpoints.set_cell_from_structure(structure)
    kpoints.set_kpoints_mesh(mesh)
    return kpoints


def _common(code, structure, vasp: dict, incar: dict, *, mesh: list[int], options: dict) -> dict:
    symbols = {kind.symbol for kind in structure.kinds}
    return {
        'code': code,
        'structure': structure,
        'parameters': orm.Dict({'incar': incar}),
        'kpoints': _mesh(structure, mesh),
        'potential_family': orm.Str(vasp['potential_family']),
        'potential_mapping': orm.Dict({e: vasp['potential_mapping'][e] for e in sorted(symbols)}),
        'calc': {'metadata': {'options': dict(options)}},
    }


def aimd_inputs(  # noqa: PLR0917
    code: orm.AbstractCode,
    structure: orm.StructureData,
    vasp: dict,
    cell_size: int,
    temperatures: tuple[float, float],
    steps: int,
    options: dict,
) -> dict:
    """Inputs of ``vasp.vasp`` for an NVT AIMD of ``steps`` steps from ``temperatures[0]`` to ``temperatures[1]``
    (TEBEG, TEEND); the work folder is kept for a continuation."""
    start, end = temperatures
    incar = {**vasp['aimd']['incar'], 'tebeg': float(start), 'teend': float(end), 'nsw': int(steps)}
    mesh = kpoints_mesh(vasp['aimd']['kpoints'], cell_size)
    inputs = _common(code, structure, vasp, incar, mesh=mesh, options=options)
    inputs['settings'] = orm.Dict({'parser_settings': AIMD_PARSER_SETTINGS})
    inputs['clean_workdir'] = orm.Bool(False)
    return inputs


def static_inputs(code: orm.AbstractCode, structure: orm.StructureData, vasp: dict, cell_size: int, options: dict):
    """Inputs of ``vasp.vasp`` for one static point with the tight settings; vasp.vasp's handlers may retry."""
    mesh = kpoints_mesh(vasp['static']['kpoints'], cell_size)
    inputs = _common(code, structure, vasp, dict(vasp['static']['incar']), mesh=mesh, options=options)
    inputs['max_iterations'] = orm.Int(int(vasp.get('max_iterations', 3)))
    inputs['clean_workdir'] = orm.Bool(True)
    return inputs


def stress_to_voigt(stress_kbar: np.ndarray) -> np.ndarray:
    """VASP stress (3x3, kBar, pressure positive) -> ASE convention (Voigt xx yy zz yz xz xy, eV/A^3)."""
    stress = -np.asarray(stress_kbar, dtype=float) * KBAR_TO_EV_PER_A3
    return stress.reshape(9)[[0, 4, 8, 5, 2, 1]]


def static_labels(atoms: ase.Atoms, misc: dict) -> TrainingSet:
    """Energy (sigma -> 0), forces and stress of a static point from the ``misc`` output of vasp.vasp."""
    energy = misc['total_energies']['energy_extrapolated']
    forces = np.asarray(misc['forces'], dtype=float)
    if forces.shape != (len(atoms), 3):
        raise ValueError(f'misc.forces: shape {forces.shape}, expected ({len(atoms)}, 3)')
    return TrainingSet(
        numbers=atoms.numbers,
        positions=atoms.positions,
        forces=forces,
        natoms=[len(atoms)],
        cells=atoms.cell.array[None],
        energies=[energy],
        stresses=stress_to_voigt(misc['stress'])[None] if misc.get('stress') is not None else None,
    )


def trajectory_frames(trajectory: orm.TrajectoryData) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Symbols, Cartesian positions (F, N, 3) and cells (F, 3, 3) of a vasp.vasp trajectory (fractional in vasprun)."""
    positions, cells = trajectory.get_array('positions'), trajectory.get_array('cells')
    return list(trajectory.base.attributes.get('symbols')), np.einsum('fna,fab->fnb', positions, cells), cells


@calcfunction
def vasp_labels(**results: orm.Data) -> TrainingSetData:
    """Labels of static vasp.vasp points: inputs ``structure_<key>`` and ``misc_<key>`` for each point."""
    keys = sorted(name[len('structure_') :] for name in results if name.startswith('structure_'))
    sets = [static_labels(results[f'structure_{key}'].get_ase(), results[f'misc_{key}'].get_dict()) for key in keys]
    return TrainingSetData(TrainingSet.merge(*sets))


class VaspEngine(ReferenceEngine):
    """VASP through aiida-vasp: one structure per static job, labelled from its ``misc`` output."""

    name = 'vasp'
    code_plugins = ('vasp.vasp',)

    def check(self, parameters: dict, elements: set[str]) -> None:
        settings = parameters['vasp']
        try:
            check_potential_family(settings['potential_family'], settings['potential_mapping'], elements)
            for size in parameters['conditions']['cell_sizes']:
                kpoints_mesh(settings['aimd']['kpoints'], int(size))
                kpoints_mesh(settings['static']['kpoints'], int(size))
        except EngineInputError as error:
            raise EngineInputError(f'parameters.vasp.{error}') from None

    def aimd(self, code, structure, temperatures, cell_size, parameters, options):  # noqa: PLR0917
        steps = int(parameters['md']['steps'])
        inputs = aimd_inputs(code, structure, parameters['vasp'], cell_size, temperatures, steps, options)
        return VaspAimdWorkChain, {**inputs, 'max_iterations': max_iterations(parameters)}

    def static(self, code, structures, cell_size, parameters, options):
        return WorkflowFactory('vasp.vasp'), static_inputs(code, structures, parameters['vasp'], cell_size, options)

    def batch_size(self, parameters: dict) -> None:
        return None

    def labels(self, jobs):
        converged = [job for job in jobs if job.is_finished_ok]
        points = {}
        for index, job in enumerate(converged):
            points[f'structure_{index:06d}'], points[f'misc_{index:06d}'] = job.inputs.structure, job.outputs.misc
        excluded = [left_out(f'structure <{job.inputs.structure.pk}>', job) for job in jobs if not job.is_finished_ok]
        return [vasp_labels(**points)] if points else [], excluded


VASP = VaspEngine()
