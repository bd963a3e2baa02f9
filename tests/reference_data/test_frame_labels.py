"""Labels read from labelled MD frames (engines with no static stage), across a killed and continued run."""

from __future__ import annotations

import ase
import numpy as np
from aiida import orm
from ase.calculators.singlepoint import SinglePointCalculator

from aiida_glassceramic.parsers.reference_engine import md_trajectory
from aiida_glassceramic.workflows.reference_functions import frame_labels, screen_snapshots


def frame(step: int, shift: float) -> ase.Atoms:
    """A labelled 3-atom frame whose positions and labels are set by ``step`` and ``shift``."""
    atoms = ase.Atoms('LiPS', positions=[[0, 0, 0], [2.1, 0, 0], [0, 2.0 + 0.05 * step + shift, 0]], cell=[7, 7, 7])
    atoms.pbc = True
    atoms.info['step'] = step
    atoms.set_velocities(np.zeros((3, 3)))
    forces = np.array([[0.1, 0, 0], [-0.1, -step, 0], [0, step, 0]]) + shift
    atoms.calc = SinglePointCalculator(atoms, energy=-step - shift, forces=forces, stress=np.full(6, step + shift))
    return atoms


def test_labels_of_a_continued_run_come_from_the_frames_the_snapshots_were_taken_from(aiida_profile):
    """The first segment wrote step 4 and was killed before its restart data: the second repeats step 4 from step 2
    along another path. The snapshot of step 4 and its labels both come from the first segment's frame."""
    first = md_trajectory([frame(0, 0.0), frame(2, 0.0), frame(4, 0.0)])
    second = md_trajectory([frame(4, 0.3), frame(6, 0.3), frame(8, 0.3)])
    segments = {'segment_000': first, 'segment_001': second}
    parameters = {'stride': 2, 'offsets': {}, 'threshold': 0.0, 'cutoff': 5.0, 'elements': ['Li', 'P', 'S']}
    snapshots = screen_snapshots(orm.Dict(parameters), **segments)['structures']
    assert snapshots.get_array('step').tolist() == [2, 4, 6, 8]

    labels = frame_labels(snapshots, **segments).get_training_set()
    expected = [frame(2, 0.0), frame(4, 0.0), frame(6, 0.3), frame(8, 0.3)]
    np.testing.assert_array_equal(labels.energies, [atoms.get_potential_energy() for atoms in expected])
    np.testing.assert_array_equal(labels.forces, np.concatenate([atoms.get_forces() for atoms in expected]))
    np.testing.assert_array_equal(labels.stresses, [atoms.get_stress() for atoms in expected])
    np.testing.assert_array_equal(labels.positions, np.concatenate([atoms.positions for atoms in expected]))
