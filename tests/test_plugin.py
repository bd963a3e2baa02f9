"""The package is an installed AiiDA plugin: its entry points are visible to ``verdi``."""

import subprocess
import sys
from pathlib import Path

import pytest

VERDI = Path(sys.executable).parent / 'verdi'


@pytest.mark.parametrize(
    ('group', 'name'),
    [
        ('aiida.calculations', 'glassceramic.structures.supercell'),
        ('aiida.workflows', 'glassceramic.reference_data'),
        ('aiida.data', 'glassceramic.training_set'),
        ('aiida.data', 'glassceramic.potential'),
    ],
)
def test_verdi_plugin_list(group, name):
    output = subprocess.run([VERDI, 'plugin', 'list', group], capture_output=True, text=True, check=True).stdout
    assert name in output


def test_entry_points_load():
    from importlib.metadata import entry_points

    ours = [
        ep
        for group in ('aiida.data', 'aiida.calculations', 'aiida.parsers', 'aiida.workflows')
        for ep in entry_points(group=group)
        if ep.name.startswith('glassceramic.')
    ]
    assert ours
    for entry_point in ours:
        entry_point.load()
