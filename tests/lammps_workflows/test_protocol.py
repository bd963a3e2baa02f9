"""The `paper` protocol's LAMMPS inputs carry every MD setting of the study; bad input fails before submission."""

from __future__ import annotations

import re

import pytest

from aiida_glassceramic.engines import lammps_scripts as scripts
from aiida_glassceramic.workflows.anneal import AnnealWorkChain
from aiida_glassceramic.workflows.diffusion import DiffusionWorkChain
from aiida_glassceramic.workflows.lammps_base import InputValidationError
from aiida_glassceramic.workflows.melt_quench import MeltQuenchWorkChain
from aiida_glassceramic.workflows.relax import RelaxWorkChain
from aiida_glassceramic.workflows.vdos import VdosWorkChain

from .conftest import ELEMENTS, PAIR_COMMANDS

FS = 1.0  # paper: timestep 1 fs everywhere -> steps = ps * 1000


def fixes_and_runs(script: str) -> list[tuple[str, str]]:
    """(thermostat fix line, steps of the next run) pairs in script order."""
    pairs, fix = [], None
    for line in script.splitlines():
        if re.match(r'fix \S+ all n[vp]t ', line):
            fix = line
        elif line.startswith('run ') and fix is not None:
            pairs.append((fix, line.split()[1]))
            fix = None
    return pairs


def test_paper_melt_quench(lmp_code, beta_structure, classical_potential):
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        lmp_code, beta_structure, potential=classical_potential, protocol='paper'
    )
    script = scripts.melt_quench_script(builder.parameters.get_dict(), PAIR_COMMANDS, ELEMENTS)
    assert 'units metal' in script and 'timestep 0.001\n' in script
    assert re.search(r'^velocity all create 300 \d+ ', script, flags=re.MULTILINE)
    # 300 -> 1500 K at 240 K/ps = 5 ps; hold 10 ps; 1500 -> 300 K at 4 K/ps = 300 ps; hold 300 K for 7.5 ps
    stages = [(fix.split()[5:7], int(steps)) for fix, steps in fixes_and_runs(script)]
    assert stages == [
        (['300', '1500'], 5_000),
        (['1500', '1500'], 10_000),
        (['1500', '300'], 300_000),
        (['300', '300'], 7_500),
    ]
    assert all(' nvt ' in fix for fix, _ in fixes_and_runs(script))


def test_paper_anneal(lmp_code, beta_structure, classical_potential):
    builder = AnnealWorkChain.get_builder_from_protocol(
        lmp_code, beta_structure, potential=classical_potential, protocol='paper'
    )
    parameters = builder.parameters.get_dict()
    chunks = scripts.anneal_chunks(parameters)
    assert len(chunks) == 100 and {chunk.steps for chunk in chunks} == {1_000_000}  # 100 ns in 1 ns chunks
    assert chunks[-1].last_step == 100_000_000
    # snapshots every 1 ns from 70 ns to 100 ns: 31 of them
    assert scripts.snapshot_steps(parameters) == list(range(70_000_000, 100_000_001, 1_000_000))
    first = scripts.anneal_chunk_script({**parameters, 'chunk': 0}, PAIR_COMMANDS, ELEMENTS)
    later = scripts.anneal_chunk_script({**parameters, 'chunk': 69}, PAIR_COMMANDS, ELEMENTS)
    for script in (first, later):
        ((fix, steps),) = fixes_and_runs(script)
        assert fix.split()[3:] == ['npt', 'temp', '600', '600', '0.1', 'iso', '1', '1', '1'] and steps == '1000000'
        assert 'write_restart final.restart' in script
    assert 'read_data structure.data' in first and 'velocity all create 600' in first
    assert 'read_restart previous.restart\nreset_timestep 69000000 time 69000\n' in later and 'velocity' not in later
    assert 'dump snapshots all custom 1000000 snapshots.dump' in later and 'delay 70000000' in later
    assert 'dump snapshots' not in first


def test_paper_diffusion_vdos_relax(lmp_code, beta_structure, classical_potential):
    diffusion = DiffusionWorkChain.get_builder_from_protocol(
        lmp_code, beta_structure, potential=classical_potential, protocol='paper'
    ).parameters.get_dict()
    assert {400.0, 600.0} <= set(diffusion['temperatures'])
    assert (diffusion['fit_start_ps'], diffusion['fit_stop_ps']) == (100.0, 1000.0)  # 0.1 - 1 ns
    assert diffusion['displacement_window_ps'] == 1.0 and diffusion['conductivity_temperature'] == 300.0
    script = scripts.diffusion_script({**diffusion, 'temperature': 400.0}, PAIR_COMMANDS, ELEMENTS)
    assert fixes_and_runs(script) == [('fix nvt all nvt temp 400 400 0.1', '1000000')]  # 1 ns NVT
    assert 'group mobile type 1' in script and 'dump trajectory mobile custom 1000 trajectory.dump' in script
    assert 'ix iy iz' in script

    vdos = VdosWorkChain.get_builder_from_protocol(
        lmp_code, beta_structure, potential=classical_potential, protocol='paper'
    )
    script = scripts.vdos_script(vdos.parameters.get_dict(), PAIR_COMMANDS, ELEMENTS)
    assert fixes_and_runs(script) == [('fix nvt all nvt temp 100 100 0.1', '1000000')]  # 1 ns NVT at 100 K
    assert 'dump velocities all custom 10 velocities.dump id element x y z vx vy vz' in script

    relax = RelaxWorkChain.get_builder_from_protocol(
        lmp_code, beta_structure, potential=classical_potential, protocol='paper'
    )
    script = scripts.relax_script(relax.parameters.get_dict(), PAIR_COMMANDS, ELEMENTS)
    assert 'fix cell all box/relax aniso 1 vmax 0.001' in script and 'minimize 0 0.001 10000 100000' in script


