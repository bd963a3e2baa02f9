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
from .lammps_base import temperature_label


def array_name(text: str) -> str:
    """``text`` as an array name of an ``ArrayData`` (letters, digits, underscores): ``'P+S'`` -> ``'P_S'``."""
    return re.sub(r'[^A-Za-z0-9_]+', '_', text).strip('_')


def _array(**arrays: np.ndarray) -> orm.ArrayData:
    node = orm.ArrayData()
    for name, values in arrays.items():
        node.set_array(array_name(name), np.asarray(values))
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


def with_uncertainty(name: str, unit: str, value: float, stderr: float, interval: tuple[float, float]) -> dict:
    """A measured value as the entries ``<name>_<unit>``, ``<name>_stderr_<unit>`` and ``<name>_ci95_<unit>``
    (standard error and central 95 % interval; no unit suffix for a pure number, ``unit=''``)."""
    suffix = f'_{unit}' if unit else ''
    return {
        f'{name}{suffix}': float(value),
        f'{name}_stderr{suffix}': float(stderr),
        f'{name}_ci95{suffix}': [float(bound) for bound in interval],
    }


@calcfunction
def compute_diffusion(source: orm.Data, parameters: orm.Dict) -> dict:
    """MSD per species (all time origins, relative to the centre of mass of all atoms when the frames hold more than
    ``species``) and D with its uncertainty (kinisi).

    Parameters: ``frame_interval_ps``, ``species`` (['Li']), ``fit_window_ps`` ([100, 1000]), ``npoints``, ``mcmc``
    and ``seed`` of :func:`~aiida_glassceramic.analysis.diffusion.diffusion_coefficient`, ``type_symbols``/``format``
    for files."""
    settings = parameters.get_dict()
    if 'frame_interval_ps' not in settings:
        raise analysis.AnalysisError('parameters: give frame_interval_ps, the time between frames')
    interval = settings['frame_interval_ps']
    msd, fits = {}, {}
    for species in settings.get('species', ['Li']):
        with _frames(source, settings) as frames:
            positions, drift_removed = analysis.centre_of_mass_positions(frames, species)
        msd[species] = analysis.mean_square_displacement(positions)
        options = {key: settings[key] for key in ('npoints', 'seed') if key in settings}
        if 'mcmc' in settings:
            options['mcmc'] = tuple(settings['mcmc'])
        fit = analysis.diffusion_coefficient(
            positions, interval, tuple(settings.get('fit_window_ps', (100, 1000))), **options
        )
        fits[species] = {
            **with_uncertainty('D', 'A2_per_ps', fit.diffusion, fit.stderr, fit.interval),
            **with_uncertainty(
                'D',
                'cm2_per_s',
                *(value * A2_PER_PS_TO_CM2_PER_S for value in (fit.diffusion, fit.stderr)),
                tuple(bound * A2_PER_PS_TO_CM2_PER_S for bound in fit.interval),
            ),
            'fit_window_ps': list(fit.window),
            'natoms': int(positions.shape[1]),
            'estimator': 'kinisi Bayesian regression of the MSD over all time origins',
            'centre_of_mass_removed': drift_removed,
        }
    times = interval * np.arange(len(positions))
    arrays = _array(time_ps=times, **{f'msd_{species}_A2': values for species, values in msd.items()})
    return {'msd': arrays, 'diffusion': orm.Dict(fits)}


@calcfunction
def compute_arrhenius(parameters: orm.Dict) -> orm.Dict:
    """Barrier from ``temperature_K`` and ``D_A2_per_ps`` lists, weighted by ``D_stderr_A2_per_ps`` when given."""
    settings = parameters.get_dict()
    fit = analysis.arrhenius_fit(settings['temperature_K'], settings['D_A2_per_ps'], settings.get('D_stderr_A2_per_ps'))
    return orm.Dict(arrhenius_entries(fit))


