"""Calcfunctions of the reference-data work chain: condition grid, snapshots + screening, batches, merged labels."""

from __future__ import annotations

import ase
import numpy as np
from aiida import orm
from aiida.engine import calcfunction
from ase.calculators.singlepoint import SinglePointCalculator

from ..calculations.reference_engine import structure_set, structure_set_images
from ..data.training_set import TrainingSetData
from ..descriptors.screening import screen, symmetry_function_featurizer
from ..engines.vasp import trajectory_frames
from ..structures import li2s_vacancy, li_vacancy, repeat_along, strain_isotropic
from ..training_set import TrainingSet

DEFECTS = {'pristine': None, 'li_vacancy': li_vacancy, 'li2s_vacancy': li2s_vacancy}


def condition_models(crystal: ase.Atoms, conditions: dict) -> list[tuple[dict, ase.Atoms]]:
    """The cells of the grid: cell size x strain x defect (temperatures are applied by the MD), atoms sorted
    by element."""
    models = []
    for size in conditions['cell_sizes']:
        cell = repeat_along(crystal, int(size), axis=0)
        for strain in conditions['strains']:
            strained = strain_isotropic(cell, float(strain))
            for defect in conditions['defects']:
                make = DEFECTS[defect]
                atoms = strained if make is None else make(strained, seed=int(conditions.get('defect_seed', 0)))
                atoms = atoms[np.argsort(atoms.numbers, kind='stable')]  # one block per element in POSCAR / POTCAR
                models.append(({'cell_size': int(size), 'strain': float(strain), 'defect': defect}, atoms))
    return models


@calcfunction
def build_conditions(crystal: orm.StructureData, conditions: orm.Dict) -> dict:
    """One StructureData per (cell size, strain, defect) of a crystal model, outputs ``model_0000``, ..."""
    outputs = {}
    for index, (description, atoms) in enumerate(condition_models(crystal.get_ase(), conditions.get_dict())):
        structure = orm.StructureData(ase=atoms)
        structure.base.extras.set_many(description)
        structure.label = '{cell_size} atoms, strain {strain:+.3f}, {defect}'.format(**description)
        outputs[f'model_{index:04d}'] = structure
    return outputs


def snapshot_frames(trajectory: orm.TrajectoryData, offset: int) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """(symbols, positions, cells, MD steps) of an embedded engine's (tblite, CHGNet) or vasp.vasp trajectory segment.

    Frames of the embedded engines carry the number of steps done; vasp.vasp frames are numbered as VASP's ionic steps
    (1-based) continuing after ``offset`` steps of earlier segments.
    """
    if 'energy_extrapolated' in trajectory.get_arraynames():
        symbols, positions, cells = trajectory_frames(trajectory)
        return symbols, positions, cells, offset + 1 + np.arange(len(positions))
    return trajectory.symbols, trajectory.get_positions(), trajectory.get_cells(), trajectory.get_stepids()


@calcfunction
def screen_snapshots(parameters: orm.Dict, **segments: orm.TrajectoryData) -> dict:
    """Snapshots taken uniformly (every ``stride`` MD steps) from the trajectory segments of one condition,
    screened by farthest-point selection on the symmetry-function fingerprints.

    ``parameters``: ``stride``, ``offsets`` (MD steps before each segment, by segment name), ``threshold``,
    ``cutoff``, ``elements``, ``max_selected`` (optional). Outputs the kept structures (a structure set with
    the MD ``step`` of each) and ``screening`` (counts).
    """
    settings = parameters.get_dict()
    stride = int(settings['stride'])
    images, steps, seen = [], [], set()
    for name in sorted(segments):
        symbols, positions, cells, frame_steps = snapshot_frames(segments[name], settings['offsets'].get(name, 0))
        for position, cell, step in zip(positions, cells, frame_steps, strict=True):
            if step > 0 and step % stride == 0 and int(step) not in seen:
                seen.add(int(step))
                images.append(ase.Atoms(symbols=symbols, positions=position, cell=cell, pbc=True))
                steps.append(int(step))
    if not images:
        raise ValueError(f'screen_snapshots: no frame at a multiple of stride {stride}; the MD is shorter than that')
    featurize = symmetry_function_featurizer(settings['elements'], cutoff=float(settings['cutoff']))
    kept = screen(images, featurize, float(settings['threshold']), settings.get('max_selected'))
    return {
        'structures': structure_set([images[i] for i in kept], step=np.asarray(steps)[kept]),
        'screening': orm.Dict({'snapshots': len(images), 'kept': len(kept)}),
    }


@calcfunction
def frame_labels(structures: orm.ArrayData, **segments: orm.TrajectoryData) -> TrainingSetData:
    """Labels of the kept snapshots read from the labelled MD frames they were taken from, for engines whose MD
    frames carry energies, forces and stresses (no static calculation repeats them).

    A step written twice (a run killed between its frame and its restart data) is taken from its first frame, as
    :func:`screen_snapshots` does.
    """
    frames = {}
    for name in sorted(segments):
        arrays = {key: segments[name].get_array(key) for key in ('positions', 'energies', 'forces', 'stresses')}
        for index, step in enumerate(segments[name].get_stepids()):
            frames.setdefault(int(step), (arrays, index))
    labelled = []
    for atoms, step in zip(structure_set_images(structures), structures.get_array('step'), strict=True):
        arrays, index = frames[int(step)]
        if not np.array_equal(arrays['positions'][index], atoms.positions):
            raise ValueError(f'frame_labels: the frame of step {step} is not the snapshot taken at that step')
        atoms.calc = SinglePointCalculator(
            atoms, energy=arrays['energies'][index], forces=arrays['forces'][index], stress=arrays['stresses'][index]
        )
        labelled.append(atoms)
    return TrainingSetData(TrainingSet.from_atoms(labelled))


@calcfunction
def split_structures(structures: orm.ArrayData, batch_size: orm.Int, single: orm.Bool) -> dict:
    """Batches of a structure set (``batch_0000``, ...): structure sets, or single StructureData if ``single``."""
    images = structure_set_images(structures)
    size = 1 if single.value else max(1, batch_size.value)
    outputs = {}
    for number, start in enumerate(range(0, len(images), size)):
        batch = images[start : start + size]
        outputs[f'batch_{number:04d}'] = orm.StructureData(ase=batch[0]) if single.value else structure_set(batch)
    return outputs


@calcfunction
def merge_training_sets(**sets: TrainingSetData) -> TrainingSetData:
    """One training set from the labelled batches (in the order of their names)."""
    return TrainingSetData(TrainingSet.merge(*(sets[name].get_training_set() for name in sorted(sets))))


@calcfunction
def summarize(counts: orm.Dict) -> orm.Dict:
    """The counts of a reference-data run as an output node."""
    return orm.Dict(counts.get_dict())