@pytest.mark.parametrize(
    ('workflow', 'overrides', 'message'),
    [
        (DiffusionWorkChain, {'diffusion': {'temperatures': []}}, '`diffusion.temperatures` = []'),
        (DiffusionWorkChain, {'diffusion': {'temperatures': [400.0, -600.0]}}, '`diffusion.temperatures.1` = -600.0'),
        (VdosWorkChain, {'vdos': {'temperature': 0.0}}, '`vdos.temperature` = 0.0'),
        (AnnealWorkChain, {'anneal': {'chunk_ps': 2.0, 'total_ps': 1.0}}, 'chunk_ps'),
        (AnnealWorkChain, {'anneal': {'chunk_ps': 0.0005}}, 'anneal.chunk_ps'),
        (MeltQuenchWorkChain, {'melt_quench': {'cooling_rate_k_per_ps': -4.0}}, 'cooling_rate_k_per_ps'),
        (AnnealWorkChain, {'common': {'timestep_remedy': 0.3}}, '`common.timestep_remedy` = 0.3: give 1/k'),
    ],
)
def test_bad_parameters(lmp_code, beta_structure, classical_potential, *, workflow, overrides, message):
    with pytest.raises(InputValidationError, match=re.escape(message)):
        workflow.get_builder_from_protocol(
            lmp_code, beta_structure, potential=classical_potential, protocol='demo', overrides=overrides
        )


def test_potential_must_cover_species(lmp_code, beta_structure):
    from aiida import orm

    lithium_sulfur = orm.Dict({'elements': ['Li', 'S'], 'commands': ['pair_style lj/cut 5.0', 'pair_coeff * * 0.1 2']})
    with pytest.raises(InputValidationError, match=r"`structure` holds \['P'\]"):
        AnnealWorkChain.get_builder_from_protocol(lmp_code, beta_structure, potential=lithium_sulfur, protocol='demo')
    with pytest.raises(InputValidationError, match=r"`structures.structure` holds \['P'\]"):
        DiffusionWorkChain.get_builder_from_protocol(
            lmp_code, beta_structure, potential=lithium_sulfur, protocol='demo'
        )


def test_validation_runs_at_launch(lmp_code, beta_structure, classical_potential):
    """The same checks guard a builder edited after ``get_builder_from_protocol``: the launch is refused."""
    from aiida import orm
    from aiida.engine import run

    builder = DiffusionWorkChain.get_builder_from_protocol(lmp_code, beta_structure, potential=classical_potential)
    builder.parameters = orm.Dict({**builder.parameters.get_dict(), 'temperatures': []})
    with pytest.raises(ValueError, match=re.escape('parameters.temperatures')):
        run(builder)


def test_unknown_protocol(lmp_code, beta_structure, classical_potential):
    with pytest.raises(InputValidationError, match='protocol `nonsense`'):
        RelaxWorkChain.get_builder_from_protocol(
            lmp_code, beta_structure, potential=classical_potential, protocol='nonsense'
        )


def test_paper_runs_the_pair_style_on_mpi_ranks():
    """`paper`: the native pair style on 32 MPI ranks per job; `fast` and `demo`: one rank."""
    paper = AnnealWorkChain.get_protocol_inputs('paper')['common']
    assert paper['potential_engine'] == 'pair_style'
    assert paper['options']['withmpi'] is True
    assert paper['options']['resources'] == {'num_machines': 1, 'num_mpiprocs_per_machine': 32}
    for name in ('fast', 'demo'):
        options = AnnealWorkChain.get_protocol_inputs(name)['common']['options']
        assert options['withmpi'] is False and options['resources']['num_mpiprocs_per_machine'] == 1


def test_unknown_potential_engine_is_refused(lmp_code, beta_structure, classical_potential):
    with pytest.raises(InputValidationError, match='potential_engine'):
        MeltQuenchWorkChain.get_builder_from_protocol(
            lmp_code,
            beta_structure,
            potential=classical_potential,
            protocol='demo',
            overrides={'common': {'potential_engine': 'gpu'}},
        )
