"""``glassceramic-tblite``: GFN1-xTB (tblite) molecular dynamics and single points on periodic structures.

Input: a JSON file (``--input``) and an extended XYZ file of structures (``--structures``). The JSON holds::

    {"task": "md" | "single_point",
     "calculator": {"method": "GFN1-xTB", "accuracy": 1.0, "max_iterations": 250, "electronic_temperature": 300},
     "md": {"thermostat": "langevin" | "bussi" | "berendsen" | "nve", "temperature": 1000, "timestep": 2.0,
            "steps": 100, "interval": 20, "seed": 0, "friction": 0.01, "taut": 100.0}}

``md`` runs the first structure and writes ``trajectory.extxyz`` (every ``interval`` steps: positions, cell,
energy, forces, velocities) and ``restart.npz`` (last written frame with velocities and the step reached); when
``restart.npz`` is present at start (or ``--restart FILE`` is given) the run continues from it.
``single_point`` labels every structure and writes ``labels.npz`` (the arrays of a TrainingSet) with ``converged``
flags. Every run ends by writing ``status.json``.

Exit codes: 0 ok, 2 bad input (message on stderr names the field), 3 SCF not converged (md: the run stops there;
single points: some structures are not converged and are flagged).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import ase
import ase.io
import numpy as np
from ase import units
from ase.calculators.calculator import CalculationFailed
from ase.calculators.singlepoint import SinglePointCalculator

from ..potentials.dataset import TrainingSet

EXIT_OK, EXIT_BAD_INPUT, EXIT_SCF = 0, 2, 3
TRAJECTORY, RESTART, LABELS, STATUS = 'trajectory.extxyz', 'restart.npz', 'labels.npz', 'status.json'
THERMOSTATS = ('langevin', 'bussi', 'berendsen', 'nve')
CALCULATOR_KEYS = ('method', 'accuracy', 'max_iterations', 'electronic_temperature', 'mixer_damping')


class InputError(ValueError):
    """Input that the runner cannot use; the message names the field and the fix."""


def validate(config: dict) -> dict:
    """Check the run description and fill defaults; raise :class:`InputError` naming the field."""
    task = config.get('task')
    if task not in ('md', 'single_point'):
        raise InputError(f"task `{task}`: use 'md' or 'single_point'")
    calculator = {'method': 'GFN1-xTB', **config.get('calculator', {})}
    unknown = set(calculator) - set(CALCULATOR_KEYS)
    if unknown:
        raise InputError(f'calculator: unknown keys {sorted(unknown)}; allowed {list(CALCULATOR_KEYS)}')
    result = {'task': task, 'calculator': calculator}
    if task == 'md':
        md = {'thermostat': 'langevin', 'interval': 1, 'seed': 0, 'friction': 0.01, 'taut': 100.0, **config['md']}
        if md['thermostat'] not in THERMOSTATS:
            raise InputError(f'md.thermostat `{md["thermostat"]}`: use one of {THERMOSTATS}')
        for key in ('temperature', 'timestep'):
            if not float(md.get(key, 0)) > 0:
                raise InputError(f'md.{key} `{md.get(key)}`: must be a positive number (K, fs)')
        for key in ('steps', 'interval'):
            if int(md.get(key, 0)) < 1:
                raise InputError(f'md.{key} `{md.get(key)}`: must be a positive integer')
        result['md'] = md
    return result


def make_calculator(parameters: dict):
    from tblite.ase import TBLite

    return TBLite(verbosity=0, **parameters)


def run_single_points(images: list[ase.Atoms], calculator_parameters: dict, directory: Path) -> int:
    """Label every structure with a fresh calculator (results independent of the order); unconverged ones get
    zero placeholders and ``converged = False``."""
    labelled, converged = [], []
    for image in images:
        atoms = image.copy()
        atoms.pbc = True
        atoms.calc = make_calculator(calculator_parameters)
        try:
            results = {
                'energy': atoms.get_potential_energy(),
                'forces': atoms.get_forces(),
                'stress': atoms.get_stress(),
            }
            converged.append(True)
        except CalculationFailed:
            results = {'energy': 0.0, 'forces': np.zeros((len(atoms), 3)), 'stress': np.zeros(6)}
            converged.append(False)
        atoms.calc = SinglePointCalculator(atoms, **results)
        labelled.append(atoms)
    arrays = TrainingSet.from_atoms(labelled).arrays()
    np.savez(directory / LABELS, converged=np.array(converged), **arrays)
    write_status(directory, task='single_point', converged=converged)
    return EXIT_OK if all(converged) else EXIT_SCF


def make_dynamics(atoms: ase.Atoms, md: dict, step: int):
    """The ASE integrator of the thermostat; the random stream is seeded by seed and the step reached."""
    from ase.md.bussi import Bussi
    from ase.md.langevin import Langevin
    from ase.md.nptberendsen import NVTBerendsen
    from ase.md.verlet import VelocityVerlet

    timestep = float(md['timestep']) * units.fs
    temperature = float(md['temperature'])
    rng = np.random.default_rng([int(md['seed']), step])
    if md['thermostat'] == 'langevin':
        return Langevin(atoms, timestep, temperature_K=temperature, friction=float(md['friction']) / units.fs, rng=rng)
    if md['thermostat'] == 'bussi':
        return Bussi(atoms, timestep, temperature_K=temperature, taut=float(md['taut']) * units.fs, rng=rng)
    if md['thermostat'] == 'berendsen':
        return NVTBerendsen(atoms, timestep, temperature_K=temperature, taut=float(md['taut']) * units.fs)
    return VelocityVerlet(atoms, timestep)


def run_md(atoms: ase.Atoms, config: dict, directory: Path, restart: Path | None) -> int:
    """NVT (or NVE) MD; frames every ``interval`` steps, restart data written with each frame."""
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary

    md = config['md']
    atoms = atoms.copy()
    atoms.pbc = True
    step = 0
    restart = restart or (directory / RESTART if (directory / RESTART).is_file() else None)
    if restart is not None:
        atoms, step = read_restart(restart)
    else:
        rng = np.random.default_rng(int(md['seed']))
        MaxwellBoltzmannDistribution(atoms, temperature_K=float(md['temperature']), rng=rng)
        Stationary(atoms)
    atoms.calc = make_calculator(config['calculator'])
    total, interval = int(md['steps']), int(md['interval'])
    dynamics = make_dynamics(atoms, md, step)
    trajectory_path = directory / TRAJECTORY
    try:
        if step == 0:
            write_frame(atoms, trajectory_path, step)
        while step < total:
            chunk = min(interval - step % interval, total - step)
            dynamics.run(chunk)
            step += chunk
            if step % interval == 0 or step == total:
                write_frame(atoms, trajectory_path, step)
                write_restart(atoms, directory / RESTART, step)
    except CalculationFailed as error:
        write_status(directory, task='md', steps=step, error=f'SCF not converged: {error}')
        return EXIT_SCF
    write_status(directory, task='md', steps=step)
    return EXIT_OK


def write_frame(atoms: ase.Atoms, path: Path, step: int) -> None:
    """Append one labelled frame (energy, forces, stress, velocities) to the extended XYZ trajectory."""
    frame = atoms.copy()
    frame.set_velocities(atoms.get_velocities())
    frame.info = {'step': step, 'temperature': atoms.get_temperature()}
    frame.calc = SinglePointCalculator(
        frame, energy=atoms.get_potential_energy(), forces=atoms.get_forces(), stress=atoms.get_stress()
    )
    ase.io.write(path, frame, format='extxyz', append=True)


def write_restart(atoms: ase.Atoms, path: Path, step: int) -> None:
    """Positions, velocities, cell and the step reached, replaced atomically."""
    partial = path.with_suffix('.tmp.npz')
    np.savez(
        partial,
        numbers=atoms.numbers,
        positions=atoms.positions,
        velocities=atoms.get_velocities(),
        cell=atoms.cell.array,
        step=step,
    )
    partial.replace(path)


def read_restart(path: Path) -> tuple[ase.Atoms, int]:
    with np.load(path) as data:
        atoms = ase.Atoms(numbers=data['numbers'], positions=data['positions'], cell=data['cell'], pbc=True)
        atoms.set_velocities(data['velocities'])
        return atoms, int(data['step'])


def write_status(directory: Path, **status) -> None:
    (directory / STATUS).write_text(json.dumps(status))


def read_structures(path: Path) -> list[ase.Atoms]:
    try:
        images = ase.io.read(path, index=':')
    except Exception as error:
        raise InputError(f'structures `{path}`: not a readable structure file ({error})') from error
    if not images:
        raise InputError(f'structures `{path}`: holds no structure')
    for index, atoms in enumerate(images):
        if not all(atoms.pbc) or atoms.cell.rank != 3:
            raise InputError(f'structures[{index}]: must be periodic in three dimensions with a full cell')
    return images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='glassceramic-tblite', description=__doc__.splitlines()[0])
    parser.add_argument('--input', default='input.json', help='run description (JSON)')
    parser.add_argument('--structures', default='structures.extxyz', help='structures (extended XYZ)')
    parser.add_argument('--restart', default=None, help='continue MD from this restart.npz')
    parser.add_argument('--output-dir', default='.', help='where the outputs are written')
    args = parser.parse_args(argv)
    directory = Path(args.output_dir)
    try:
        config = validate(json.loads(Path(args.input).read_text()))
        images = read_structures(Path(args.structures))
    except (InputError, OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        print(f'glassceramic-tblite: bad input: {error}', file=sys.stderr)
        return EXIT_BAD_INPUT
    if config['task'] == 'single_point':
        return run_single_points(images, config['calculator'], directory)
    return run_md(images[0], config, directory, Path(args.restart) if args.restart else None)


def expected_frames(steps: int, interval: int) -> int:
    """Frames an uninterrupted run writes: the start, every ``interval`` steps, and the last step."""
    return 1 + steps // interval + (0 if steps % interval == 0 else 1)


if __name__ == '__main__':
    sys.exit(main())
