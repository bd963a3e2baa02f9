"""Inputs of aiida-vasp's ``vasp.vasp`` work chain for AIMD and static points, and reading its outputs back.

The INCAR, k-point meshes and potentials come from the ``vasp`` section of a reference-data protocol
(``protocols/reference_data.yaml``); the meshes are keyed by the atoms of the pristine cell (32 or 64).
An AIMD continues from the CONTCAR (positions and velocities) of the run it restarts.
"""

from __future__ import annotations

import ase
import numpy as np
from aiida import orm
from ase import units

from ..potentials.dataset import TrainingSet

KBAR_TO_EV_PER_A3 = 0.1 * units.GPa
AIMD_PARSER_SETTINGS = {'include_node': ['trajectory'], 'check_ionic_convergence': False}
CONTINUE_FROM_CONTCAR = 'cp CONTCAR POSCAR'


class VaspInputError(ValueError):
    """VASP settings that cannot work; the message names the setting and the fix."""


def kpoints_mesh(table: dict, cell_size: int) -> list[int]:
    """The k-point mesh of a cell size from a ``{natoms: [n1, n2, n3]}`` table (keys int or str)."""
    meshes = {int(key): value for key, value in table.items()}
    if cell_size not in meshes:
        raise VaspInputError(f'kpoints: no mesh for {cell_size}-atom cells; add `{cell_size}: [n1, n2, n3]`')
    return [int(n) for n in meshes[cell_size]]


def check_potential_family(family: str, mapping: dict, elements: set[str]) -> None:
    """Raise :class:`VaspInputError` if the POTCAR family is not uploaded or lacks an element of ``elements``."""
    from aiida_vasp.data.potcar import PotcarData

    missing = sorted(elements - set(mapping))
    if missing:
        raise VaspInputError(f'potential_mapping: no POTCAR chosen for {missing}; add e.g. {{"{missing[0]}": ...}}')
    if not family or PotcarData.get_potcar_group(family) is None:
        raise VaspInputError(
            f'potential_family `{family}`: no such POTCAR family in this profile; upload it with '
            '`aiida-vasp potcar uploadfamily --path ... --name ...` or choose an uploaded one'
        )
    try:
        PotcarData.get_potcars_dict(sorted(elements), family, mapping={e: mapping[e] for e in elements})
    except Exception as error:
        raise VaspInputError(
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
    temperature: float,
    steps: int,
    options: dict,
    restart_folder: orm.RemoteData | None = None,
) -> dict:
    """Inputs of ``vasp.vasp`` for an NVT AIMD of ``steps`` steps at ``temperature``.

    With ``restart_folder``, the run starts from that folder's CONTCAR (positions and velocities); ``structure``
    should then be its last structure (kept for provenance). The work chain makes one attempt (``max_iterations
    = 1``): restarts are decided by the reference-data work chain, which keeps the velocities.
    """
    incar = {**vasp['aimd']['incar'], 'tebeg': float(temperature), 'teend': float(temperature), 'nsw': int(steps)}
    mesh = kpoints_mesh(vasp['aimd']['kpoints'], cell_size)
    inputs = _common(code, structure, vasp, incar, mesh=mesh, options=options)
    settings = {'parser_settings': AIMD_PARSER_SETTINGS}
    if restart_folder is not None:
        settings['ADDITIONAL_REMOTE_COPY_LIST'] = ['CONTCAR']
        inputs['restart_folder'] = restart_folder
        prepend = inputs['calc']['metadata']['options'].get('prepend_text', '')
        inputs['calc']['metadata']['options']['prepend_text'] = f'{prepend}\n{CONTINUE_FROM_CONTCAR}'.strip()
    inputs['settings'] = orm.Dict(settings)
    inputs['max_iterations'] = orm.Int(1)
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
        raise VaspInputError(f'misc.forces: shape {forces.shape}, expected ({len(atoms)}, 3)')
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