def arrhenius_entries(fit: analysis.ArrheniusFit) -> dict:
    """Ea and ln D0 with their uncertainties (None where the data cannot give one) and the fit's chi^2 per dof."""
    entries = {
        **with_uncertainty(
            'Ea', 'eV', fit.activation_energy, fit.activation_energy_stderr, fit.activation_energy_interval
        ),
        'ln_D0_A2_per_ps': fit.log_prefactor,
        'ln_D0_stderr': fit.log_prefactor_stderr,
        'chi2_per_dof': fit.chi2_per_dof,
    }
    return {key: _finite_or_none(value) for key, value in entries.items()}


def _finite_or_none(value):
    if isinstance(value, list):
        return [_finite_or_none(item) for item in value]
    return None if isinstance(value, float) and not np.isfinite(value) else value


@calcfunction
def compute_conductivity(structure: orm.StructureData, diffusion: orm.Dict, parameters: orm.Dict) -> orm.Dict:
    """Nernst-Einstein conductivity of ``species`` ('Li') with its uncertainty from a ``compute_diffusion`` result.
    Parameters: ``temperature_K``, ``species``, ``charge`` (1), ``haven_ratio`` (1)."""
    settings = parameters.get_dict()
    species = settings.get('species', 'Li')
    atoms = structure.get_ase()
    carriers = atoms.get_chemical_symbols().count(species)
    fit = diffusion[species]

    def sigma(value: float) -> float:
        return analysis.nernst_einstein(
            value,
            carriers,
            atoms.get_volume(),
            settings['temperature_K'],
            charge=settings.get('charge', 1.0),
            haven_ratio=settings.get('haven_ratio', 1.0),
        )

    measured = with_uncertainty(
        'sigma',
        'S_per_cm',
        sigma(fit['D_A2_per_ps']),
        sigma(fit['D_stderr_A2_per_ps']),
        tuple(sigma(bound) for bound in fit['D_ci95_A2_per_ps']),
    )
    return orm.Dict({**measured, 'carriers': carriers, 'haven_ratio': settings.get('haven_ratio', 1.0)})


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


@calcfunction
def compute_arrhenius_summary(structure: orm.StructureData, parameters: orm.Dict, **diffusion: orm.Dict) -> orm.Dict:
    """D(T) of one structure with uncertainties (``diffusion``: ``compute_diffusion`` results keyed by
    :func:`temperature_label`), the
    Arrhenius barrier weighted by the errors of D, and the Nernst-Einstein conductivity at
    ``conductivity_temperature`` from D on the Arrhenius line, its error propagated from the covariance of Ea and
    ln D0 (two temperatures or more). Parameters: the diffusion protocol (``species``, ``temperatures``,
    ``conductivity_temperature``, ``haven_ratio``)."""
    settings = parameters.get_dict()
    species = settings['species'][0]
    temperatures = sorted(settings['temperatures'])
    values = [diffusion[temperature_label(temperature)][species] for temperature in temperatures]
    summary: dict = {'species': species, 'temperature_K': temperatures}
    for key in ('D_A2_per_ps', 'D_stderr_A2_per_ps', 'D_ci95_A2_per_ps'):
        summary[key] = [value[key] for value in values]
    if len(temperatures) < 2:
        return orm.Dict(summary)
    fit = analysis.arrhenius_fit(temperatures, summary['D_A2_per_ps'], summary['D_stderr_A2_per_ps'])
    temperature = settings['conductivity_temperature']
    log_value, log_stderr = fit.log_diffusion(temperature)
    atoms = structure.get_ase()
    carriers = atoms.get_chemical_symbols().count(species)

    def sigma(log_diffusion: float) -> float:
        return analysis.nernst_einstein(
            np.exp(log_diffusion), carriers, atoms.get_volume(), temperature, haven_ratio=settings['haven_ratio']
        )

    interval = (log_value - analysis.diffusion.Z95 * log_stderr, log_value + analysis.diffusion.Z95 * log_stderr)
    summary |= arrhenius_entries(fit)
    summary |= {
        'conductivity_temperature_K': temperature,
        'haven_ratio': settings['haven_ratio'],
        **with_uncertainty(
            'D_extrapolated',
            'A2_per_ps',
            np.exp(log_value),
            np.exp(log_value) * log_stderr,
            tuple(np.exp(bound) for bound in interval),
        ),
        **with_uncertainty(
            'sigma',
            'S_per_cm',
            sigma(log_value),
            sigma(log_value) * log_stderr,
            tuple(sigma(bound) for bound in interval),
        ),
    }
    return orm.Dict(summary)


