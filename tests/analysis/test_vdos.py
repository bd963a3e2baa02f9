"""VDOS of Einstein solids: the peak sits at the oscillator frequency and the VDOS integrates to 3N."""

import ase
import numpy as np
import pytest

from aiida_glassceramic.analysis import AnalysisError, vibrational_dos


def einstein_frames(frequencies: dict[str, float], natoms: int = 40, nframes: int = 1000, dt: float = 0.005):
    """Atoms oscillate at their species' frequency (THz), random phases, equal kinetic energy (equipartition)."""
    rng = np.random.default_rng(3)
    symbols = [s for s in frequencies for _ in range(natoms)]
    nu = np.array([frequencies[s] for s in symbols])[:, None]
    masses = ase.Atoms(symbols).get_masses()[:, None]
    amplitude = np.ones((len(symbols), 3)) / (nu * np.sqrt(masses))
    phase = rng.uniform(0, 2 * np.pi, size=(len(symbols), 3))
    for step in range(nframes):
        t = step * dt
        atoms = ase.Atoms(symbols, positions=amplitude * np.cos(2 * np.pi * nu * t + phase), cell=[20] * 3, pbc=True)
        atoms.arrays['lammps_velocities'] = -2 * np.pi * nu * amplitude * np.sin(2 * np.pi * nu * t + phase)
        yield atoms


def test_peak_at_the_einstein_frequency_and_integral():
    result = vibrational_dos(einstein_frames({'Li': 9.0, 'S': 4.0}), timestep=0.005, groups={'Li': ['Li'], 'S': ['S']})
    for group, nu in (('Li', 9.0), ('S', 4.0)):
        resolution = result.frequency[1]
        assert result.frequency[np.argmax(result.dos[group])] == pytest.approx(nu, abs=resolution)
        assert np.trapezoid(result.dos[group], result.frequency) == pytest.approx(3 * 40, rel=1e-9)
        assert result.band_centre(group) == pytest.approx(nu, abs=0.1)
    assert result.frequency_mev[np.argmax(result.dos['Li'])] == pytest.approx(9.0 * 4.1357, abs=1.0)


def test_segments_average_and_mixed_group_centre():
    """Equipartition: P and S carry equal kinetic energy, so the mass-weighted P+S centre is the mean frequency."""
    result = vibrational_dos(
        einstein_frames({'P': 3.0, 'S': 7.0}, nframes=1024), timestep=0.005, groups={'P+S': ['P', 'S']}, segment=256
    )
    assert len(result.frequency) == 129
    assert result.band_centre('P+S') == pytest.approx(5.0, abs=0.15)


def test_absent_group_is_named():
    with pytest.raises(AnalysisError, match='groups `Na`'):
        vibrational_dos(einstein_frames({'Li': 9.0}, nframes=20), timestep=0.005, groups={'Na': ['Na']})
