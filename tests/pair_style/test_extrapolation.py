"""Extrapolation warnings: atoms with a symmetry function outside the training range, counted per run by the pair
style (on 1 and 2 ranks) and by the fix external driver, against a count from the features themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from aiida_glassceramic.potentials.extrapolation import NOT_COUNTED, read_extrapolation
from aiida_glassceramic.potentials.io import save_potential
from aiida_glassceramic.potentials.lammps_driver import Driver
from aiida_glassceramic.potentials.pair_style_file import pair_style_lines, write_pair_style_file

from .conftest import ELEMENTS, reference_features, scaled_model, test_descriptor
from .lammps_run import run_lmp, write_data
from .test_mpi import cell_64, processors

MD = 'velocity all create 600 4928459 loop geom\ntimestep 0.0005\nfix md all nve\nrun 20\nrun 10\n'
PAIR_STYLE = 'pair_style glassceramic\npair_coeff * * {potential} Li P S\ncompute ex all pair glassceramic\n'
FIX_EXTERNAL = (
    'pair_style zero 5.0\npair_coeff * *\nvariable nnp_potential string {potential}\n'
    'variable nnp_elements string "Li P S"\nfix nnp all external pf/callback 1 1\n'
    'fix_modify nnp energy yes virial yes\n'
)


def training_structures() -> list:
    """The structures whose features give the test potential its ranges: the 64-atom cell, rattled three times."""
    structures = []
    for seed in (11, 12, 13):
        atoms = cell_64()
        atoms.rattle(0.1, seed=seed)
        structures.append(atoms)
    return structures


def squeezed_pair(atoms):
    """``atoms`` with one Li moved 0.6 A towards its nearest S: a few atoms leave the training range, not all."""
    atoms = atoms.copy()
    lithium = next(index for index, symbol in enumerate(atoms.get_chemical_symbols()) if symbol == 'Li')
    sulfur = [index for index, symbol in enumerate(atoms.get_chemical_symbols()) if symbol == 'S']
    vectors = atoms.get_distances(lithium, sulfur, mic=True, vector=True)
    nearest = vectors[np.argmin(np.linalg.norm(vectors, axis=1))]
    atoms.positions[lithium] += 0.6 * nearest / np.linalg.norm(nearest)
    return atoms


def compressed(atoms, volume_fraction: float = 0.85):
    atoms = atoms.copy()
    atoms.set_cell(atoms.cell.array * volume_fraction ** (1 / 3), scale_atoms=True)
    return atoms


def brute_force_count(model, atoms) -> int:
    """Atoms with some feature below min - d or above max + d of their element, d = 1e-6 (max - min) + 1e-10."""
    features, types = reference_features(model, atoms.numbers, atoms.positions, atoms.cell.array)
    features, types = features.numpy(), types.numpy()
    low, high = model.feature_min.numpy()[types], model.feature_max.numpy()[types]
    margin = 1e-6 * (high - low) + 1e-10
    outside = (features < low - margin) | (features > high + margin)
    return int(outside.any(axis=1).sum())


@pytest.fixture(scope='module')
def ranged_potential(tmp_path_factory) -> tuple:
    """A test model whose feature ranges are the min and max over :func:`training_structures`, as a model file and
    a pair-style file."""
    model = scaled_model(test_descriptor('poly2'))
    features = [reference_features(model, a.numbers, a.positions, a.cell.array) for a in training_structures()]
    all_features = torch.cat([f for f, _ in features])
    all_types = torch.cat([t for _, t in features])
    with torch.no_grad():
        for index in range(len(ELEMENTS)):
            model.feature_min[index] = all_features[all_types == index].amin(0)
            model.feature_max[index] = all_features[all_types == index].amax(0)
    folder = tmp_path_factory.mktemp('ranged')
    return (
        model,
        save_potential(model, folder / 'ranged.pt'),
        write_pair_style_file(model, folder / 'ranged.glassceramic'),
    )


def lammps_script(potential_lines: str, body: str, thermo: str) -> str:
    return (
        'units metal\natom_style atomic\nboundary p p p\nread_data structure.data\n'
        f'{potential_lines}thermo_style custom step pe {thermo}\nthermo 1\n{body}'
    )


def pair_style_run(folder: Path, atoms, potential: Path, body: str = 'run 0\n', ranks: int = 1) -> str:
    """LAMMPS' output of ``body`` with the pair style, the thermo columns c_ex[1] c_ex[2] included."""
    folder.mkdir(parents=True, exist_ok=True)
    write_data(atoms, folder / 'structure.data', ELEMENTS)
    text = lammps_script(PAIR_STYLE.format(potential=potential), body, 'c_ex[1] c_ex[2]')
    completed = run_lmp(folder, text, ranks)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr
    assert processors(completed.stdout) == ranks
    return completed.stdout


def driver_run(folder: Path, atoms, potential: Path, body: str = 'run 0\n') -> str:
    """The log of ``body`` run by the fix external driver, the thermo columns f_nnp[1] f_nnp[2] included."""
    folder.mkdir(parents=True, exist_ok=True)
    write_data(atoms, folder / 'structure.data', ELEMENTS)
    text = lammps_script(FIX_EXTERNAL.format(potential=potential), body, 'f_nnp[1] f_nnp[2]')
    log = folder / 'log.lammps'
    with Driver(['-screen', 'none', '-log', str(log)]) as driver:
        driver.run_text(text.replace('structure.data', str(folder / 'structure.data')))
    return log.read_text()