@calcfunction
def compute_domains(
    structure: orm.StructureData,
    fingerprint: orm.ArrayData,
    parameters: orm.Dict,
    crystal_fingerprint: orm.ArrayData | None = None,
    glass_fingerprint: orm.ArrayData | None = None,
) -> orm.Dict:
    """Crystalline domains of the P atoms of a ``compute_entropy_fingerprint`` result: ordered fraction, clusters of
    ordered P (periodic), largest cluster fraction and the axes along which it wraps the cell.

    Parameters: ``cutoff_A`` (P-P bond, 7.0) and ``threshold_kB``: a number, or ``'midpoint'`` for halfway between
    the mean fingerprints of ``crystal_fingerprint`` and ``glass_fingerprint``."""
    settings = parameters.get_dict()
    threshold = settings.get('threshold_kB', 'midpoint')
    if threshold == 'midpoint':
        if crystal_fingerprint is None or glass_fingerprint is None:
            raise analysis.AnalysisError("threshold_kB 'midpoint': give the crystal and the glass fingerprints")
        means = [node.get_array('averaged_kB').mean() for node in (crystal_fingerprint, glass_fingerprint)]
        threshold = float(np.mean(means))
    atoms = structure.get_ase()
    sites = atoms.positions[fingerprint.get_array('indices')]
    cutoff = settings.get('cutoff_A', 7.0)
    domains = analysis.crystalline_domains(
        sites, atoms.cell.array, fingerprint.get_array('averaged_kB'), threshold, cutoff
    )
    return orm.Dict(
        {
            'threshold_kB': threshold,
            'cutoff_A': cutoff,
            'sites': domains.nsites,
            'ordered_fraction': domains.ordered_fraction,
            'clusters': len(domains.clusters.sizes),
            'cluster_sizes': domains.clusters.sizes.tolist(),
            'largest_cluster_fraction': domains.largest_fraction,
            'spanning_axes': [axis for axis, spans in zip('abc', domains.largest_spans, strict=True) if spans],
        }
    )


@calcfunction
def compute_li_order(
    source: orm.Data, structure: orm.StructureData, fingerprint: orm.ArrayData, domains: orm.Dict, parameters: orm.Dict
) -> orm.Dict:
    """Mean Li displacement amplitude near ordered vs near disordered P (ordered below the ``threshold_kB`` of the
    structure's ``compute_domains`` result) and their ratio, with bootstrap uncertainties.

    Parameters: ``window_frames``, ``stride_frames`` (default the window), ``species`` ('Li'), ``reach_A`` (8.0),
    ``seed`` (0), ``type_symbols``/``format`` for files."""
    settings = parameters.get_dict()
    atoms = structure.get_ase()
    sites = atoms.positions[fingerprint.get_array('indices')]
    ordered = fingerprint.get_array('averaged_kB') < domains['threshold_kB']
    with _frames(source, settings) as frames:
        result = analysis.displacement_by_order(
            frames,
            sites,
            ordered,
            settings['window_frames'],
            species=settings.get('species', 'Li'),
            stride=settings.get('stride_frames'),
            reach=settings.get('reach_A', 8.0),
            seed=settings.get('seed', 0),
        )
    values = {'near_ordered': result.near_ordered, 'near_disordered': result.near_disordered, 'ratio': result.ratio}
    entries: dict = {'samples_near_ordered': result.samples[0], 'samples_near_disordered': result.samples[1]}
    for name, value in values.items():
        unit = '' if name == 'ratio' else 'A'
        entries |= with_uncertainty(name, unit, value, result.stderr[name], result.interval[name])
    return orm.Dict({key: _finite_or_none(value) for key, value in entries.items()})
