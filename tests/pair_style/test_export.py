"""``aiida-glassceramic potential export --format lammps``: the pair-style file of a potential node."""

from __future__ import annotations

from click.testing import CliRunner

from aiida_glassceramic.cli import main
from aiida_glassceramic.data import NNPotentialData
from aiida_glassceramic.potentials.io import save_potential
from aiida_glassceramic.potentials.pair_style_file import pair_style_lines


def test_export_pair_style_file(aiida_profile, potential_files, tmp_path):
    model, _ = potential_files['poly2']
    node = NNPotentialData(save_potential(model, tmp_path / 'potential.pt')).store()
    target = tmp_path / 'exported'
    result = CliRunner().invoke(
        main, ['potential', 'export', str(node.pk), str(target), '--format', 'lammps', '--profile', aiida_profile.name]
    )
    assert result.exit_code == 0, result.output
    assert target.read_text().splitlines() == pair_style_lines(model)
    assert not node.has_feature_ranges  # the test model records none
    assert node.export_pair_style(tmp_path).name == 'potential.glassceramic'
