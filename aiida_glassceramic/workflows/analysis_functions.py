"""Calcfunctions over :mod:`aiida_glassceramic.analysis`: the analyses with their inputs and results in provenance.

Structures come as ``StructureData``; trajectories as ``TrajectoryData`` (positions A, velocities A/ps in an
optional ``velocities`` array) or as a ``SinglefileData`` LAMMPS text dump (or any ASE-readable file; set
``format`` and ``type_symbols`` in the parameters), streamed frame by frame. Units are part of every output
name (``_A``, ``_ps``, ``_eV`` ...) or given in a ``units`` entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import ase
import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from .. import analysis
from ..analysis.diffusion import A2_PER_PS_TO_CM2_PER_S
from ..analysis.vdos import THZ_TO_MEV


def _name(text: str) -> str:
    return re.sub(r'[^A-Za-z0-9_]+', '_', text).strip('_')


def _array(**arrays: np.ndarray) -> orm.ArrayData:
    node = orm.ArrayData()
    for name, values in arrays.items():
        node.set_array(_name(name), np.asarray(values))
    return node


@contextmanager
def _frames(source: orm.Data, parameters: dict) -> Iterator[Iterator[ase.Atoms]]:
    """Frames of a structure, a TrajectoryData or a trajectory file, one at a time."""
    if isinstance(source, orm.StructureData):
        yield iter([source.get_ase()])
    elif isinstance(source, orm.TrajectoryData):
        yield _trajectory_frames(source)
    elif isinstance(source, orm.SinglefileData):
        with source.as_path() as path:
            yield analysis.iter_frames(path, parameters.get('type_symbols'), parameters.get('format', 'lammps-dump'))
    else:
        raise analysis.AnalysisError(f'source: {type(source).__name__} is not a structure or trajectory')


def _trajectory_frames(trajectory: orm.TrajectoryData) -> Iterator[ase.Atoms]:
    has_velocities = 'velocities' in trajectory.get_arraynames()
    for index in range(trajectory.numsteps):
        atoms = trajectory.get_step_structure(index).get_ase()
        if has_velocities:
            atoms.arrays['lammps_velocities'] = trajectory.get_array('velocities')[index]
        yield atoms


@calcfunction
def compute_pair_distribution(source: orm.Data, parameters: orm.Dict) -> orm.ArrayData:
    """Total and partial g(r), frame-averaged. Parameters: ``rmax_A`` (10), ``nbins`` (200)."""
    settings = parameters.get_dict()
    with _frames(source, settings) as frames:
        result = analysis.pair_distribution(frames, settings.get('rmax_A', 10.0), settings.get('nbins', 200))
    partials = {f'g_{a}_{b}': values for (a, b), values in result.partials.items()}
    return _array(r_A=result.r, edges_A=result.edges, g_total=result.total, **partials)


@calcfunction
def compute_xrd(structure: orm.StructureData, parameters: orm.Dict) -> dict:
    """XRD pattern and crystallinity. Parameters: ``wavelength_A``, ``two_theta_range_deg``, ``step_deg``,
    ``fwhm_deg`` and the peak criteria ``min_prominence``, ``max_width_deg``, ``contrast``."""
    settings = parameters.get_dict()
    pattern = analysis.xrd_pattern(
        structure.get_ase(),
        wavelength=settings.get('wavelength_A', analysis.xrd.CU_KALPHA),
        two_theta_range=tuple(settings.get('two_theta_range_deg', (10.0, 60.0))),
        step=settings.get('step_deg', 0.01),
        fwhm=settings.get('fwhm_deg', 0.1),
    )
    found = analysis.crystallinity(
        pattern.two_theta,
        pattern.intensity,
        speckle=pattern.speckle,
        min_prominence=settings.get('min_prominence', 0.01),
        max_width=settings.get('max_width_deg', 1.0),
        contrast=settings.get('contrast', 16.0),
    )
    arrays = _array(
        two_theta_deg=pattern.two_theta,
        intensity=pattern.intensity,
        laue=pattern.laue,
        reflection_two_theta_deg=pattern.reflections.two_theta,
        reflection_d_A=pattern.reflections.d_spacing,
        reflection_intensity=pattern.reflections.intensity,
    )
    summary = {
        'crystallinity': found.fraction,
        'peak_two_theta_deg': found.peak_two_theta.tolist(),
        'units': {'intensity': 'scaled to a maximum of 100'},
    }
    return {'pattern': arrays, 'crystallinity': orm.Dict(summary)}


@calcfunction
def compute_entropy_fingerprint(structure: orm.StructureData, parameters: orm.Dict) -> dict:
    """Per-atom entropy fingerprint. Parameters: ``species`` ('P'), ``cutoff_A`` (10), ``sigma_A`` (0.1),
    ``average_cutoff_A`` (9), ``sublattice`` (True), ``threshold_kB`` (optional: ordered below it)."""
    settings = parameters.get_dict()
    result = analysis.entropy_fingerprint(
        structure.get_ase(),
        settings.get('species', 'P'),
        cutoff=settings.get('cutoff_A', 10.0),
        sigma=settings.get('sigma_A', 0.1),
        average_cutoff=settings.get('average_cutoff_A', 9.0),
        sublattice=settings.get('sublattice', True),
    )
    summary = {'mean_kB': float(result.averaged.mean()), 'natoms': len(result.indices)}
    if 'threshold_kB' in settings:
        summary['crystalline_fraction'] = analysis.crystalline_fraction(result.averaged, settings['threshold_kB'])
    arrays = _array(indices=result.indices, entropy_kB=result.entropy, averaged_kB=result.averaged)
    return {'fingerprint': arrays, 'summary': orm.Dict(summary)}


@calcfunction
def compute_speciation(structure: orm.StructureData, parameters: orm.Dict) -> orm.Dict:
    """Anion unit counts. Parameters: ``cutoffs_A`` such as ``{'P-S': 2.5, 'P-P': 2.5, 'S-S': 2.4}``."""
    cutoffs = {tuple(key.split('-')): value for key, value in parameters.get_dict().get('cutoffs_A', {}).items()}
    return orm.Dict(analysis.anion_speciation(structure.get_ase(), cutoffs))


@calcfunction
def compute_diffusion(source: orm.Data, parameters: orm.Dict) -> dict:
    """MSD per species (all time origins) and D from a linear fit. Parameters: ``frame_interval_ps``,
    ``species`` (['Li']), ``fit_window_ps`` ([100, 1000]), ``type_symbols``/``format`` for files."""
    settings = parameters.get_dict()
    if 'frame_interval_ps' not in settings:
        raise analysis.AnalysisError('parameters: give frame_interval_ps, the time between frames')
    msd, fits = {}, {}
    for species in settings.get('species', ['Li']):
        with _frames(source, settings) as frames:
            unwrapped, _ = analysis.unwrapped_positions(frames, species)
        msd[species] = analysis.mean_square_displacement(unwrapped)
        times = settings['frame_interval_ps'] * np.arange(len(msd[species]))
        fit = analysis.diffusion_coefficient(times, msd[species], tuple(settings.get('fit_window_ps', (100, 1000))))
        fits[species] = {
            'D_A2_per_ps': fit.diffusion,
            'D_stderr_A2_per_ps': fit.stderr,
            'D_cm2_per_s': fit.diffusion * A2_PER_PS_TO_CM2_PER_S,
            'fit_window_ps': list(fit.window),
            'natoms': int(unwrapped.shape[1]),
        }
    arrays = _array(time_ps=times, **{f'msd_{species}_A2': values for species, values in msd.items()})
    return {'msd': arrays, 'diffusion': orm.Dict(fits)}


@calcfunction
def compute_arrhenius(parameters: orm.Dict) -> orm.Dict:
    """Barrier from ``temperature_K`` and ``D_A2_per_ps`` lists (optional ``D_stderr_A2_per_ps`` as weights)."""
    settings = parameters.get_dict()
    fit = analysis.arrhenius_fit(settings['temperature_K'], settings['D_A2_per_ps'], settings.get('D_stderr_A2_per_ps'))
    return orm.Dict(
        {
            'Ea_eV': fit.activation_energy,
            'Ea_stderr_eV': fit.activation_energy_stderr,
            'ln_D0_A2_per_ps': fit.log_prefactor,
            'ln_D0_stderr': fit.log_prefactor_stderr,
        }
    )


@calcfunction
def compute_conductivity(structure: orm.StructureData, diffusion: orm.Dict, parameters: orm.Dict) -> orm.Dict:
    """Nernst-Einstein conductivity of ``species`` ('Li') from a ``compute_diffusion`` result.
    Parameters: ``temperature_K``, ``species``, ``charge`` (1), ``haven_ratio`` (1)."""
    settings = parameters.get_dict()
    species = settings.get('species', 'Li')
    atoms = structure.get_ase()
    carriers = atoms.get_chemical_symbols().count(species)
    sigma = analysis.nernst_einstein(
        diffusion[species]['D_A2_per_ps'],
        carriers,
        atoms.get_volume(),
        settings['temperature_K'],
        charge=settings.get('charge', 1.0),
        haven_ratio=settings.get('haven_ratio', 1.0),
    )
    return orm.Dict({'sigma_S_per_cm': sigma, 'carriers': carriers, 'haven_ratio': settings.get('haven_ratio', 1.0)})


@calcfunction
def compute_displacement_map(source: orm.Data, parameters: orm.Dict) -> orm.ArrayData:
    """Li displacement map. Parameters: ``window_frames``, ``stride_frames``, ``bins`` ([20, 20, 20]),
    ``axis`` (2), ``species`` ('Li')."""
    settings = parameters.get_dict()
    with _frames(source, settings) as frames:
        result = analysis.displacement_map(
            frames,
            settings['window_frames'],
            species=settings.get('species', 'Li'),
            bins=settings.get('bins', (20, 20, 20)),
            stride=settings.get('stride_frames'),
            axis=settings.get('axis', 2),
        )
    return _array(mean_amplitude_A=result.mean_amplitude, counts=result.counts, projection_A=result.projection)


@calcfunction
def compute_vdos(source: orm.Data, parameters: orm.Dict) -> dict:
    """VDOS per group and band centres. Parameters: ``frame_interval_ps``, ``groups`` ({'Li': ['Li'],
    'P+S': ['P', 'S']}), ``segment_frames`` (2048)."""
    settings = parameters.get_dict()
    with _frames(source, settings) as frames:
        result = analysis.vibrational_dos(
            frames,
            settings['frame_interval_ps'],
            settings.get('groups', analysis.PAPER_GROUPS),
            settings.get('segment_frames', 2048),
        )
    arrays = _array(
        frequency_THz=result.frequency,
        frequency_meV=result.frequency_mev,
        **{f'dos_{name}_per_THz': values for name, values in result.dos.items()},
    )
    centres = {
        name: {'THz': result.band_centre(name), 'meV': result.band_centre(name) * THZ_TO_MEV} for name in result.dos
    }
    return {'vdos': arrays, 'band_centre': orm.Dict(centres)}
