"""Bad input at every public entry point of the package: a message naming the field and the fix, before anything is
stored or submitted. Each case is a row of the table in docs/operations.md (checked here too)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase import Atoms
from ase.build import bulk
from click.testing import CliRunner

from aiida_glassceramic.cli import main
from aiida_glassceramic.data import TrainingSetData
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.anneal import AnnealWorkChain
from aiida_glassceramic.workflows.diffusion import DiffusionWorkChain
from aiida_glassceramic.workflows.glassceramic import GlassCeramicWorkChain
from aiida_glassceramic.workflows.input_checks import InputValidationError
from aiida_glassceramic.workflows.melt_quench import MeltQuenchWorkChain
from aiida_glassceramic.workflows.reference_data import ReferenceDataWorkChain
from aiida_glassceramic.workflows.train import TrainPotentialWorkChain
from tests.calculations.lj_training_set import lj_training_set

OPERATIONS = Path(__file__).parent.parent / 'docs' / 'operations.md'
STUDY = {'reference_engine': 'tblite', 'stages': {'reference_data': 'demo', 'train': 'demo', 'md': 'demo'}}
CLASSICAL = {'elements': ['Li', 'P', 'S'], 'commands': ['pair_style zero 5.0', 'pair_coeff * *']}


@dataclass(frozen=True)
class Case:
    """One bad input: ``call(env)`` must raise with a message matching ``message`` (a regular expression)."""

    entry_point: str
    bad_input: str
    call: Callable
    message: str


def beta() -> orm.StructureData:
    return orm.StructureData(ase=read_crystal('beta'))


def structure(change: Callable[[Atoms], Atoms | None]) -> orm.StructureData:
    atoms = read_crystal('beta')
    return orm.StructureData(ase=change(atoms) or atoms)


def nan_position(atoms: Atoms) -> None:
    atoms.positions[3] = np.nan


def no_pbc(atoms: Atoms) -> None:
    atoms.pbc = (True, True, False)


def study(env, overrides=None, **kwargs):
    return GlassCeramicWorkChain.get_builder_from_protocol(
        env['codes'], kwargs.pop('crystal', None) or beta(), 'demo', {**STUDY, **(overrides or {})}, **kwargs
    )


def md(process, overrides=None, potential=CLASSICAL, make_structure=beta):
    def call(env):
        return process.get_builder_from_protocol(
            env['codes']['lammps'], make_structure(), 'demo', overrides, potential=orm.Dict(potential)
        )

    return call


def launch_edited(make_builder, edit):
    """A builder changed after ``get_builder_from_protocol``: the process validator refuses the launch."""

    def call(env):
        builder = make_builder(env)
        edit(builder)
        run_get_node(builder)

    return call


def set_list(name, values):
    def edit(builder):
        builder[name] = orm.List(values)

    return edit


def set_md_parameter(stage, key, value):
    def edit(builder):
        namespace = builder[stage] if stage else builder
        namespace.parameters = orm.Dict({**namespace.parameters.get_dict(), key: value})

    return edit


CASES = {
    # the whole study
    'study-foreign-crystal': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'a NaCl crystal (reference crystals: Li3PS4)',
        lambda env: study(env, crystal=orm.StructureData(ase=bulk('NaCl', 'rocksalt', a=5.64))),
        r"`crystal` holds \['Cl', 'Na'\], which the reference crystals .* do not cover",
    ),
    'study-supercell-zero': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`supercell: [0, 2, 2]`',
        lambda env: study(env, {'supercell': [0, 2, 2]}),
        r'`supercell\.0` = 0: Input should be greater than 0',
    ),
    'study-supercell-two': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`supercell: [2, 2]`',
        lambda env: study(env, {'supercell': [2, 2]}),
        r'`supercell` = \[2, 2\]: List should have at least 3 items',
    ),
    'study-chunk-zero': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        "`overrides['md']['anneal']['chunk_ps'] = 0`",
        lambda env: study(env, {'md': {'anneal': {'chunk_ps': 0}}}),
        r'`md\.anneal\.chunk_ps` = 0: Input should be greater than 0',
    ),
    'study-negative-temperature': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`md.diffusion.temperatures: [-300]`',
        lambda env: study(env, {'md': {'diffusion': {'temperatures': [-300.0]}}}),
        r'`md\.diffusion\.temperatures\.0` = -300\.0: Input should be greater than 0',
    ),
    'study-snapshots-after-end': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`md.anneal.snapshot_start_ps` beyond the end of the anneal',
        lambda env: study(env, {'md': {'anneal': {'snapshot_start_ps': 50.0}}}),
        r'`md\.anneal`: snapshots from 50\.0 ps .* fall after the end',
    ),
    'study-negative-timestep': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`md.common.timestep_fs: -1`',
        lambda env: study(env, {'md': {'common': {'timestep_fs': -1.0}}}),
        r'`md\.common\.timestep_fs` = -1\.0: Input should be greater than 0',
    ),
    'study-zero-timestep': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`md.common.timestep_fs: 0`',
        lambda env: study(env, {'md': {'common': {'timestep_fs': 0}}}),
        r'`md\.common\.timestep_fs` = 0: Input should be greater than 0',
    ),
    'study-temperature-text': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'a temperature given as the text "600"',
        lambda env: study(env, {'md': {'anneal': {'temperature': '600'}}}),
        r"`md\.anneal\.temperature` = '600': Input should be a valid number",
    ),
    'study-misplaced-stage': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'a top-level `aneal`',
        lambda env: study(env, {'aneal': {'temperature': 700.0}}),
        r'`aneal`: unknown key; the MD settings go under `md`, e.g. `md\.anneal`',
    ),
    'study-typo': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`md.anneal.temprature`',
        lambda env: study(env, {'md': {'anneal': {'temprature': 700.0}}}),
        r'`md\.anneal\.temprature`: unknown key; did you mean `temperature`\?',
    ),
    'study-relax-cell': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`md.relax.cell: xyz`',
        lambda env: study(env, {'md': {'relax': {'cell': 'xyz'}}}),
        r"`md\.relax\.cell` = 'xyz': Input should be 'iso', 'aniso' or 'tri'",
    ),
    'study-fit-window': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'an MSD fit window beyond the diffusion run',
        lambda env: study(env, {'md': {'diffusion': {'fit_stop_ps': 20.0}}}),
        r'`md\.diffusion`: fit window 0\.2-20\.0 ps: need fit_start_ps < fit_stop_ps <= time_ps',
    ),
    'study-vdos-segment': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'a VDOS segment longer than the run',
        lambda env: study(env, {'md': {'vdos': {'segment_frames': 4096}}}),
        r'`md\.vdos`: segment_frames = 4096 exceeds the 100 frames of the run',
    ),
    'study-reference-no-temperatures': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`reference_data.conditions.temperatures: []`',
        lambda env: study(env, {'reference_data': {'conditions': {'temperatures': []}}}),
        r'`reference_data\.conditions\.temperatures` = \[\]: List should have at least 1 item',
    ),
    'study-reference-steps': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`reference_data.md.steps: 2.7`',
        lambda env: study(env, {'reference_data': {'md': {'steps': 2.7}}}),
        r'`reference_data\.md\.steps` = 2\.7: Input should be a valid integer',
    ),
    'study-learning-rate': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`train.train.parameters.learning_rate: -1`',
        lambda env: study(env, {'train': {'train': {'parameters': {'learning_rate': -1.0}}}}),
        r'`train\.train\.parameters`: `learning_rate` is -1\.0; give a positive number',
    ),
    'study-dynamics-snapshots': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        "`dynamics_snapshots: 'first'`",
        lambda env: study(env, {'dynamics_snapshots': 'first'}),
        r"`dynamics_snapshots` = 'first': Input should be 'all' or 'last'",
    ),
    'study-xrd-range': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'an XRD range from 60 down to 10 degrees',
        lambda env: study(env, {'analysis': {'xrd': {'two_theta_range_deg': [60.0, 10.0]}}}),
        r'`analysis\.xrd`: two_theta_range_deg = \[60\.0, 10\.0\]: need 0 < low < high < 180',
    ),
    'study-unknown-protocol': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        "`protocol='nonsense'`",
        lambda env: GlassCeramicWorkChain.get_builder_from_protocol(env['codes'], beta(), 'nonsense'),
        r"protocol `nonsense` of glassceramic\.yaml: unknown; choose one of \['demo', 'fast', 'paper'\]",
    ),
    'study-missing-code': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'no `lammps` code',
        lambda env: study({'codes': {key: env['codes'][key] for key in ('reference', 'train')}}),
        r'`codes`: give the `lammps` code, or the node its stage would make',
    ),
    'study-wrong-code': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'the training code given as `codes.lammps`',
        lambda env: study({'codes': {**env['codes'], 'lammps': env['codes']['train']}}),
        r'`codes\.lammps`: code `.*` runs `glassceramic\.train` calculations, not \[\'lammps\.raw\'\]',
    ),
    'study-unknown-code': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'a code label that does not exist',
        lambda env: study({'codes': {**env['codes'], 'train': 'no-such-code@localhost'}}),
        r'`codes\.train`: no code `no-such-code@localhost`',
    ),
    'study-options-stage': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        '`options={"lamps": ...}`',
        lambda env: study(env, options={'lamps': {'max_wallclock_seconds': 60}}),
        r'`options\.lamps`: unknown stage; give options of reference, train, lammps',
    ),
    'study-nan-positions': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'NaN positions',
        lambda env: study(env, crystal=structure(nan_position)),
        r'`crystal`: positions or cell hold NaN or infinite numbers',
    ),
    'study-not-periodic': Case(
        'GlassCeramicWorkChain.get_builder_from_protocol',
        'a crystal not periodic along c',
        lambda env: study(env, crystal=structure(no_pbc)),
        r'`crystal`: periodic along \[True, True, False\]; the MD needs a cell periodic along a, b and c',
    ),
    'study-validator-supercell': Case(
        'GlassCeramicWorkChain (process validator)',
        'a builder whose `supercell` is changed to [1, 1] afterwards',
        launch_edited(study, set_list('supercell', [1, 1])),
        r'`supercell` = \[1, 1\]: List should have at least 3 items',
    ),
    'study-validator-anneal': Case(
        'GlassCeramicWorkChain (process validator)',
        "a builder whose `anneal.parameters['temperature']` is changed to -5 afterwards",
        launch_edited(study, set_md_parameter('anneal', 'temperature', -5.0)),
        r"port 'inputs\.anneal': `parameters\.temperature` = -5\.0: Input should be greater than 0",
    ),
    # single MD stages
    'md-unknown-element': Case(
        'AnnealWorkChain.get_builder_from_protocol',
        'a potential without P and S for Li3PS4',
        md(AnnealWorkChain, potential={'elements': ['Li'], 'commands': ['pair_style zero 5.0', 'pair_coeff * *']}),
        r"`structure` holds \['P', 'S'\], which the potential \(elements \['Li'\]\) does not cover",
    ),
    'md-classical-without-commands': Case(
        'MeltQuenchWorkChain.get_builder_from_protocol',
        'a classical potential Dict without `commands`',
        md(MeltQuenchWorkChain, potential={'elements': ['Li', 'P', 'S']}),
        r'`potential`: a classical potential is a Dict with `elements` .* and `commands`',
    ),
    'md-timestep-zero': Case(
        'MeltQuenchWorkChain.get_builder_from_protocol',
        '`common.timestep_fs: 0`',
        md(MeltQuenchWorkChain, {'common': {'timestep_fs': 0}}),
        r'`common\.timestep_fs` = 0: Input should be greater than 0',
    ),
    'md-remedy': Case(
        'AnnealWorkChain.get_builder_from_protocol',
        '`common.timestep_remedy: 0.3` (not 1/k)',
        md(AnnealWorkChain, {'common': {'timestep_remedy': 0.3}}),
        r'`common\.timestep_remedy` = 0\.3: give 1/k for a whole k',
    ),
    'md-melt-below': Case(
        'MeltQuenchWorkChain.get_builder_from_protocol',
        'a melt temperature below the start temperature',
        md(MeltQuenchWorkChain, {'melt_quench': {'t_melt': 200.0}}),
        r'`melt_quench`: t_melt = 200\.0 K must be above t_initial and t_final',
    ),
    'md-not-periodic': Case(
        'DiffusionWorkChain.get_builder_from_protocol',
        'a structure not periodic along c',
        md(DiffusionWorkChain, make_structure=lambda: structure(no_pbc)),
        r'`structures\.structure`: periodic along \[True, True, False\]',
    ),
    'md-validator-timestep': Case(
        'AnnealWorkChain (process validator)',
        "a builder whose `parameters['timestep_fs']` is changed to -1 afterwards",
        launch_edited(md(AnnealWorkChain), set_md_parameter(None, 'timestep_fs', -1.0)),
        r'`parameters\.timestep_fs` = -1\.0: Input should be greater than 0',
    ),
    'md-validator-unknown-key': Case(
        'AnnealWorkChain (process validator)',
        'a builder given an unknown parameter `temprature`',
        launch_edited(md(AnnealWorkChain), set_md_parameter(None, 'temprature', 700.0)),
        r'`parameters\.temprature`: unknown key; did you mean `temperature`\?',
    ),
    # training and reference stages alone
    'train-unknown-key': Case(
        'TrainPotentialWorkChain.get_builder_from_protocol',
        '`train.parameters.epoch` (for epochs)',
        lambda env: TrainPotentialWorkChain.get_builder_from_protocol(
            env['codes']['train'], None, 'demo', {'train': {'parameters': {'epoch': 5}}}
        ),
        r'`train\.parameters\.epoch`: unknown key; did you mean `epochs`\?',
    ),
    'train-rmse-bound': Case(
        'TrainPotentialWorkChain.get_builder_from_protocol',
        '`train.max_test_rmse.energy: 5` (unknown quantity)',
        lambda env: TrainPotentialWorkChain.get_builder_from_protocol(
            env['codes']['train'], None, 'demo', {'train': {'max_test_rmse': {'energy': 5.0}}}
        ),
        r"`train\.max_test_rmse\.energy\.\[key\]` = 'energy': Input should be 'energy_meV_per_atom' or",
    ),
    'train-empty-set': Case(
        'TrainPotentialWorkChain.get_builder_from_protocol',
        'a training set without structures',
        lambda env: TrainPotentialWorkChain.get_builder_from_protocol(
            env['codes']['train'], {'empty': TrainingSetData(), 'good': TrainingSetData(lj_training_set(3, seed=1))}
        ),
        r"training_sets: \['empty'\] hold no structure; give sets with labelled structures",
    ),
    'data-empty-training-set': Case(
        'TrainingSetData',
        'a TrainingSet of zero structures',
        lambda env: TrainingSetData(lj_training_set(2, seed=0).subset([])),
        r'training_set: holds no structure; give at least one labelled structure',
    ),
    'cli-report-code': Case(
        'aiida-glassceramic report',
        'the PK of a code',
        lambda env: command_line('report', env['codes']['train'].pk),
        r'Invalid value for PK: node \d+ \(InstalledCode\) is not a GlassCeramicWorkChain',
    ),
    'cli-export-not-a-potential': Case(
        'aiida-glassceramic potential export',
        'the PK of a code',
        lambda env: command_line('potential', 'export', env['codes']['train'].pk, 'missing/potential.pt'),
        r'Invalid value for PK: node \d+ \(InstalledCode\) is not a potential',
    ),
    'cli-setup-profile-name': Case(
        'aiida-glassceramic setup',
        "`--profile 'bad/name'`",
        lambda env: command_line('setup', '--profile', 'bad/name'),
        r"Invalid value for '--profile': Please use only alphanumeric characters, dashes, underscores or dots",
    ),
    'reference-no-lithium': Case(
        'ReferenceDataWorkChain.get_builder_from_protocol',
        'a crystal without Li',
        lambda env: ReferenceDataWorkChain.get_builder_from_protocol(
            env['codes']['reference'], {'nacl': orm.StructureData(ase=bulk('NaCl', 'rocksalt', a=5.64))}, 'demo'
        ),
        r'structures\.nacl \(\[.Cl., .Na.\]\): has no Li',
    ),
    'reference-steps-fraction': Case(
        'ReferenceDataWorkChain.get_builder_from_protocol',
        '`md.steps: 2.7`',
        lambda env: ReferenceDataWorkChain.get_builder_from_protocol(
            env['codes']['reference'], None, 'demo', {'md': {'steps': 2.7}}
        ),
        r'`md\.steps` = 2\.7: Input should be a valid integer',
    ),
    'reference-engine': Case(
        'ReferenceDataWorkChain.get_builder_from_protocol',
        "`engine='gaussian'`",
        lambda env: ReferenceDataWorkChain.get_builder_from_protocol(
            env['codes']['reference'], None, 'demo', engine='gaussian'
        ),
        r'engine `gaussian`: use one of',
    ),
}


def command_line(*arguments) -> str:
    """The one error line of ``aiida-glassceramic`` run with ``arguments`` (exit code 2: a user error)."""
    result = CliRunner().invoke(main, [str(argument) for argument in arguments])
    assert result.exit_code == 2, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith('Error: ')]
    return line


@pytest.fixture
def env(tblite_code, train_code, nnp_code):
    return {'codes': {'reference': tblite_code, 'train': train_code, 'lammps': nnp_code}}


def count(cls=orm.Node) -> int:
    return orm.QueryBuilder().append(cls).count()


@pytest.mark.parametrize('name', list(CASES))
def test_bad_input_is_refused_naming_the_field_with_nothing_stored(env, name):
    case = CASES[name]
    nodes, jobs = count(), count(orm.CalcJobNode)
    try:
        message = case.call(env)  # a command line answers with its error line
    except (InputValidationError, ValueError) as error:
        message = str(error)
    assert re.search(case.message, message), message
    assert (count(), count(orm.CalcJobNode)) == (nodes, jobs), 'no node is stored and no job submitted'


def test_every_case_is_in_the_operations_table():
    table = OPERATIONS.read_text()
    for name, case in CASES.items():
        assert f'| {case.entry_point} | {case.bad_input} |' in table, name
