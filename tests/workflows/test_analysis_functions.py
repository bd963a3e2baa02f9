"""The analysis calcfunctions give physical results with units and record their provenance."""

import io

import numpy as np
import pytest
from aiida import orm
from scipy import constants

from aiida_glassceramic.analysis import AnalysisError
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows import analysis_functions as functions


@pytest.fixture
def beta_node(aiida_profile):
    return orm.StructureData(ase=read_crystal('beta').repeat((2, 2, 2)))


def test_pair_distribution_and_speciation(beta_node):
    rdf, node = functions.compute_pair_distribution.run_get_node(beta_node, orm.Dict({'rmax_A': 6.0, 'nbins': 60}))
    assert node.is_finished_ok
    r, p_s = rdf.get_array('r_A'), rdf.get_array('g_P_S')
    assert 1.95 < r[np.argmax(p_s > 0)] < 2.15
    counts = functions.compute_speciation(beta_node, orm.Dict({}))
    assert counts['PS4'] == 32 and counts['other'] == 0


def test_xrd_and_fingerprint(beta_node):
    result = functions.compute_xrd(beta_node, orm.Dict({'step_deg': 0.02}))
    assert result['crystallinity']['crystallinity'] > 0.8
    assert result['pattern'].get_array('intensity').max() == pytest.approx(100.0)
    fingerprint = functions.compute_entropy_fingerprint(beta_node, orm.Dict({'threshold_kB': -3.0}))
    assert fingerprint['summary']['natoms'] == 32
    assert fingerprint['summary']['crystalline_fraction'] == 1.0


def random_walk(diffusion=0.05, dt=0.01, nframes=600, natoms=200):
    """A TrajectoryData of Li walkers in a 30 A box (positions wrapped, so unwrapping is exercised)."""
    rng = np.random.default_rng(5)
    positions = np.cumsum(rng.normal(scale=np.sqrt(2 * diffusion * dt), size=(nframes, natoms, 3)), axis=0) % 30.0
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(
        ['Li'] * natoms, positions, cells=np.tile(np.eye(3) * 30.0, (nframes, 1, 1)), pbc=(True, True, True)
    )
    return trajectory


def test_diffusion_and_conductivity_with_uncertainty(aiida_profile):
    parameters = {'frame_interval_ps': 0.01, 'species': ['Li'], 'fit_window_ps': [0.5, 2.99], 'npoints': 40}
    result = functions.compute_diffusion(random_walk(nframes=300), orm.Dict(parameters))
    fit = result['diffusion']['Li']
    assert fit['D_A2_per_ps'] == pytest.approx(0.05, rel=0.1)
    assert fit['natoms'] == 200
    low, high = fit['D_ci95_A2_per_ps']
    assert low < fit['D_A2_per_ps'] < high and 0 < fit['D_stderr_A2_per_ps'] < 0.1 * fit['D_A2_per_ps']
    assert fit['D_cm2_per_s'] == pytest.approx(fit['D_A2_per_ps'] * 1e-4)
    assert fit['D_stderr_cm2_per_s'] == pytest.approx(fit['D_stderr_A2_per_ps'] * 1e-4)
    box = orm.StructureData(cell=np.eye(3) * 30.0)
    for index in range(200):
        box.append_atom(position=(0.1 * index, 0, 0), symbols='Li')
    sigma = functions.compute_conductivity(box, result['diffusion'], orm.Dict({'temperature_K': 300.0}))
    per_d = 200 / 27_000e-30 * constants.e**2 * 1e-8 / (constants.k * 300.0) / 100.0  # S/cm per A^2/ps
    assert sigma['sigma_S_per_cm'] == pytest.approx(per_d * fit['D_A2_per_ps'], rel=1e-9)
    assert sigma['sigma_stderr_S_per_cm'] == pytest.approx(per_d * fit['D_stderr_A2_per_ps'], rel=1e-9)
    assert sigma['sigma_ci95_S_per_cm'] == pytest.approx([per_d * low, per_d * high], rel=1e-9)


