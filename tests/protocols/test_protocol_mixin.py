"""The one protocol mechanism of every work chain: protocols listed and valid, one builder signature, overrides checked
key by key against the protocol's model."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from aiida_glassceramic.protocols.documentation import protocol_rows
from aiida_glassceramic.protocols.validation import keys_of
from aiida_glassceramic.workflows.anneal import AnnealWorkChain
from aiida_glassceramic.workflows.diffusion import DiffusionWorkChain
from aiida_glassceramic.workflows.glassceramic import GlassCeramicWorkChain
from aiida_glassceramic.workflows.input_checks import InputValidationError
from aiida_glassceramic.workflows.melt_quench import MeltQuenchWorkChain
from aiida_glassceramic.workflows.reference_data import ReferenceDataWorkChain
from aiida_glassceramic.workflows.relax import RelaxWorkChain
from aiida_glassceramic.workflows.train import TrainPotentialWorkChain
from aiida_glassceramic.workflows.vdos import VdosWorkChain

WORK_CHAINS = (
    GlassCeramicWorkChain,
    ReferenceDataWorkChain,
    TrainPotentialWorkChain,
    MeltQuenchWorkChain,
    AnnealWorkChain,
    RelaxWorkChain,
    DiffusionWorkChain,
    VdosWorkChain,
)


@pytest.mark.parametrize('work_chain', WORK_CHAINS, ids=lambda cls: cls.__name__)
def test_every_protocol_is_valid_and_the_default_is_one_of_them(work_chain):
    available = work_chain.get_available_protocols()
    assert work_chain.get_default_protocol() in available
    assert {'paper', 'fast', 'demo'} <= set(available)
    for name, body in available.items():
        assert body['description']
        assert work_chain.get_protocol_inputs(name), name


@pytest.mark.parametrize('work_chain', WORK_CHAINS, ids=lambda cls: cls.__name__)
def test_one_builder_signature(work_chain):
    parameters = list(inspect.signature(work_chain.get_builder_from_protocol).parameters.values())
    positional = [p for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [p.name for p in positional[2:]] == ['protocol', 'overrides']
    assert positional[0].name in ('code', 'codes')
    assert all(p.default is None for p in positional[2:])
    assert all(p.kind is p.KEYWORD_ONLY for p in parameters[len(positional) :])


@pytest.mark.parametrize(
    ('work_chain', 'overrides', 'message'),
    [
        (
            AnnealWorkChain,
            {'anneal': {'temprature': 700.0}},
            '`anneal.temprature`: unknown key; did you mean `temperature`?',
        ),
        (DiffusionWorkChain, {'comon': {'seed': 3}}, '`comon`: unknown key; did you mean `common`?'),
        (TrainPotentialWorkChain, {'train': {'parameters': {'epoch': 5}}}, 'did you mean `epochs`?'),
        (ReferenceDataWorkChain, {'conditions': {'temperature': [300]}}, 'did you mean `temperatures`?'),
        (GlassCeramicWorkChain, {'suppercell': [1, 1, 1]}, '`suppercell`: unknown key; did you mean `supercell`?'),
        (GlassCeramicWorkChain, {'analysis': {'xrd': {'wavelength': 1.5}}}, 'did you mean `wavelength_A`?'),
    ],
)
def test_unknown_override_key_names_the_closest_valid_key(work_chain, overrides, message):
    with pytest.raises(InputValidationError, match=re.escape(message)):
        work_chain.get_protocol_inputs('demo', overrides)


@pytest.mark.parametrize(
    ('work_chain', 'overrides', 'field'),
    [
        (AnnealWorkChain, {'anneal': {'temperature': '600'}}, '`anneal.temperature`'),  # text is not a number
        (AnnealWorkChain, {'common': {'timestep_fs': 0}}, '`common.timestep_fs`'),
        (AnnealWorkChain, {'anneal': {'snapshot_start_ps': 1000.0}}, '`anneal`'),  # after the end of the anneal
        (DiffusionWorkChain, {'diffusion': {'temperatures': []}}, '`diffusion.temperatures`'),
        (DiffusionWorkChain, {'diffusion': {'fit_stop_ps': 99.0}}, '`diffusion`'),  # beyond the run
        (MeltQuenchWorkChain, {'common': {'timestep_remedy': 0.3}}, '`common.timestep_remedy`'),
        (ReferenceDataWorkChain, {'md': {'steps': 2.7}}, '`md.steps`'),
        (ReferenceDataWorkChain, {'conditions': {'temperatures': []}}, '`conditions.temperatures`'),
        (TrainPotentialWorkChain, {'train': {'parameters': {'learning_rate': -1.0}}}, '`train.parameters`'),
        (GlassCeramicWorkChain, {'supercell': [0, 2, 2]}, '`supercell.0`'),
        (GlassCeramicWorkChain, {'dynamics_snapshots': 'first'}, '`dynamics_snapshots`'),
    ],
)
def test_wrong_values_name_the_field(work_chain, overrides, field):
    with pytest.raises(InputValidationError, match='^' + re.escape(field)):
        work_chain.get_protocol_inputs('demo', overrides)


@pytest.mark.parametrize('work_chain', WORK_CHAINS, ids=lambda cls: cls.__name__)
def test_every_key_of_the_protocol_files_is_in_the_model(work_chain):
    """The models name every key the files use (so the documentation generated from them is complete)."""
    documented = {path for path, _, _ in keys_of(work_chain.protocol_model())}
    for name in work_chain.get_available_protocols():
        for path in _paths(work_chain.get_protocol_inputs(name)):
            assert path in documented or _inside_open_mapping(path, documented), (name, path)


def _paths(settings: dict, prefix: str = '') -> list[str]:
    paths = []
    for key, value in settings.items():
        paths.append(f'{prefix}{key}')
        if isinstance(value, dict):
            paths.extend(_paths(value, f'{prefix}{key}.'))
    return paths


def _inside_open_mapping(path: str, documented: set[str]) -> bool:
    parts = path.split('.')
    return any('.'.join(parts[:index]) in documented for index in range(1, len(parts)))


@pytest.mark.parametrize('work_chain', WORK_CHAINS, ids=lambda cls: cls.__name__)
def test_documentation_table_names_every_key_with_its_values(work_chain):
    header, rows = protocol_rows(work_chain)
    assert header[2:] == list(work_chain.get_available_protocols())
    named = {row[0].strip('`*') for row in rows}
    for name in header[2:]:
        settings = work_chain.get_protocol_inputs(name)
        for path in _paths(settings):
            assert path in named or _inside_open_mapping(path, named), (name, path)
    default = work_chain.get_protocol_inputs(work_chain.get_default_protocol())
    first_leaf = next(row for row in rows if row[0].startswith('`'))
    column = header.index(work_chain.get_default_protocol())
    value = default
    for key in first_leaf[0].strip('`').split('.'):
        value = value[key]
    assert first_leaf[column] == json.dumps(value)
