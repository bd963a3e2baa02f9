"""User errors of ``aiida-glassceramic``: exit code 2, one message naming the parameter, nothing half-made left."""

from __future__ import annotations

import pytest
from aiida import orm
from aiida.manage.configuration import get_config
from click.testing import CliRunner, Result
from plumpy import ProcessState

from aiida_glassceramic.cli import main


def invoke(*arguments: str) -> Result:
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


def error_line(result: Result) -> str:
    """The ``Error: ...`` line of click's output (usage lines above it name the command)."""
    lines = [line for line in result.output.splitlines() if line.startswith('Error: ')]
    assert len(lines) == 1, result.output
    return lines[0]


def workchain(label: str, state: ProcessState, exit_status: int | None = None) -> orm.WorkChainNode:
    """A stored work chain node of ``label`` in ``state`` (nothing ran)."""
    node = orm.WorkChainNode()
    node.set_process_label(label)
    node.set_process_state(state)
    if exit_status is not None:
        node.set_exit_status(exit_status)
    return node.store()


@pytest.fixture
def potential_node(aiida_profile, tmp_path) -> orm.Node:
    """A stored one-element potential with random weights."""
    from aiida_glassceramic.data import NNPotentialData
    from aiida_glassceramic.descriptors.parameters import default_parameters
    from aiida_glassceramic.potentials.io import save_potential
    from aiida_glassceramic.potentials.model import NNPotential

    model = NNPotential(default_parameters(['Li'], cutoff=3.0), hidden=(2,))
    return NNPotentialData(save_potential(model, tmp_path / 'model.pt')).store()


@pytest.mark.parametrize('name', ['bad/name', 'with space', ''])
def test_setup_refuses_a_profile_name_verdi_cannot_handle(aiida_profile, name):
    before = set(get_config().profile_names)
    result = invoke('setup', '--profile', name)
    assert result.exit_code == 2, result.output
    assert "'--profile'" in error_line(result)
    assert set(get_config().profile_names) == before


def test_report_of_a_missing_profile(aiida_profile, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke('report', '1', '--profile', 'no-such-profile')
    assert result.exit_code == 2
    assert '--profile' in error_line(result) and 'no-such-profile' in error_line(result)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ('make', 'expected'),
    [
        (
            lambda computer: orm.InstalledCode(computer, '/bin/true', label='true').store(),
            '(InstalledCode) is not a GlassCeramicWorkChain',
        ),
        (lambda _: workchain('GlassCeramicWorkChain', ProcessState.RUNNING), 'is running; wait'),
        (lambda _: workchain('GlassCeramicWorkChain', ProcessState.EXCEPTED), 'did not finish ok (excepted)'),
        (lambda _: workchain('GlassCeramicWorkChain', ProcessState.FINISHED, 402), 'exit status 402'),
        (lambda _: workchain('TrainPotentialWorkChain', ProcessState.FINISHED, 0), '(TrainPotentialWorkChain) is not'),
        (lambda _: orm.Int(3).store(), '(Int) is not a GlassCeramicWorkChain'),
    ],
)
def test_report_refuses_what_is_not_a_finished_study(aiida_localhost, tmp_path, monkeypatch, make, expected):
    monkeypatch.chdir(tmp_path)
    node = make(aiida_localhost)
    result = invoke('report', node.pk, '--profile', aiida_localhost.backend.profile.name)
    assert result.exit_code == 2, result.output
    assert 'Invalid value for PK' in error_line(result) and expected in error_line(result)
    assert not list(tmp_path.iterdir()), 'no report folder may be left behind'