def test_fit_window_beyond_trajectory_fails(aiida_profile):
    with pytest.raises(AnalysisError, match='fit window'):
        functions.compute_diffusion(random_walk(nframes=50), orm.Dict({'frame_interval_ps': 0.01}))


def test_arrhenius(aiida_profile):
    kelvin_in_ev = constants.k / constants.e
    temperatures = [400.0, 500.0, 600.0]
    diffusion = [3.0 * np.exp(-0.25 / (kelvin_in_ev * t)) for t in temperatures]
    result = functions.compute_arrhenius(orm.Dict({'temperature_K': temperatures, 'D_A2_per_ps': diffusion}))
    assert result['Ea_eV'] == pytest.approx(0.25, rel=1e-9)
    weighted = functions.compute_arrhenius(
        orm.Dict(
            {
                'temperature_K': temperatures[:2],
                'D_A2_per_ps': diffusion[:2],
                'D_stderr_A2_per_ps': [0.1 * value for value in diffusion[:2]],
            }
        )
    )
    # two points with 10 % errors: sigma(Ea) = k sqrt(0.1^2 + 0.1^2) / (1/400 - 1/500)
    expected = kelvin_in_ev * np.sqrt(0.02) / (1 / 400 - 1 / 500)
    assert weighted['Ea_stderr_eV'] == pytest.approx(expected, rel=1e-9)
    assert weighted['Ea_ci95_eV'] == pytest.approx([0.25 - 1.96 * expected, 0.25 + 1.96 * expected], rel=1e-3)
    assert weighted['chi2_per_dof'] is None


def lammps_dump_text(nframes=40, dt_ps=0.005, nu=8.0):
    """A LAMMPS dump of Einstein oscillators (Li), velocities in A/ps."""
    rng = np.random.default_rng(2)
    phase = rng.uniform(0, 2 * np.pi, size=(10, 3))
    lines = []
    for step in range(nframes):
        t = step * dt_ps
        x = 5.0 + 0.1 * np.cos(2 * np.pi * nu * t + phase)
        v = -0.1 * 2 * np.pi * nu * np.sin(2 * np.pi * nu * t + phase)
        lines += ['ITEM: TIMESTEP', str(step), 'ITEM: NUMBER OF ATOMS', '10', 'ITEM: BOX BOUNDS pp pp pp']
        lines += ['0 10', '0 10', '0 10', 'ITEM: ATOMS id type x y z vx vy vz']
        lines += [' '.join(map(str, [i + 1, 1, *x[i], *v[i]])) for i in range(10)]
    return '\n'.join(lines) + '\n'


def test_vdos_and_displacement_map_from_a_dump_file(aiida_profile):
    dump = orm.SinglefileData(io.BytesIO(lammps_dump_text(nframes=400).encode()), filename='md.dump')
    parameters = {'frame_interval_ps': 0.005, 'groups': {'Li': ['Li']}, 'type_symbols': ['Li']}
    result = functions.compute_vdos(dump, orm.Dict(parameters))
    frequency = result['vdos'].get_array('frequency_THz')
    assert frequency[np.argmax(result['vdos'].get_array('dos_Li_per_THz'))] == pytest.approx(8.0, abs=frequency[1])
    assert result['band_centre']['Li']['meV'] == pytest.approx(8.0 * 4.1357, rel=0.03)
    amplitude = functions.compute_displacement_map(
        dump, orm.Dict({'window_frames': 10, 'bins': [2, 2, 2], 'type_symbols': ['Li']})
    )
    assert np.nanmax(amplitude.get_array('mean_amplitude_A')) < 2 * 0.1 * np.sqrt(3)
    assert amplitude.get_array('counts').sum() == 10 * 39


