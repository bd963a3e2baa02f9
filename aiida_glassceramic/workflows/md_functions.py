"""Calcfunctions of the MD workflows: thermo series, files and structures out of retrieved LAMMPS folders (the
analyses are those of :mod:`.analysis_functions`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from ..analysis.trajectory import iter_lammps_dump
from ..engines import lammps_scripts as scripts

STDOUT = 'lammps.out'
THERMO_HEADER = ['Step', 'Time', 'Temp', 'PotEng', 'KinEng', 'TotEng', 'Press', 'Volume', 'Lx', 'Ly', 'Lz']
THERMO_HEADER += ['Xy', 'Xz', 'Yz']


def read_thermo(text: str) -> dict[str, np.ndarray]:
    """Every thermo row of a LAMMPS screen output with the columns of ``lammps_scripts.THERMO_COLUMNS``.

    Rows of all runs are concatenated in order; a step printed again at the start of the next run is kept once.
    A partial last line (killed run) is ignored.
    """
    rows: list[list[float]] = []
    width = len(THERMO_HEADER)
    in_table = False
    for line in text.splitlines():
        words = line.split()
        if words == THERMO_HEADER:
            in_table = True
            continue
        if not in_table:
            continue
        try:
            values = [float(word) for word in words]
        except ValueError:
            values = []
        if len(values) != width:
            in_table = False
            continue
        if rows and values[0] <= rows[-1][0]:
            continue
        rows.append(values)
    table = np.array(rows, dtype=float).reshape(-1, width)
    return {name: table[:, index] for index, name in enumerate(scripts.THERMO_COLUMNS)}


def thermo_node(columns: dict[str, np.ndarray]) -> orm.ArrayData:
    node = orm.ArrayData()
    for name, values in columns.items():
        node.set_array(name, values)
    return node


@contextmanager
def retrieved_file(retrieved: orm.FolderData, filename: str) -> Iterator[Path]:
    """A path to ``filename`` of a retrieved folder, readable by streaming readers."""
    with retrieved.as_path(filename) as path:
        yield Path(path)


def read_structures(retrieved: orm.FolderData, filename: str, step_divisor: int = 1) -> dict[int, orm.StructureData]:
    """Structures of every frame of a dump in ``retrieved``, keyed by step (one frame in memory at a time); the dump's
    step numbers are divided by ``step_divisor`` (that of a run with a refined timestep)."""
    structures = {}
    with retrieved_file(retrieved, filename) as path:
        for atoms in iter_lammps_dump(path):
            step = atoms.info['timestep'] // step_divisor
            atoms.arrays.pop('lammps_velocities', None)
            structures[step] = orm.StructureData(ase=atoms)
    return structures


@calcfunction
def parse_thermo(retrieved: orm.FolderData, step_divisor: orm.Int | None = None) -> orm.ArrayData:
    """Thermo series (step, time ps, temp K, pe eV, press bar, vol A^3, ...) of one LAMMPS run; ``step_divisor``
    (a run with a refined timestep, whose steps are that many times shorter) turns its steps into the script's."""
    columns = read_thermo(retrieved.base.repository.get_object_content(STDOUT))
    if step_divisor is not None:
        columns['step'] = columns['step'] / step_divisor.value
    return thermo_node(columns)


@calcfunction
def join_thermo(**series: orm.ArrayData) -> orm.ArrayData:
    """Thermo series of consecutive chunks (keys in order) as one series; steps repeated at a chunk start are kept
    once."""
    joined: dict[str, list[np.ndarray]] = {name: [] for name in scripts.THERMO_COLUMNS}
    last_step = -math.inf
    for key in sorted(series):
        steps = series[key].get_array('step')
        keep = steps > last_step
        for name in scripts.THERMO_COLUMNS:
            joined[name].append(series[key].get_array(name)[keep])
        if keep.any():
            last_step = steps[keep][-1]
    return thermo_node({name: np.concatenate(parts) for name, parts in joined.items()})


@calcfunction
def extract_file(retrieved: orm.FolderData, filename: orm.Str) -> orm.SinglefileData:
    """One file of a retrieved folder as its own node (e.g. the restart file that the next chunk starts from)."""
    with retrieved.base.repository.open(filename.value, mode='rb') as handle:
        return orm.SinglefileData(handle, filename=filename.value)


@calcfunction
def final_structure(retrieved: orm.FolderData) -> orm.StructureData:
    """The structure at the end of a LAMMPS run (its ``final.dump``)."""
    structures = read_structures(retrieved, scripts.FINAL_DUMP)
    return structures[max(structures)]


@calcfunction
def snapshot_structures(retrieved: orm.FolderData, step_divisor: orm.Int | None = None) -> dict[str, orm.StructureData]:
    """Every frame of a chunk's snapshot dump as a structure, keyed ``step_<step>`` (steps divided by
    ``step_divisor`` for a run with a refined timestep)."""
    divisor = 1 if step_divisor is None else step_divisor.value
    structures = read_structures(retrieved, scripts.SNAPSHOT_DUMP, divisor)
    return {f'step_{step:012d}': structure for step, structure in structures.items()}


def temperature_label(temperature: float) -> str:
    """A link label for a temperature: ``600.0 -> 'T600'``, ``612.5 -> 'T612p5'``."""
    return 'T' + f'{temperature:g}'.replace('.', 'p')
