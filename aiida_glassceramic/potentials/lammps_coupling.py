"""Couple a potential to a running LAMMPS instance through ``fix external pf/callback``.

LAMMPS keeps integration, thermostats, barostats, dumps and computes; every step it hands the owned atoms'
positions to :class:`FixExternalCoupling`, which calls ``potential.compute(numbers, positions, cell)`` and writes
forces, energy and virial back. Works with ``units metal`` (eV, Angstrom) and a fully periodic box on one MPI rank.
A potential that sets ``extrapolating_atoms`` after each call (as :class:`~.model.NNPotential` does) gets its
extrapolation warnings counted per run; the fix's global vector gives them to thermo output (``f_ID[1]``: atoms
outside the training range in the last force call, ``f_ID[2]``: atom-steps outside it in the run so far).
"""

from __future__ import annotations

import ctypes
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Protocol

import numpy as np
from ase.data import atomic_masses, atomic_numbers

from .extrapolation import NOT_COUNTED, ExtrapolationTally

LMP_ERROR_WARNING, LMP_ERROR_ONE = 0, 1  # lammps.constants; the module is imported only once MPI is loaded

MASS_TOLERANCE = 0.05


class CouplingError(ValueError):
    """The LAMMPS set-up cannot be coupled to the potential (units, box, atom types, elements)."""


class Potential(Protocol):
    """What the coupling needs from a potential: its elements and one energy/forces/virial call."""

    elements: Sequence[str]

    def compute(
        self, numbers: np.ndarray, positions: np.ndarray, cell: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]: ...


def preload_mpi_library() -> None:
    """Load the MPI library of the ``mpich`` wheel globally, so ``liblammps.so`` finds it without LD_LIBRARY_PATH."""
    try:
        files = metadata.files('mpich') or []
    except metadata.PackageNotFoundError:
        return
    for file in files:
        if file.name.startswith('libmpi.so.'):  # the versioned library; plain libmpi.so is a linker script
            ctypes.CDLL(str(file.locate()), mode=ctypes.RTLD_GLOBAL)
            return


def check_timestep(timestep: float) -> None:
    """A time step must be positive (LAMMPS itself accepts 0 and negative ones)."""
    if not timestep > 0:
        raise CouplingError(
            f'timestep `{timestep:g}`: give a positive time step in ps (units metal), e.g. `timestep 0.001`'
        )


def parse_elements(text: str) -> list[str]:
    """Element symbols from a LAMMPS string such as ``"Li P S"`` (commas allowed)."""
    return text.replace(',', ' ').split()


def box_cell(lmp) -> np.ndarray:
    """The simulation box as lattice vectors in rows (LAMMPS' restricted triclinic: a along x, b in the xy plane)."""
    boxlo, boxhi, xy, yz, xz, _periodicity, _box_change = lmp.extract_box()
    return np.array(
        [
            [boxhi[0] - boxlo[0], 0.0, 0.0],
            [xy, boxhi[1] - boxlo[1], 0.0],
            [xz, yz, boxhi[2] - boxlo[2]],
        ]
    )