def test_domains_of_the_crystal_and_of_a_shaken_cell(beta_node):
    """The beta supercell: every P ordered, one cluster that wraps a, b and c. With half of the P shaken, the midpoint
    threshold between the two mean fingerprints marks as ordered exactly the P below it."""
    settings = orm.Dict({'cutoff_A': 6.0, 'average_cutoff_A': 5.0})
    crystal = functions.compute_entropy_fingerprint(beta_node, settings)['fingerprint']
    atoms = beta_node.get_ase()
    half = (atoms.get_scaled_positions()[:, 0] >= 0.5) & (np.array(atoms.get_chemical_symbols()) == 'P')
    atoms.positions[half] += np.random.default_rng(0).normal(scale=1.0, size=(half.sum(), 3))
    shaken = orm.StructureData(ase=atoms)
    glass = functions.compute_entropy_fingerprint(shaken, settings)['fingerprint']
    midpoint = orm.Dict({'threshold_kB': 'midpoint', 'cutoff_A': 7.0})
    ordered = functions.compute_domains(beta_node, crystal, midpoint, crystal, glass)
    assert ordered['ordered_fraction'] == 1.0 and ordered['clusters'] == 1
    assert ordered['largest_cluster_fraction'] == 1.0 and ordered['spanning_axes'] == ['a', 'b', 'c']
    values = glass.get_array('averaged_kB')
    threshold = (crystal.get_array('averaged_kB').mean() + values.mean()) / 2
    assert ordered['threshold_kB'] == pytest.approx(threshold)
    partial = functions.compute_domains(shaken, glass, orm.Dict({'threshold_kB': threshold, 'cutoff_A': 7.0}))
    assert partial['ordered_fraction'] == pytest.approx(np.mean(values < threshold))
    assert sum(partial['cluster_sizes']) == np.sum(values < threshold)
    with pytest.raises(AnalysisError, match='midpoint'):
        functions.compute_domains(shaken, glass, midpoint)


def test_li_order_of_a_trajectory(beta_node):
    """Li of the beta supercell: those whose nearest P (by hand) is ordered jump by 1 A and back, the others by
    0.25 A; windows start from the frames at home."""
    atoms = beta_node.get_ase()
    fingerprint = functions.compute_entropy_fingerprint(
        beta_node, orm.Dict({'cutoff_A': 6.0, 'average_cutoff_A': 5.0})
    )['fingerprint']
    p_index = fingerprint.get_array('indices')
    ordered_p = atoms.positions[p_index][:, 0] < atoms.cell[0, 0] / 2  # call the P of one half ordered
    values = np.where(ordered_p, -10.0, 10.0)
    flags = orm.ArrayData()
    flags.set_array('indices', p_index)
    flags.set_array('averaged_kB', values)
    domains = orm.Dict({'threshold_kB': 0.0})
    lithium = np.flatnonzero(np.array(atoms.get_chemical_symbols()) == 'Li')
    atoms.positions[lithium] += np.random.default_rng(1).normal(scale=0.05, size=(len(lithium), 3))  # no ties
    vectors = atoms.positions[lithium][:, None, :] - atoms.positions[p_index][None, :, :]
    fractional = vectors @ np.linalg.inv(atoms.cell.array)
    vectors = (fractional - np.round(fractional)) @ atoms.cell.array
    near_ordered = ordered_p[np.argmin(np.linalg.norm(vectors, axis=2), axis=1)]
    amplitude = np.where(near_ordered, 1.0, 0.25)
    frames = []
    for index in range(6):
        positions = atoms.positions.copy()
        if index % 2:
            positions[lithium, 2] += amplitude
        frames.append(positions)
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(
        atoms.get_chemical_symbols(), np.array(frames), cells=np.tile(atoms.cell.array, (6, 1, 1)), pbc=(True,) * 3
    )
    result = functions.compute_li_order(
        trajectory, beta_node, flags, domains, orm.Dict({'window_frames': 1, 'stride_frames': 2})
    )
    assert result['near_ordered_A'] == pytest.approx(1.0) and result['near_disordered_A'] == pytest.approx(0.25)
    assert result['ratio'] == pytest.approx(4.0) and result['ratio_stderr'] == pytest.approx(0.0, abs=1e-9)
    assert result['samples_near_ordered'] == 3 * near_ordered.sum()  # windows from the frames at home: 0, 2, 4
