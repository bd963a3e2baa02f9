"""Every MD workflow once with the neural network potential run by the ``glassceramic-lmp`` code (a small
random-weight model, the 32-atom beta cell, a few dozen steps): as ``pair_style glassceramic`` (the default) and,
for the melt-quench, through the driver's ``fix external`` too."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_glassceramic.workflows.anneal import AnnealWorkChain
from aiida_glassceramic.workflows.diffusion import DiffusionWorkChain
from aiida_glassceramic.workflows.melt_quench import MeltQuenchWorkChain
from aiida_glassceramic.workflows.relax import RelaxWorkChain
from aiida_glassceramic.workflows.vdos import VdosWorkChain

from .conftest import ELEMENTS

pytestmark = pytest.mark.slow

FEW_STEPS = {
    'common': {'thermo_interval_steps': 5},
    'melt_quench': {
        't_melt': 400.0,
        'heating_rate_k_per_ps': 10000.0,
        'melt_hold_ps': 0.01,
        'cooling_rate_k_per_ps': 10000.0,
        'final_hold_ps': 0.01,
    },
    'anneal': {'total_ps': 0.02, 'chunk_ps': 0.01, 'snapshot_interval_ps': 0.01, 'snapshot_start_ps': 0.01},
    'relax': {'cell': None, 'maxiter': 10, 'maxeval': 100},
    'diffusion': {
        'temperatures': [300.0, 600.0],
        'time_ps': 0.02,
        'equilibration_ps': 0.0,
        'dump_interval_ps': 0.002,
        'fit_start_ps': 0.004,
        'fit_stop_ps': 0.02,
        'displacement_window_ps': 0.004,
    },
    'vdos': {'time_ps': 0.02, 'equilibration_ps': 0.0, 'dump_interval_fs': 1.0, 'segment_frames': 8},
}


@pytest.fixture(scope='module')
def model_file(tmp_path_factory) -> Path:
    """A Li-P-S network with small random weights (gentle forces) on the study's descriptor with a 4 A cut-off."""
    import torch

    from aiida_glassceramic.descriptors.parameters import default_parameters
    from aiida_glassceramic.potentials.io import save_potential
    from aiida_glassceramic.potentials.model import NNPotential

    torch.manual_seed(1)
    model = NNPotential(default_parameters(ELEMENTS, cutoff=4.0), hidden=(4,))
    with torch.no_grad():
        for network in model.networks:
            network[-1].weight.mul_(0.05)
    return save_potential(model, tmp_path_factory.mktemp('nnp') / 'potential.pt')


@pytest.fixture
def nnp(aiida_profile, model_file):
    from aiida_glassceramic.data.potential import NNPotentialData

    return NNPotentialData(model_file)


@pytest.fixture
def small_cell(aiida_profile):
    from aiida_glassceramic.structures import bundled_cif, read_crystal

    return orm.StructureData(ase=read_crystal(bundled_cif('beta')))


def run_workflow(workflow, code, structure, potential, *, engine: str = 'pair_style', options: dict | None = None):
    """The outputs and node of ``workflow`` run with the demo protocol, few steps, the potential run by ``engine``."""
    common = {**FEW_STEPS['common'], 'potential_engine': engine, **({'options': options} if options else {})}
    overrides = {**FEW_STEPS, 'common': common}
    builder = workflow.get_builder_from_protocol(
        code, structure, potential=potential, protocol='demo', overrides=overrides
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    marker = 'pair_style glassceramic' if engine == 'pair_style' else 'external pf/callback'
    scripts = [n.inputs.script.get_content() for n in node.called_descendants if isinstance(n, orm.CalcJobNode)]
    assert scripts and all(marker in script for script in scripts)
    return results, node


def launch(workflow, code, structure, potential, *, engine: str = 'pair_style'):
    return run_workflow(workflow, code, structure, potential, engine=engine)[0]


def test_melt_quench_and_anneal_with_nnp(nnp_code, small_cell, nnp, model_file):
    from aiida_glassceramic.potentials.io import load_potential

    glass = launch(MeltQuenchWorkChain, nnp_code, small_cell, nnp)
    atoms = glass['structure'].get_ase()
    energy, _, _ = load_potential(model_file).compute(atoms.numbers, atoms.positions, atoms.cell[:])
    # LAMMPS' potential energy through the driver equals the model's energy of the final structure
    assert np.isclose(glass['thermo'].get_array('pe')[-1], energy, rtol=1e-8, atol=1e-8)
    assert glass['thermo'].get_array('step')[-1] == 40

    # on two MPI ranks (the mpich wheel's mpirun) the same trajectory
    two_ranks = {
        'withmpi': True,
        'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 2},
        'prepend_text': f'export PATH={Path(sys.executable).parent}:$PATH',
    }
    parallel, node = run_workflow(MeltQuenchWorkChain, nnp_code, small_cell, nnp, options=two_ranks)
    assert np.abs(parallel['structure'].get_ase().positions - atoms.positions).max() < 1e-8
    (calculation,) = [n for n in node.called_descendants if isinstance(n, orm.CalcJobNode)]
    assert ' on 2 procs for ' in calculation.outputs.retrieved.get_object_content('lammps.out')  # LAMMPS' loop time

    # the fix external driver, the fallback, follows the same trajectory
    driven = launch(MeltQuenchWorkChain, nnp_code, small_cell, nnp, engine='fix_external')
    assert np.abs(driven['structure'].get_ase().positions - atoms.positions).max() < 1e-8

    annealed = launch(AnnealWorkChain, nnp_code, glass['structure'], nnp)
    assert sorted(annealed['snapshots']) == ['fs_000000000010', 'fs_000000000020']
    assert list(annealed['thermo'].get_array('step')) == list(range(0, 21, 5))


def test_relax_diffusion_vdos_with_nnp(nnp_code, small_cell, nnp, model_file):
    from aiida_glassceramic.potentials.io import load_potential

    start = small_cell.get_ase()
    start.rattle(0.1, seed=3)
    relaxed = launch(RelaxWorkChain, nnp_code, orm.StructureData(ase=start), nnp)['structures']['structure'].get_ase()
    model = load_potential(model_file)
    before = model.compute(start.numbers, start.positions, start.cell[:])
    after = model.compute(relaxed.numbers, relaxed.positions, relaxed.cell[:])
    assert after[0] < before[0]
    assert np.abs(after[1]).max() < np.abs(before[1]).max()

    diffusion = launch(DiffusionWorkChain, nnp_code, small_cell, nnp)
    assert len(diffusion['msd']['structure_T300'].get_array('time_ps')) == 11
    assert 'Ea_eV' in diffusion['summary']['structure'].get_dict()

    vdos = launch(VdosWorkChain, nnp_code, small_cell, nnp)
    assert np.isclose(vdos['vdos']['structure'].get_array('frequency_THz')[-1], 500.0)  # 1 fs sampling
