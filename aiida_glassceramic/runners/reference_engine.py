"""The command line of an embedded reference engine: NVT MD and single points with an ASE calculator.

Input: a JSON file (``--input``) and an extended XYZ file of structures (``--structures``). The JSON holds::

    {"task": "md" | "single_point",
     "calculator": {...settings of the engine's calculator...},
     "md": {"thermostat": "langevin" | "bussi" | "berendsen" | "nve", "temperature": 1000, "timestep": 2.0,
            "steps": 100, "interval": 20, "seed": 0, "friction": 0.01, "taut": 100.0,
            "temperature_end": 300}}

``md`` runs the first structure (the thermostat's temperature ramped linearly to ``temperature_end``, if given,
in steps of ``interval``) and writes ``trajectory.extxyz`` (every ``interval`` steps: positions, cell,
energy, forces, stress, velocities) and ``restart.npz`` (last written frame with velocities and the step reached);
when ``restart.npz`` is present at start (or ``--restart FILE`` is given) the run continues from it.
``single_point`` labels every structure and writes ``labels.npz`` (the arrays of a TrainingSet) with ``converged``
flags. Every run starts by writing ``engine.json`` (the engine, its model and version) and ends by writing
``status.json`` with its exit code.

Exit codes: 0 ok, 2 bad input (checked before anything runs; ``status.json`` and stderr carry one line naming the
field and the fix), 3 a calculation failed (md: the run stops there; single points: the structures that failed are
flagged).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ase
import ase.data
import ase.io
import numpy as np
from ase import units
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator

from ..training_set import TrainingSet

EXIT_OK, EXIT_BAD_INPUT, EXIT_FAILED = 0, 2, 3
TRAJECTORY, RESTART, LABELS, STATUS = 'trajectory.extxyz', 'restart.npz', 'labels.npz', 'status.json'
ENGINE = 'engine.json'  # the engine, its model and version: written first, so that a killed run has it too
THERMOSTATS = ('langevin', 'bussi', 'berendsen', 'nve')


class InputError(ValueError):
    """Input that the runner cannot use; the message names the field and the fix."""


@dataclass(frozen=True)
class Engine:
    """What differs between reference engines: the calculator, its settings and how one calculation fails."""

    program: str  # the console script, for messages
    max_atomic_number: int  # the heaviest element the engine has parameters for
    calculator_defaults: dict
    calculator_keys: tuple[str, ...]
    check_calculator: Callable[[dict], None]  # raises InputError for settings the calculator cannot use
    make_calculator: Callable[[dict], Calculator]
    describe: Callable[[dict], dict]  # provenance of the calculator: model, package version, ...
    failures: tuple[type[Exception], ...]  # errors of one calculation that flag it instead of ending the run
    failure: str  # what such an error means, for the status file


def weights_sha256(module) -> str:
    """SHA-256 over the names and values of the parameters and buffers of a torch ``module``, in name order: the
    fingerprint of a pretrained model's weights, independent of the file they came from."""
    import hashlib

    digest = hashlib.sha256()
    for key, tensor in sorted(module.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def pretrained_model_record(name: str, package: str, model: str, module) -> dict:
    """The provenance of a pretrained model (``engine.json``): engine name, model, package version, weights hash."""
    from importlib.metadata import version

    return {'name': name, 'model': model, 'package_version': version(package), 'weights_sha256': weights_sha256(module)}


def validate(config: dict, engine: Engine) -> dict:
    """Check the run description and fill defaults; raise :class:`InputError` naming the field."""
    if not isinstance(config, dict):
        raise InputError('input: must be a JSON object with `task`, `calculator` and (for md) `md`')
    task = config.get('task')
    if task not in ('md', 'single_point'):
        raise InputError(f"task `{task}`: use 'md' or 'single_point'")
    if not isinstance(config.get('calculator', {}), dict) or not isinstance(config.get('md', {}), dict):
        raise InputError('calculator, md: must be JSON objects of settings')
    calculator = {**engine.calculator_defaults, **config.get('calculator', {})}
    unknown = set(calculator) - set(engine.calculator_keys)
    if unknown:
        raise InputError(f'calculator: unknown keys {sorted(unknown)}; allowed {list(engine.calculator_keys)}')
    engine.check_calculator(calculator)
    result = {'task': task, 'calculator': calculator}
    if task == 'md':
        md = {
            'thermostat': 'langevin',
            'interval': 1,
            'seed': 0,
            'friction': 0.01,
            'taut': 100.0,
            **config.get('md', {}),
        }
        if md['thermostat'] not in THERMOSTATS:
            raise InputError(f'md.thermostat `{md["thermostat"]}`: use one of {THERMOSTATS}')
        md.setdefault('temperature_end', md.get('temperature'))
        for key, unit in (
            ('temperature', 'K'),
            ('temperature_end', 'K'),
            ('timestep', 'fs'),
            ('friction', '1/fs'),
            ('taut', 'fs'),
        ):
            check_positive(md, 'md', key, unit)
        if not isinstance(md['seed'], int) or isinstance(md['seed'], bool) or md['seed'] < 0:
            raise InputError(f'md.seed `{md["seed"]!r}`: must be a whole number >= 0')
        for key in ('steps', 'interval'):
            md[key] = check_positive(md, 'md', key, 'MD steps', whole=True)
        result['md'] = md
    return result


def check_positive(section: dict, name: str, key: str, unit: str, whole: bool = False) -> float | int:
    """``section[key]`` if it is a positive number (a whole one if ``whole``), else :class:`InputError` naming
    ``name.key``."""
    value = section.get(key)
    kind = 'a positive whole number' if whole else 'a positive number'
    if key not in section:
        raise InputError(f'{name}.{key}: missing; give {kind} ({unit})')
    number = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    if not number or (whole and not float(value).is_integer()):
        raise InputError(f'{name}.{key} `{value!r}`: must be {kind} ({unit})')
    return int(value) if whole else value


def check_elements(numbers, engine: Engine, where: str) -> None:
    """:class:`InputError` naming ``where`` if an atomic number lies beyond the engine's elements."""
    heaviest = int(np.max(numbers, initial=0))
    if heaviest > engine.max_atomic_number:
        symbol, last = ase.data.chemical_symbols[heaviest], ase.data.chemical_symbols[engine.max_atomic_number]
        raise InputError(
            f'{where}: element {symbol} (Z = {heaviest}) is beyond the elements of {engine.program} (up to '
            f'{last}, Z = {engine.max_atomic_number}); remove it or use another engine'
        )


def run_single_points(images: list[ase.Atoms], engine: Engine, parameters: dict, directory: Path) -> int:
    """Label every structure with a fresh calculator (results independent of the order); failed ones get
    zero placeholders and ``converged = False``."""
    labelled, converged = [], []
    for image in images:
        atoms = image.copy()
        atoms.pbc = True
        atoms.calc = engine.make_calculator(parameters)
        try:
            results = {
                'energy': atoms.get_potential_energy(),
                'forces': atoms.get_forces(),
                'stress': atoms.get_stress(),
            }
            converged.append(True)
        except engine.failures:
            results = {'energy': 0.0, 'forces': np.zeros((len(atoms), 3)), 'stress': np.zeros(6)}
            converged.append(False)
        atoms.calc = SinglePointCalculator(atoms, **results)
        labelled.append(atoms)
    arrays = TrainingSet.from_atoms(labelled).arrays()
    np.savez(directory / LABELS, converged=np.array(converged), **arrays)
    exit_code = EXIT_OK if all(converged) else EXIT_FAILED
    write_status(directory, exit_code, task='single_point', converged=converged)
    return exit_code


def target_temperature(md: dict, step: float) -> float:
    """The thermostat's temperature at ``step``: ``temperature`` ramped linearly to ``temperature_end``."""
    start, end = float(md['temperature']), float(md['temperature_end'])
    return start + (end - start) * step / int(md['steps'])


def make_dynamics(atoms: ase.Atoms, md: dict, step: int, chunk: int):
    """The ASE integrator of the thermostat for the ``chunk`` steps from ``step``, at the temperature of the chunk's
    middle; the random stream is seeded by seed and the step reached, so a continued run repeats the same steps."""
    from ase.md.bussi import Bussi
    from ase.md.langevin import Langevin
    from ase.md.nptberendsen import NVTBerendsen
    from ase.md.verlet import VelocityVerlet

    timestep = float(md['timestep']) * units.fs
    temperature = target_temperature(md, step + chunk / 2)
    rng = np.random.default_rng([int(md['seed']), step])
    if md['thermostat'] == 'langevin':
        return Langevin(atoms, timestep, temperature_K=temperature, friction=float(md['friction']) / units.fs, rng=rng)
    if md['thermostat'] == 'bussi':
        return Bussi(atoms, timestep, temperature_K=temperature, taut=float(md['taut']) * units.fs, rng=rng)
    if md['thermostat'] == 'berendsen':
        return NVTBerendsen(atoms, timestep, temperature_K=temperature, taut=float(md['taut']) * units.fs)
    return VelocityVerlet(atoms, timestep)


def run_md(atoms: ase.Atoms, engine: Engine, config: dict, directory: Path, restart: Path | None) -> int:
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
    atoms.calc = engine.make_calculator(config['calculator'])
    total, interval = int(md['steps']), int(md['interval'])
    trajectory_path = directory / TRAJECTORY
    try:
        if step == 0:
            write_frame(atoms, trajectory_path, step)
        while step < total:
            chunk = min(interval - step % interval, total - step)
            make_dynamics(atoms, md, step, chunk).run(chunk)
            step += chunk
            if step % interval == 0 or step == total:
                write_frame(atoms, trajectory_path, step)
                write_restart(atoms, directory / RESTART, step)
    except engine.failures as error:
        write_status(directory, EXIT_FAILED, task='md', steps=step, error=f'{engine.failure}: {error}')
        return EXIT_FAILED
    write_status(directory, EXIT_OK, task='md', steps=step)
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


def write_status(directory: Path, exit_code: int, **status) -> None:
    (directory / STATUS).write_text(json.dumps({'exit_code': exit_code, **status}))


def read_config(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f'input `{path}`: not a readable JSON file ({error})') from None


def read_structures(path: Path, engine: Engine) -> list[ase.Atoms]:
    try:
        images = ase.io.read(path, index=':')
    except Exception as error:
        raise InputError(f'structures `{path}`: not a readable structure file ({error})') from None
    if not images:
        raise InputError(f'structures `{path}`: holds no structure')
    for index, atoms in enumerate(images):
        if not all(atoms.pbc) or atoms.cell.rank != 3:
            raise InputError(f'structures[{index}]: must be periodic in three dimensions with a full cell')
        check_elements(atoms.numbers, engine, f'structures[{index}]')
    return images


def main(engine: Engine, argv: list[str] | None = None, description: str = '') -> int:
    """Parse the command line, run the task and return the exit code."""
    parser = argparse.ArgumentParser(prog=engine.program, description=description)
    parser.add_argument('--input', default='input.json', help='run description (JSON)')
    parser.add_argument('--structures', default='structures.extxyz', help='structures (extended XYZ)')
    parser.add_argument('--restart', default=None, help='continue MD from this restart.npz')
    parser.add_argument('--output-dir', default='.', help='where the outputs are written')
    args = parser.parse_args(argv)
    directory = Path(args.output_dir)
    try:
        config = validate(read_config(Path(args.input)), engine)
        images = read_structures(Path(args.structures), engine)
    except InputError as error:
        print(f'{engine.program}: bad input: {error}', file=sys.stderr)
        write_status(directory, EXIT_BAD_INPUT, error=str(error))
        return EXIT_BAD_INPUT
    (directory / ENGINE).write_text(json.dumps(engine.describe(config['calculator'])))
    if config['task'] == 'single_point':
        return run_single_points(images, engine, config['calculator'], directory)
    return run_md(images[0], engine, config, directory, Path(args.restart) if args.restart else None)