class FixExternalCoupling:
    """The callback of a ``fix ID GROUP external pf/callback`` that supplies ``potential``'s energy, forces, virial.

    ``elements[t - 1]`` is the element of LAMMPS atom type ``t``. Register with :meth:`attach`. An exception in the
    callback cannot travel through LAMMPS' C++ frames: it goes to ``on_error`` (default: report it and end the
    process with exit code 1).
    """

    def __init__(
        self,
        lmp,
        fix_id: str,
        potential: Potential,
        elements: Sequence[str],
        on_error: Callable[[object, BaseException], None] | None = None,
    ):
        self.lmp = lmp
        self.fix_id = fix_id
        self.potential = potential
        self.elements = list(elements)
        self.on_error = on_error or abort_run
        self.warning_counts: dict[str, int] = {}
        self.atomic_number_of_type = self._type_table()
        self.calls = 0
        self.extrapolation: ExtrapolationTally | None = None  # of the run under way; None: not counted
        self.finished_runs: list[ExtrapolationTally | None] = []
        self._run_start: int | None = None

    def _type_table(self) -> np.ndarray:
        check_setup(self.lmp)
        ntypes = self.lmp.extract_setting('ntypes')
        if len(self.elements) != ntypes:
            raise CouplingError(
                f'nnp_elements `{" ".join(self.elements)}`: {len(self.elements)} names for {ntypes} atom types; give '
                f'exactly one element per atom type in type order, e.g. `variable nnp_elements string "Li P S"` '
                f"(on the command line quote the list: -var nnp_elements 'Li P S')"
            )
        known = list(self.potential.elements)
        for symbol in self.elements:
            if symbol not in atomic_numbers:
                raise CouplingError(f'nnp_elements: `{symbol}` is not an element symbol (write e.g. Li, P, S)')
            if symbol not in known:
                raise CouplingError(
                    f'nnp_elements: the potential knows only {", ".join(known)}, not `{symbol}`; use a potential '
                    'trained on it or map every atom type to one of its elements'
                )
        table = np.zeros(ntypes + 1, dtype=np.int64)
        table[1:] = [atomic_numbers[symbol] for symbol in self.elements]
        return table

    def attach(self) -> FixExternalCoupling:
        """Register the callback with LAMMPS (the fix must exist already) once the masses set so far fit."""
        self.check_masses()
        self.lmp.set_fix_external_callback(self.fix_id, self.callback, None)
        self.lmp.fix_external_set_vector_length(self.fix_id, 2)
        return self

    def check_masses(self) -> None:
        """Refuse atom types whose mass (if set) is far from their element's: the element order is wrong."""
        masses = self.lmp.numpy.extract_atom('mass')
        known = {element: atomic_masses[atomic_numbers[element]] for element in self.potential.elements}
        nearest = [min(known, key=lambda element: abs(known[element] - mass)) for mass in masses[1:]]
        for atom_type, symbol in enumerate(self.elements, start=1):
            expected = atomic_masses[atomic_numbers[symbol]]
            deviation = abs(masses[atom_type] - expected)
            # P and S differ by 3.5 %: the mass must also be nearer its element than any other of the potential
            if masses[atom_type] > 0 and (deviation > MASS_TOLERANCE * expected or nearest[atom_type - 1] != symbol):
                raise CouplingError(
                    f'nnp_elements `{" ".join(self.elements)}`: atom type {atom_type} has mass {masses[atom_type]:g} '
                    f'but is mapped to {symbol} ({expected:.3f}); give one element per atom type in the order of the '
                    f'masses, e.g. `variable nnp_elements string "{" ".join(nearest)}"`'
                )

    def warn(self, kind: str, message: str) -> None:
        """Show the first warning of each kind on stderr and as ``WARNING:`` in LAMMPS' output; count the rest."""
        self.warning_counts[kind] = self.warning_counts.get(kind, 0) + 1
        if self.warning_counts[kind] == 1:
            text = (
                f'glassceramic-lmp: {kind}: {message} (step {self.lmp.extract_global("ntimestep")}; later ones counted)'
            )
            sys.stderr.write(f'WARNING: {text}\n')
            self.lmp.error(LMP_ERROR_WARNING, text)

    def callback(self, caller, step: int, nlocal: int, tag, x: np.ndarray, f: np.ndarray) -> None:  # noqa: PLR0917
        """fix external's hook: positions ``x`` in, forces ``f`` (a view of LAMMPS' array), energy and virial out."""
        try:
            self.apply(step, nlocal, x, f)
        except BaseException as error:  # nothing may propagate into LAMMPS' C++ frames
            self.on_error(self.lmp, error)

    def apply(self, step: int, nlocal: int, x: np.ndarray, f: np.ndarray) -> None:
        """Evaluate the potential on the owned atoms and hand forces, energy and virial to the fix."""
        if self.calls == 0:  # masses and time step as the run found them
            self.check_masses()
            check_timestep(self.lmp.extract_global('dt'))
        self.calls += 1
        self._follow_runs(step)
        types = self.lmp.numpy.extract_atom('type', nelem=nlocal)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            energy, forces, virial = self.potential.compute(self.atomic_number_of_type[types], x, box_cell(self.lmp))
        for warning in caught:
            self.warn(warning.category.__name__, str(warning.message))
        f[:] = forces
        self.lmp.fix_external_set_energy_global(self.fix_id, float(energy))
        self.lmp.fix_external_set_virial_global(self.fix_id, [float(value) for value in virial])
        atoms = getattr(self.potential, 'extrapolating_atoms', None)
        if atoms is not None and self.extrapolation is not None:
            self.extrapolation.add(step, atoms)
            self.lmp.fix_external_set_vector(self.fix_id, 1, float(atoms))
            self.lmp.fix_external_set_vector(self.fix_id, 2, float(self.extrapolation.atom_steps))
        elif atoms is None:
            self.extrapolation = None

    def _follow_runs(self, step: int) -> None:
        """Start a new tally at the first force call of each run (LAMMPS' setup, 0 steps elapsed)."""
        start = step - int(self.lmp.get_thermo('elapsed'))
        if start == step or start != self._run_start:
            self.end_run()
            self._run_start = start
            self.extrapolation = ExtrapolationTally()

    def end_run(self) -> None:
        """Close the tally of the run under way, if any, into :attr:`finished_runs`."""
        if self._run_start is not None:
            self.finished_runs.append(self.extrapolation)
        self._run_start, self.extrapolation = None, None

    def report_lines(self) -> list[str]:
        """The extrapolation line of every run finished since the last call (they are then forgotten)."""
        self.end_run()
        lines = [
            f'{NOT_COUNTED} (the potential records no symmetry-function ranges; use one trained with them)'
            if tally is None
            else tally.line()
            for tally in self.finished_runs
        ]
        self.finished_runs = []
        return lines


