"""Output files of the embedded reference engines' runner, written by its own writers, for the parser tests."""

from __future__ import annotations

import json
from pathlib import Path

import ase
import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator

from aiida_glassceramic.runners.reference_engine import RESTART, STATUS, TRAJECTORY, write_frame, write_restart

MD_STEPS = 4


def labelled_frame(step: int) -> ase.Atoms:
    """A labelled 3-atom periodic frame (energy, forces, stress, velocities) that differs with ``step``."""
    frame = ase.Atoms('LiPS', positions=[[0, 0, 0], [1.5, 0, 0], [0, 1.5 + 0.01 * step, 0]], cell=[6, 6, 6], pbc=True)
    frame.set_velocities(np.full((3, 3), 0.01 * step))
    forces = np.array([[0.1, 0, 0], [-0.1, 0, 0], [0, 0, 0]])
    stress = np.arange(1, 7) * 1e-3 * (step + 1)
    frame.calc = SinglePointCalculator(frame, energy=-1.0 - step, forces=forces, stress=stress)
    return frame


def write_md_run(folder: Path) -> dict[str, bytes]:
    """The files of a complete md run of MD_STEPS steps (trajectory, restart, status) by name."""
    for step in range(MD_STEPS + 1):
        write_frame(labelled_frame(step), folder / TRAJECTORY, step)
    write_restart(labelled_frame(MD_STEPS), folder / RESTART, MD_STEPS)
    (folder / STATUS).write_text(json.dumps({'task': 'md', 'steps': MD_STEPS}))
    return {name: (folder / name).read_bytes() for name in (TRAJECTORY, RESTART, STATUS)}
