"""Vibrational density of states from the velocity autocorrelation, per group of species.

By the Wiener-Khinchin theorem the Fourier transform of the velocity autocorrelation is the power
spectrum of the velocities, estimated here by Welch's method: the trajectory streams in segments of
``segment`` frames, each velocity component is Hann-windowed and Fourier transformed, and the
mass-weighted power ``sum_i m_i |v_i(nu)|^2`` is averaged over segments (mass weighting makes each
mode count by its kinetic energy, which matters for the mixed P+S group). The VDOS of a group of N atoms
is normalised to integrate to 3N over frequency; the band centre is its weighted mean frequency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import ase
import numpy as np
from ase.data import atomic_masses, atomic_numbers
from scipy.fft import rfft, rfftfreq
from scipy.signal.windows import hann

from .errors import AnalysisError
from .trajectory import velocities as frame_velocities

THZ_TO_MEV = 4.135667696
PAPER_GROUPS = {'Li': ('Li',), 'P+S': ('P', 'S')}


@dataclass(frozen=True)
class VibrationalDOS:
    """VDOS per group on ``frequency`` (THz); each integrates to 3 N_group."""

    frequency: np.ndarray
    dos: dict[str, np.ndarray]
    natoms: dict[str, int]

    @property
    def frequency_mev(self) -> np.ndarray:
        return self.frequency * THZ_TO_MEV

    def band_centre(self, group: str) -> float:
        """VDOS-weighted mean frequency (THz) of ``group``."""
        dos = self.dos[group]
        return float(np.trapezoid(self.frequency * dos, self.frequency) / np.trapezoid(dos, self.frequency))


def vibrational_dos(
    frames: Iterable[ase.Atoms],
    timestep: float,
    groups: Mapping[str, Sequence[str]] = PAPER_GROUPS,
    segment: int = 2048,
) -> VibrationalDOS:
    """VDOS of each group (name -> species) from frames with velocities ``timestep`` ps apart.

    Streams ``segment`` frames at a time; a trajectory shorter than one segment is used as one segment.
    """
    if not timestep > 0 or segment < 8:
        raise AnalysisError(f'timestep `{timestep}`, segment `{segment}`: need a positive timestep and segment >= 8')
    members, masses, power, buffer, nsegments = None, None, None, [], 0
    for atoms in frames:
        if members is None:
            members, masses = _groups(atoms, groups)
        buffer.append(frame_velocities(atoms))
        if len(buffer) == segment:
            power = _add(power, _segment_power(np.stack(buffer), members, masses))
            buffer, nsegments = [], nsegments + 1
    if nsegments == 0:
        if len(buffer) < 8:
            raise AnalysisError(f'frames: {len(buffer)} frames with velocities; need at least 8')
        power = _segment_power(np.stack(buffer), members, masses)
        segment = len(buffer)
    frequency = rfftfreq(segment, d=timestep)
    dos = {}
    for name, spectrum in power.items():
        natoms = len(members[name])
        dos[name] = 3.0 * natoms * spectrum / np.trapezoid(spectrum, frequency)
    return VibrationalDOS(frequency, dos, {name: len(index) for name, index in members.items()})


def _groups(atoms: ase.Atoms, groups: Mapping[str, Sequence[str]]):
    symbols = np.asarray(atoms.get_chemical_symbols())
    members = {}
    for name, species in groups.items():
        index = np.flatnonzero(np.isin(symbols, list(species)))
        if index.size == 0:
            raise AnalysisError(f'groups `{name}`: no atom of {list(species)} in the structure')
        members[name] = index
    masses = np.array([atomic_masses[atomic_numbers[s]] for s in symbols])
    return members, masses


def _segment_power(velocities: np.ndarray, members: dict, masses: np.ndarray) -> dict[str, np.ndarray]:
    taper = hann(len(velocities), sym=False)[:, None, None]
    power = {}
    for name, index in members.items():
        spectrum = rfft(velocities[:, index] * taper, axis=0)
        power[name] = np.einsum('fad,a->f', spectrum.real**2 + spectrum.imag**2, masses[index])
    return power


def _add(total: dict | None, new: dict) -> dict:
    return new if total is None else {name: total[name] + new[name] for name in total}
