"""Building and loading the plugin."""

from __future__ import annotations

import subprocess

import pytest

from aiida_glassceramic.potentials import lammps_plugin

from .lammps_run import BIN


def test_no_compiler_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv('GLASSCERAMIC_PLUGIN_DIR', str(tmp_path))
    monkeypatch.setenv('CXX', 'no-such-compiler')
    with pytest.raises(lammps_plugin.PluginBuildError, match=r'no C\+\+ compiler .* glassceramic-lmp'):
        lammps_plugin.ensure_plugin()
    assert not (tmp_path / lammps_plugin.PLUGIN_NAME).exists()


def test_up_to_date_plugin_is_not_rebuilt(plugin, monkeypatch):
    monkeypatch.setenv('CXX', 'no-such-compiler')  # a rebuild would fail
    assert lammps_plugin.ensure_plugin() == plugin


def test_plugin_load_command(plugin, tmp_path, monkeypatch):
    """A user's own script loads the plugin with `plugin load` (no LAMMPS_PLUGIN_PATH)."""
    monkeypatch.delenv('LAMMPS_PLUGIN_PATH', raising=False)
    (tmp_path / 'in.lmp').write_text(f'plugin load {plugin}\npair_style glassceramic\n')
    completed = subprocess.run(
        [str(BIN / 'lmp'), '-in', 'in.lmp', '-log', 'none'], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert 'Loading plugin: glassceramic' in completed.stdout


def test_unwritable_folder_is_a_clear_error(monkeypatch, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    monkeypatch.setenv('GLASSCERAMIC_PLUGIN_DIR', str(blocker / 'plugins'))
    with pytest.raises(lammps_plugin.PluginBuildError, match='GLASSCERAMIC_PLUGIN_DIR'):
        lammps_plugin.ensure_plugin()