def test_report_of_a_missing_pk(aiida_profile, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke('report', '987654321', '--profile', aiida_profile.name)
    assert result.exit_code == 2
    assert 'no node with PK 987654321' in error_line(result)
    assert not list(tmp_path.iterdir())


def test_report_that_fails_half_way_leaves_no_folder(aiida_profile, tmp_path):
    """A finished study without its outputs: the report fails while it is written, and nothing stays."""
    node = workchain('GlassCeramicWorkChain', ProcessState.FINISHED, 0)
    result = invoke('report', node.pk, '--profile', aiida_profile.name, '--output', tmp_path / 'report')
    assert result.exit_code != 0
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize('existing', ['file', 'full folder'])
def test_report_keeps_what_exists_at_output(aiida_profile, tmp_path, existing):
    target = tmp_path / 'report'
    if existing == 'file':
        target.write_text('mine')
    else:
        target.mkdir()
        (target / 'notes.txt').write_text('mine')
    node = workchain('GlassCeramicWorkChain', ProcessState.FINISHED, 0)
    result = invoke('report', node.pk, '--profile', aiida_profile.name, '--output', target)
    assert result.exit_code == 2
    assert 'Invalid value for --output' in error_line(result)
    assert (target if existing == 'file' else target / 'notes.txt').read_text() == 'mine'


def test_report_output_in_a_missing_folder(aiida_profile, tmp_path):
    node = workchain('GlassCeramicWorkChain', ProcessState.FINISHED, 0)
    result = invoke('report', node.pk, '--profile', aiida_profile.name, '--output', tmp_path / 'missing' / 'report')
    assert result.exit_code == 2
    assert 'Invalid value for --output' in error_line(result) and 'does not exist' in error_line(result)
    assert not (tmp_path / 'missing').exists()


def test_study_type_is_what_the_report_checks(aiida_profile):
    """The process label the report looks for is the one of the registered study work chain."""
    from aiida.plugins import WorkflowFactory

    from aiida_glassceramic.cli import STUDY

    assert WorkflowFactory('glassceramic.glassceramic').__name__ == STUDY


def test_export_to_a_missing_folder(potential_node, tmp_path):
    target = tmp_path / 'missing' / 'potential.pt'
    result = invoke('potential', 'export', potential_node.pk, target, '--profile', potential_node.backend.profile.name)
    assert result.exit_code == 2
    assert 'Invalid value for PATH' in error_line(result) and 'does not exist' in error_line(result)
    assert not (tmp_path / 'missing').exists()


@pytest.mark.parametrize('file_format', ['torch', 'lammps'])
def test_export_keeps_an_existing_file_unless_overwrite(potential_node, tmp_path, file_format):
    target = tmp_path / 'potential.file'
    target.write_text('mine')
    profile = potential_node.backend.profile.name
    arguments = ('potential', 'export', potential_node.pk, target, '--profile', profile, '--format', file_format)
    result = invoke(*arguments)
    assert result.exit_code == 2
    assert 'Invalid value for PATH' in error_line(result) and '--overwrite' in error_line(result)
    assert target.read_text() == 'mine'
    assert invoke(*arguments, '--overwrite').exit_code == 0
    assert target.read_bytes() != b'mine'


def test_export_into_a_folder_checks_the_file_it_would_write(potential_node, tmp_path):
    (tmp_path / potential_node.filename).write_text('mine')
    result = invoke(
        'potential', 'export', potential_node.pk, tmp_path, '--profile', potential_node.backend.profile.name
    )
    assert result.exit_code == 2
    assert (tmp_path / potential_node.filename).read_text() == 'mine'


def test_export_of_what_is_not_a_potential(potential_node, tmp_path):
    result = invoke('potential', 'export', potential_node.pk + 10**6, tmp_path / 'x.pt')
    assert result.exit_code == 2 and 'no node with PK' in error_line(result)
    calculation = orm.CalcJobNode()
    calculation.store()
    result = invoke('potential', 'export', calculation.pk, tmp_path / 'x.pt')
    assert result.exit_code == 2 and '(CalcJobNode) is not a potential' in error_line(result)
    assert not (tmp_path / 'x.pt').exists()


def test_a_study_that_finished_ok_passes_the_checks(aiida_profile):
    from aiida_glassceramic.cli import load_study

    node = workchain('GlassCeramicWorkChain', ProcessState.FINISHED, 0)
    assert load_study(node.pk).pk == node.pk