def last_thermo_row(output: str) -> list[float]:
    rows = [line.split() for line in output.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    return [float(word) for word in rows[-1]]


def single(count: int) -> dict:
    """The counts of a run of one force evaluation with ``count`` atoms outside the range."""
    return {'atom_steps': count, 'steps': int(count > 0), 'max_atoms': count, 'first_step': 0 if count else None}


def test_training_structure_gives_no_warnings(ranged_potential, tmp_path):
    model, model_file, pair_file = ranged_potential
    atoms = training_structures()[1]
    assert brute_force_count(model, atoms) == 0
    model.compute(atoms.numbers, atoms.positions, atoms.cell.array)
    assert model.extrapolating_atoms == 0
    assert read_extrapolation(pair_style_run(tmp_path / 'pair', atoms, pair_file)) == [single(0)]
    assert read_extrapolation(driver_run(tmp_path / 'driver', atoms, model_file)) == [single(0)]


@pytest.mark.parametrize('distortion', [compressed, squeezed_pair])
def test_count_equals_the_features(distortion, ranged_potential, tmp_path):
    """Compressed by 15 % in volume, or one Li-S pair moved closer: the atoms counted by the pair style, the driver
    and the model are those with a feature outside the range."""
    model, model_file, pair_file = ranged_potential
    atoms = distortion(training_structures()[0])
    expected = brute_force_count(model, atoms)
    assert expected > 0
    if distortion is squeezed_pair:
        assert expected < len(atoms) // 2
    model.compute(atoms.numbers, atoms.positions, atoms.cell.array)
    assert model.extrapolating_atoms == expected
    output = pair_style_run(tmp_path / 'pair', atoms, pair_file)
    assert read_extrapolation(output) == [single(expected)]
    assert last_thermo_row(output)[2:] == [expected, expected]
    log = driver_run(tmp_path / 'driver', atoms, model_file)
    assert read_extrapolation(log) == [single(expected)]
    assert last_thermo_row(log)[2:] == [expected, expected]


def test_runs_on_one_and_two_ranks_and_through_the_driver(ranged_potential, tmp_path):
    """Two runs of NVE from a squeezed pair: one line per run, the same on 1 and 2 ranks and through the driver;
    the thermo column of the run's atom-steps ends at the printed count."""
    _, model_file, pair_file = ranged_potential
    atoms = squeezed_pair(training_structures()[0])
    outputs = [pair_style_run(tmp_path / f'{ranks}', atoms, pair_file, MD, ranks) for ranks in (1, 2)]
    log = driver_run(tmp_path / 'driver', atoms, model_file, MD)
    runs = read_extrapolation(outputs[0])
    assert len(runs) == 2 and runs[0]['atom_steps'] > runs[0]['steps'] > 0
    assert runs[0]['first_step'] == 0
    assert read_extrapolation(outputs[1]) == runs
    assert read_extrapolation(log) == runs
    assert last_thermo_row(outputs[1])[3] == runs[1]['atom_steps']
    assert last_thermo_row(log)[3] == runs[1]['atom_steps']


def test_potential_without_ranges_reports_no_counts(ranged_potential, tmp_path):
    """A pair-style file of format version 1 (before the ranges) and a model without ranges run as before and say
    that they count nothing."""
    _, _, pair_file = ranged_potential
    lines = pair_file.read_text().splitlines()
    old = [line for line in lines if not line.startswith(('minimum', 'maximum', 'feature_ranges'))]
    old = [line.replace('glassceramic_potential 2', 'glassceramic_potential 1') for line in old]
    (tmp_path / 'old.glassceramic').write_text('\n'.join(old) + '\n')
    output = pair_style_run(tmp_path / 'old', compressed(training_structures()[0]), tmp_path / 'old.glassceramic')
    assert read_extrapolation(output) is None
    assert f'{NOT_COUNTED} (potential file' in output
    unranged = scaled_model(test_descriptor('poly2'))
    assert not unranged.has_feature_ranges
    assert 'feature_ranges no' in pair_style_lines(unranged)
    assert not any(line.startswith('minimum') for line in pair_style_lines(unranged))
    log = driver_run(tmp_path / 'driver', training_structures()[0], save_potential(unranged, tmp_path / 'old.pt'))
    assert read_extrapolation(log) is None
    assert NOT_COUNTED in log


def test_runs_in_a_loop_through_the_driver(ranged_potential, tmp_path):
    """A script with ``jump`` stays whole: the driver still tells its runs apart, as the pair style does."""
    _, model_file, pair_file = ranged_potential
    atoms = squeezed_pair(training_structures()[0])
    loop = MD.replace('run 20\nrun 10\n', 'variable i loop 3\nlabel again\nrun 4\nnext i\njump SELF again\n')
    runs = read_extrapolation(pair_style_run(tmp_path / 'pair', atoms, pair_file, loop))
    assert len(runs) == 3 and [run['first_step'] for run in runs] == [0, 4, 8]
    assert read_extrapolation(driver_run(tmp_path / 'driver', atoms, model_file, loop)) == runs
