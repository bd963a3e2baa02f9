"""Streaming trajectory readers: one frame in memory at a time.

LAMMPS text dumps (``dump custom``/``atom``; LAMMPS ``metal`` units: A, ps, A/ps) are read frame by frame
into :class:`ase.Atoms` with ``info['timestep']`` (``info['time']`` too when frames carry their time) and
velocities when the dump has ``vx vy vz``. The reader
decides once how positions are to be unwrapped: unwrapped columns (``xu``, ``xsu``) give ``info['unwrapped']``
and their image flags are ignored (they are already included); wrapped columns with ``ix iy iz`` give the image
flags in ``arrays['images']``. Atoms are sorted by id. Any format ASE reads
(``.traj``, extended XYZ, ...) streams through :func:`ase.io.iread`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

import ase
import ase.io
import ase.units
import numpy as np

from .errors import AnalysisError

POSITION_COLUMNS = (('x', 'y', 'z'), ('xu', 'yu', 'zu'), ('xs', 'ys', 'zs'), ('xsu', 'ysu', 'zsu'))


def iter_frames(
    path: str | Path, type_symbols: Mapping[int, str] | Sequence[str] | None = None, fmt: str | None = None
) -> Iterator[ase.Atoms]:
    """Frames of a LAMMPS text dump (``fmt='lammps-dump'`` or a ``.dump``/``.lammpstrj`` file) or any ASE format.

    :param type_symbols: element of each LAMMPS atom type: ``{1: 'Li', 2: 'P', 3: 'S'}`` or ``['Li', 'P', 'S']``;
        not needed when the dump has an ``element`` column.
    """
    path = Path(path)
    if not path.is_file():
        raise AnalysisError(f'trajectory `{path}`: no such file')
    if fmt == 'lammps-dump' or (fmt is None and path.suffix in ('.dump', '.lammpstrj')):
        yield from iter_lammps_dump(path, type_symbols)
    else:
        yield from ase.io.iread(path, index=':', format=fmt)


def iter_lammps_dump(path: str | Path, type_symbols: Mapping[int, str] | Sequence[str] | None = None):
    """Frames of a LAMMPS text dump, streamed; see :func:`iter_frames`."""
    mapping = _type_mapping(type_symbols)
    with open(path) as handle:
        while True:
            frame = _read_frame(handle, mapping, path)
            if frame is None:
                return
            yield frame


def _type_mapping(type_symbols) -> dict[int, str] | None:
    if type_symbols is None:
        return None
    if isinstance(type_symbols, Mapping):
        return {int(key): str(value) for key, value in type_symbols.items()}
    return {index + 1: str(symbol) for index, symbol in enumerate(type_symbols)}


def _read_frame(handle: TextIO, mapping: dict[int, str] | None, path: Path) -> ase.Atoms | None:
    line = handle.readline()
    while line and not line.strip():
        line = handle.readline()
    if not line:
        return None
    if line.strip() == 'ITEM: TIME':  # the simulated time of the frame (``dump_modify time yes``)
        time = float(handle.readline())
        line = handle.readline()
    else:
        time = None
    if not line.startswith('ITEM: TIMESTEP'):
        raise AnalysisError(f'trajectory `{path}`: expected "ITEM: TIMESTEP", found {line.strip()!r}')
    timestep = int(handle.readline())
    handle.readline()
    natoms = int(handle.readline())
    box_header = handle.readline().split()[3:]
    bounds = np.array([handle.readline().split() for _ in range(3)], dtype=float)
    cell, origin = _lammps_cell(box_header, bounds, path)
    columns = handle.readline().split()[2:]
    tokens = ''.join(handle.readline() for _ in range(natoms)).split()
    if len(tokens) != natoms * len(columns):
        raise AnalysisError(f'trajectory `{path}`: frame at step {timestep} is truncated or malformed')
    table = dict(zip(columns, np.array(tokens).reshape(natoms, len(columns)).T, strict=True))
    order = np.argsort(table['id'].astype(int)) if 'id' in table else np.arange(natoms)
    atoms = ase.Atoms(symbols=_symbols(table, mapping, path)[order], cell=cell, pbc=True)
    positions, unwrapped = _positions(table, cell, origin, path)
    atoms.positions = positions[order]
    if unwrapped:
        atoms.info['unwrapped'] = True
    elif {'ix', 'iy', 'iz'} <= table.keys():
        atoms.arrays['images'] = np.stack([table[c].astype(int) for c in ('ix', 'iy', 'iz')], axis=1)[order]
    if {'vx', 'vy', 'vz'} <= table.keys():
        atoms.arrays['lammps_velocities'] = np.stack([table[c].astype(float) for c in ('vx', 'vy', 'vz')], 1)[order]
    atoms.info['timestep'] = timestep
    if time is not None:
        atoms.info['time'] = time
    return atoms


def _lammps_cell(header: list[str], bounds: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    if 'abc' in header:
        raise AnalysisError(f'trajectory `{path}`: general triclinic boxes are not supported; dump a restricted box')
    xy, xz, yz = bounds[:, 2] if bounds.shape[1] == 3 else (0.0, 0.0, 0.0)
    xlo = bounds[0, 0] - min(0.0, xy, xz, xy + xz)
    xhi = bounds[0, 1] - max(0.0, xy, xz, xy + xz)
    ylo, yhi = bounds[1, 0] - min(0.0, yz), bounds[1, 1] - max(0.0, yz)
    zlo, zhi = bounds[2, 0], bounds[2, 1]
    cell = np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, zhi - zlo]])
    return cell, np.array([xlo, ylo, zlo])


def _symbols(table: dict, mapping: dict[int, str] | None, path: Path) -> np.ndarray:
    if 'element' in table:
        return table['element'].astype(str)
    if 'type' not in table:
        raise AnalysisError(f'trajectory `{path}`: the dump has neither an element nor a type column')
    if mapping is None:
        raise AnalysisError(f'trajectory `{path}`: give type_symbols, e.g. ["Li", "P", "S"] for types 1, 2, 3')
    types = table['type'].astype(int)
    missing = sorted(set(types.tolist()) - mapping.keys())
    if missing:
        raise AnalysisError(f'type_symbols: no element given for LAMMPS atom types {missing}')
    return np.array([mapping[t] for t in types])


def _positions(table: dict, cell: np.ndarray, origin: np.ndarray, path: Path) -> tuple[np.ndarray, bool]:
    """Positions (A, relative to the box origin) from the first set of position columns, and whether they are
    unwrapped (``xu``/``xsu``: image flags, if also dumped, are then already included and must not be added)."""
    for names in POSITION_COLUMNS:
        if set(names) <= table.keys():
            values = np.stack([table[c].astype(float) for c in names], axis=1)
            positions = values @ cell if names[0].startswith('xs') else values - origin
            return positions, names[0].endswith('u')
    raise AnalysisError(f'trajectory `{path}`: no position columns (x y z, xu yu zu, xs ys zs or xsu ysu zsu)')


def velocities(atoms: ase.Atoms) -> np.ndarray:
    """Velocities of a frame in A/ps: from a LAMMPS dump (metal units) or from an ASE structure."""
    if 'lammps_velocities' in atoms.arrays:
        return atoms.arrays['lammps_velocities']
    if atoms.has('momenta'):
        return atoms.get_velocities() * (ase.units.fs * 1000.0)
    raise AnalysisError(f'frame at step {atoms.info.get("timestep", "?")}: has no velocities; dump vx vy vz')
