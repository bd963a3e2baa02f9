"""Checks shared by the tests of the embedded reference engines (tblite, CHGNet, SevenNet)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import ase
import ase.io
import numpy as np
from aiida import orm
from aiida.engine import run_get_node
from ase import units
from ase.calculators.calculator import Calculator
from ase.md.verlet import VelocityVerlet

from aiida_glassceramic.calculations.reference_engine import ReferenceEngineCalculation, structure_set
from aiida_glassceramic.runners.reference_engine import RESTART
from aiida_glassceramic.structures import read_crystal

OPTIONS = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'withmpi': False}


def run_single_points(calculation: type[ReferenceEngineCalculation], code, images: list[ase.Atoms], calculator: dict):
    """Outputs and node of single points on ``images`` with the ``calculator`` settings."""
    parameters = orm.Dict({'task': 'single_point', 'calculator': calculator})
    return run_get_node(
        calculation, code=code, structures=structure_set(images), parameters=parameters, metadata={'options': OPTIONS}
    )


def kill_when_restart_written(program: str) -> str:
    """Prepend text of a job whose ``program`` is killed (SIGKILL, as by a wall-time limit) once its first restart
    data exist: a fault on an event, never on a time budget."""
    return (
        f'(until [ -e {RESTART} ]; do sleep 0.02; done\n'
        f" for pid in $(pgrep -f '{program} --input'); do\n"
        '   [ "$(readlink /proc/$pid/cwd)" = "$PWD" ] && kill -9 $pid\n'
        ' done) &'
    )


def assert_killed_md_continues(calculation: type[ReferenceEngineCalculation], code, calculator: Calculator) -> dict:
    """A run of the 16-atom gamma cell killed once it wrote its first restart data continues from them along the same
    NVE path as ASE's velocity Verlet with ``calculator`` from the restart point. Returns the killed run's outputs."""
    structure = orm.StructureData(ase=read_crystal('gamma'))
    md = {'thermostat': 'nve', 'temperature': 600, 'timestep': 1.0, 'steps': 100000, 'interval': 2}
    first, node = run_get_node(
        calculation,
        code=code,
        structure=structure,
        parameters=orm.Dict({'task': 'md', 'md': md}),
        metadata={
            'options': {**OPTIONS, 'prepend_text': kill_when_restart_written(Path(code.filepath_executable).name)}
        },
    )
    assert node.exit_status == calculation.exit_codes.ERROR_MD_INCOMPLETE.status, node.exit_message
    restart = first['restart']
    reached = int(restart.get_array('step'))
    assert 0 < reached < md['steps']
    assert first['trajectory'].get_stepids()[-1] == reached

    second, node = run_get_node(
        calculation,
        code=code,
        structure=structure,
        parameters=orm.Dict({'task': 'md', 'md': {**md, 'steps': reached + 4}}),
        restart=restart,
        metadata={'options': OPTIONS},
    )
    assert node.is_finished_ok, node.exit_message
    assert second['trajectory'].get_stepids().tolist() == [reached + 2, reached + 4]

    atoms = ase.Atoms(
        numbers=restart.get_array('numbers'),
        positions=restart.get_array('positions'),
        cell=restart.get_array('cell'),
        pbc=True,
    )
    atoms.set_velocities(restart.get_array('velocities'))
    atoms.calc = calculator
    VelocityVerlet(atoms, 1.0 * units.fs).run(4)
    np.testing.assert_allclose(second['trajectory'].get_positions()[-1], atoms.positions, atol=1e-6)
    return first


def assert_nve_conserves_energy(main: Callable[[list[str]], int], folder: Path, timestep: float, steps: int) -> None:
    """A short NVE run of the gamma cell by the runner ``main``: the total energy drifts by less than 5 % of the
    kinetic energy exchanged with the potential energy."""
    ase.io.write(folder / 'structures.extxyz', read_crystal('gamma'))
    config = {'task': 'md', 'md': {'thermostat': 'nve', 'temperature': 300, 'timestep': timestep, 'steps': steps}}
    (folder / 'input.json').write_text(json.dumps(config))
    arguments = ['--input', str(folder / 'input.json'), '--structures', str(folder / 'structures.extxyz')]
    assert main([*arguments, '--output-dir', str(folder)]) == 0
    frames = ase.io.read(folder / 'trajectory.extxyz', index=':')
    kinetic = np.array([frame.get_kinetic_energy() for frame in frames])
    total = np.array([frame.get_potential_energy() for frame in frames]) + kinetic
    assert len(frames) == steps + 1
    assert np.ptp(kinetic) > 0.02  # energy does flow between kinetic and potential (eV)
    assert np.ptp(total) < 0.05 * np.ptp(kinetic)
