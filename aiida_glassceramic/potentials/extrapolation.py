"""Extrapolation warnings of a run (n2p2's term): the atoms whose symmetry functions leave the training range.

``pair_style glassceramic`` (C++) and the ``fix external`` driver print the same line at the end of each run::

    glassceramic: extrapolation warnings: 120 atom-steps in 15 steps (12 atoms at most in one step; first at step 203)

or, for a potential that records no ranges, ``glassceramic: extrapolation warnings: not counted (...)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = 'glassceramic: extrapolation warnings:'
NOT_COUNTED = f'{PREFIX} not counted'
_LINE = re.compile(
    '^'
    + re.escape(PREFIX)
    + r' (\d+) atom-steps in (\d+) steps \((\d+) atoms at most in one step; first at step (\d+|none)\)',
    re.MULTILINE,
)


@dataclass
class ExtrapolationTally:
    """The extrapolation warnings of one run: force evaluations with atoms outside the training range."""

    atom_steps: int = 0
    steps: int = 0
    max_atoms: int = 0
    first_step: int | None = None

    def add(self, step: int, atoms: int) -> None:
        """Count one force evaluation at time step ``step`` with ``atoms`` atoms outside the range."""
        if atoms == 0:
            return
        self.atom_steps += atoms
        self.steps += 1
        self.max_atoms = max(self.max_atoms, atoms)
        if self.first_step is None:
            self.first_step = step

    def line(self) -> str:
        first = 'none' if self.first_step is None else self.first_step
        return (
            f'{PREFIX} {self.atom_steps} atom-steps in {self.steps} steps ({self.max_atoms} atoms at most in one '
            f'step; first at step {first})'
        )


def read_extrapolation(text: str) -> list[dict] | None:
    """The counts of every run in a LAMMPS output (``atom_steps``, ``steps``, ``max_atoms``, ``first_step``: None
    without warnings), in run order, from the lines that start with them (not the echoed ``print`` commands); None
    when the output holds no such line or the potential counted none."""
    runs = []
    for match in _LINE.finditer(text):
        atom_steps, steps, max_atoms, first = match.groups()
        runs.append(
            {
                'atom_steps': int(atom_steps),
                'steps': int(steps),
                'max_atoms': int(max_atoms),
                'first_step': None if first == 'none' else int(first),
            }
        )
    return runs or None


def extrapolation_summary(text: str) -> dict | None:
    """The extrapolation warnings of all runs of a LAMMPS output together (atom-steps and steps summed, the most
    atoms in one step, the first step with any) and per run (``runs``); None without counts."""
    runs = read_extrapolation(text)
    if runs is None:
        return None
    firsts = [run['first_step'] for run in runs if run['first_step'] is not None]
    return {
        'atom_steps': sum(run['atom_steps'] for run in runs),
        'steps': sum(run['steps'] for run in runs),
        'max_atoms': max(run['max_atoms'] for run in runs),
        'first_step': firsts[0] if firsts else None,
        'runs': runs,
    }