def check_setup(lmp) -> None:
    """Reject what the coupling cannot handle: other units, non-periodic boxes, several MPI ranks, 2d."""
    if lmp.extract_global('units') != 'metal':
        raise CouplingError(
            f'units `{lmp.extract_global("units")}`: the potential works in eV and Angstrom; put `units metal` at the '
            'top of the input script'
        )
    if lmp.extract_setting('world_size') != 1:
        raise CouplingError(
            'the potential runs on one MPI rank; start glassceramic-lmp without mpirun and use OMP_NUM_THREADS for '
            'threads'
        )
    if lmp.extract_setting('dimension') != 3:
        raise CouplingError('dimension: the potential needs a 3d box (`dimension 3`)')
    periodicity = lmp.extract_box()[5]
    if not all(periodicity):
        raise CouplingError(
            f'boundary: the potential needs a periodic box in x, y and z (`boundary p p p`), got periodicity '
            f'{list(periodicity)}'
        )


def abort_run(lmp, error: BaseException) -> None:
    """Report an error raised inside a run on stderr and, through LAMMPS' error handler, as ``ERROR:`` on its
    screen and log; then end the process with exit code 1 (LAMMPS cannot be unwound from inside a force call)."""
    detail = ''.join(traceback.format_exception_only(type(error), error)).strip()
    message = f'glassceramic-lmp: the potential failed during the run: {detail}'
    if not isinstance(error, ValueError):
        traceback.print_exception(error, file=sys.stderr)
    sys.stderr.write(f'ERROR: {message}\n')
    sys.stderr.flush()
    try:
        lmp.error(LMP_ERROR_ONE, message)
    except Exception:  # the error was printed; LAMMPS hands it back as an exception
        pass
    finally:
        lmp.flush_buffers()
        sys.stdout.flush()
        os._exit(1)
