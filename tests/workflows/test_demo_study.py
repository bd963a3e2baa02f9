"""The demo study on CHGNet labels, its MD cut down where the structures do not depend on it (a 1-ps anneal, short
diffusion and VDOS runs): the crystal and the glass it gives are checked as chemistry, measured on the outputs."""

from __future__ import annotations

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_glassceramic.analysis import shortest_pairs, sulfur_per_phosphorus
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.glassceramic import GlassCeramicWorkChain

SHORTER_MD = {
    'md': {
        'anneal': {'total_ps': 1.0, 'chunk_ps': 1.0, 'snapshot_interval_ps': 1.0, 'snapshot_start_ps': 1.0},
        'diffusion': {'time_ps': 2.0, 'equilibration_ps': 0.2, 'fit_start_ps': 0.5, 'fit_stop_ps': 2.0},
        'vdos': {'time_ps': 0.2, 'equilibration_ps': 0.05, 'segment_frames': 16},
    }
}


@pytest.mark.demo
def test_demo_study_gives_a_glass_of_ps4_units_and_a_crystal_that_stays(package_code):
    """The glass and the crystal are checked strictly. Beta staying crystalline at 600 K, with Li faster in the glass,
    is expected to fail while the reference is CHGNet: CHGNet's own MD of the same 192-atom cell at 600 K (at its
    relaxed volume, Langevin, 1 fs) takes the XRD crystallinity from 0.82 to 0.49, 0.31, 0.19 and 0.19 after 1, 2, 3
    and 4 ps (P 0.7 A and S 1.0 A rms from their sites), and Li in beta diffuses at 0.4-0.7 A^2/ps."""
    codes = {
        'reference': package_code('glassceramic-chgnet'),
        'train': package_code('glassceramic-train'),
        'lammps': package_code('glassceramic-lmp'),
    }
    crystal = orm.StructureData(ase=read_crystal('beta'))
    builder = GlassCeramicWorkChain.get_builder_from_protocol(codes, crystal, protocol='demo', overrides=SHORTER_MD)
    node = run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    assert_chemistry(node)
    outputs = node.outputs
    after = outputs.crystallinity_after['crystal_T600']['crystallinity']
    d_at = {key: dict(zip(n['temperature_K'], n['D_A2_per_ps'], strict=True)) for key, n in outputs.diffusion.items()}
    glass, beta = d_at['glass'][600.0], d_at['crystal'][600.0]
    if after <= 0.8 or glass <= beta:
        pytest.xfail(
            f'beta at 600 K under the CHGNet-trained potential: XRD crystallinity {after:.2f} after its diffusion run '
            '(last frame relaxed), '
            f'D(Li) {beta:.3g} A^2/ps against {glass:.3g} in the glass; CHGNet itself disorders beta at 600 K'
        )


def assert_chemistry(node: orm.WorkflowNode) -> None:
    """The structural facts of a physical crystal and glass, from the outputs of a finished demo study."""
    outputs = node.outputs
    beta, glass = outputs.crystal_supercell.get_ase(), outputs.glass.get_ase()
    assert len(beta) >= 192
    structures = {'crystal': beta, 'glass': glass, **{key: s.get_ase() for key, s in outputs.snapshots.items()}}

    assert set(sulfur_per_phosphorus(glass).tolist()) <= {3, 4}, 'every P of the glass has 3 or 4 S within 2.5 A'
    distribution = outputs.pair_distribution['glass']
    r, g = distribution.get_array('r_A'), distribution.get_array('g_P_S')
    assert abs(r[np.argmax(np.where(r < 3.0, g, 0.0))] - 2.05) <= 0.10, 'first P-S peak of the glass'
    for key, atoms in structures.items():
        assert min(shortest_pairs(atoms, 3.0).values()) >= 1.7, f'{key}: no pair closer than 1.7 A'
    assert abs(len(glass) / glass.get_volume() / (len(beta) / beta.get_volume()) - 1) <= 0.10, 'glass density'

    assert outputs.crystallinity['crystal']['crystallinity'] > 0.8
    assert outputs.crystallinity['glass']['crystallinity'] < 0.1
