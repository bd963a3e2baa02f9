"""Chunked NPT anneal with real LAMMPS: restart continuity, rerun of a killed chunk, snapshots, pressure response."""

from __future__ import annotations

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_glassceramic.calculations.lammps import LammpsCalculation
from aiida_glassceramic.workflows.anneal import AnnealWorkChain

from .conftest import LMP, PREPEND

pytestmark = pytest.mark.slow

INCOMPLETE = LammpsCalculation.exit_codes.ERROR_INCOMPLETE_RUN.status

TOTAL_STEPS = 600
SNAPSHOTS = [f'fs_{fs:012d}' for fs in (200, 300, 400, 500, 600)]  # every 0.1 ps from 0.2 ps, written out by hand


def overrides(chunk_ps: float, pressure_bar: float = 1.0) -> dict:
    return {
        'common': {'thermo_interval_steps': 10},
        'anneal': {
            'temperature': 600.0,
            'pressure_bar': pressure_bar,
            'total_ps': TOTAL_STEPS / 1000.0,
            'chunk_ps': chunk_ps,
            'snapshot_interval_ps': 0.1,
            'snapshot_start_ps': 0.2,
        },
    }


def run_anneal(code, structure, potential, chunk_ps: float, pressure_bar: float = 1.0):
    builder = AnnealWorkChain.get_builder_from_protocol(
        code, structure, potential=potential, protocol='demo', overrides=overrides(chunk_ps, pressure_bar)
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    return results, node


def calculations(node) -> dict[str, list[orm.CalcJobNode]]:
    """The LAMMPS calculations of each chunk, in order."""
    return {
        link.link_label: sorted(link.node.called, key=lambda calc: calc.ctime)
        for link in node.base.links.get_outgoing(node_class=orm.WorkChainNode).all()
    }


def wrapper_code(aiida_code_installed, wrapper):
    """A ``lammps.raw`` code running the shell script ``wrapper`` (made executable) in place of ``lmp``."""
    wrapper.chmod(0o755)
    return aiida_code_installed(
        label=wrapper.name, filepath_executable=str(wrapper), default_calc_job_plugin='lammps.raw', prepend_text=PREPEND
    )


@pytest.fixture
def reference(lmp_code, beta_structure, classical_potential):
    """One uninterrupted run of all steps."""
    return run_anneal(lmp_code, beta_structure, classical_potential, chunk_ps=TOTAL_STEPS / 1000.0)[0]


def assert_same_positions(structure: orm.StructureData, expected: orm.StructureData, atol: float) -> None:
    """Equal positions up to lattice translations (LAMMPS wraps atoms back into the box only when it re-neighbours)."""
    atoms, reference_atoms = structure.get_ase(), expected.get_ase()
    np.testing.assert_allclose(atoms.cell[:], reference_atoms.cell[:], atol=atol)
    fractional = np.linalg.solve(atoms.cell[:].T, (atoms.positions - reference_atoms.positions).T).T
    shift = (fractional - np.round(fractional)) @ atoms.cell[:]
    np.testing.assert_allclose(shift, 0.0, atol=atol)


def assert_same_trajectory(results, reference):
    """Same final positions, same thermo series and the same snapshots, to float precision."""
    assert_same_positions(results['structure'], reference['structure'], atol=1e-8)
    for name in ('step', 'time', 'temp', 'pe', 'press', 'vol'):
        np.testing.assert_allclose(
            results['thermo'].get_array(name), reference['thermo'].get_array(name), rtol=1e-9, err_msg=name
        )
    assert sorted(results['snapshots']) == sorted(reference['snapshots'])
    for key, snapshot in results['snapshots'].items():
        assert_same_positions(snapshot, reference['snapshots'][key], atol=1e-7)


def test_two_chunks_equal_one_run(lmp_code, beta_structure, classical_potential, reference):
    results, node = run_anneal(lmp_code, beta_structure, classical_potential, chunk_ps=0.3)
    assert sorted(calculations(node)) == ['chunk_0000', 'chunk_0001']
    assert_same_trajectory(results, reference)
    steps = results['thermo'].get_array('step')
    assert steps[0] == 0 and steps[-1] == TOTAL_STEPS and np.all(np.diff(steps) == 10)
    assert sorted(results['snapshots']) == SNAPSHOTS


def test_killed_chunk_is_rerun(tmp_path, aiida_code_installed, beta_structure, classical_potential, reference):
    """The first continuation chunk's LAMMPS process is killed (SIGKILL) after 50 of its 200 steps."""
    marker = tmp_path / 'killed'
    wrapper = tmp_path / 'lmp-killed-once'
    wrapper.write_text(
        '#!/bin/bash\n'
        f'if grep -q "^read_restart" input.in && [ ! -e {marker} ]; then\n'
        f'  touch {marker}\n'
        '  sed \'s/^run [0-9]*$/run 50\\nshell "kill -9 $PPID"/\' input.in > input.killed.in\n'
        f'  exec {LMP} -in input.killed.in\n'
        'fi\n'
        f'exec {LMP} "$@"\n'
    )
    code = wrapper_code(aiida_code_installed, wrapper)
    results, node = run_anneal(code, beta_structure, classical_potential, chunk_ps=0.2)
    runs = calculations(node)
    assert {label: len(calcs) for label, calcs in runs.items()} == {'chunk_0000': 1, 'chunk_0001': 2, 'chunk_0002': 1}
    killed = runs['chunk_0001'][0].outputs.retrieved
    stdout = killed.base.repository.get_object_content('lammps.out')
    assert 'Total wall time' not in stdout and 'final.restart' not in killed.base.repository.list_object_names()
    assert runs['chunk_0001'][0].exit_status == INCOMPLETE
    assert runs['chunk_0001'][1].inputs.files.restart.uuid == runs['chunk_0001'][0].inputs.files.restart.uuid
    assert sorted(results['snapshots']) == SNAPSHOTS
    assert_same_trajectory(results, reference)


def test_chunk_killed_inside_its_thermo_table_is_rerun(
    tmp_path, aiida_code_installed, beta_structure, classical_potential, reference
):
    """The first continuation chunk's LAMMPS is killed (SIGKILL) while it prints thermo rows, as a job that hits its
    wall time would be: the screen output ends inside the thermo table, which aiida-lammps' own parser cannot read.
    The parser reports the run as incomplete, and the chunk is run again."""
    marker = tmp_path / 'killed'
    wrapper = tmp_path / 'lmp-killed-in-table'
    wrapper.write_text(
        '#!/bin/bash\n'
        f'if grep -q "^read_restart" input.in && [ ! -e {marker} ]; then\n'
        f'  touch {marker}\n'
        "  sed 's/^run [0-9]*$/run 100000000/' input.in > input.long.in\n"
        # its own process group: the `lmp` entry point starts the LAMMPS binary as a child, which must die too
        f'  setsid {LMP} -in input.long.in &\n'
        '  pid=$!\n'
        '  until grep -q "^ *300 " lammps.out; do sleep 0.05; done\n'
        '  kill -9 -- -$pid\n'
        '  exit 137\n'
        'fi\n'
        f'exec {LMP} "$@"\n'
    )
    code = wrapper_code(aiida_code_installed, wrapper)
    results, node = run_anneal(code, beta_structure, classical_potential, chunk_ps=0.2)
    runs = calculations(node)
    assert {label: len(calcs) for label, calcs in runs.items()} == {'chunk_0000': 1, 'chunk_0001': 2, 'chunk_0002': 1}
    killed = runs['chunk_0001'][0]
    stdout = killed.outputs.retrieved.base.repository.get_object_content('lammps.out')
    steps = [int(line.split()[0]) for line in stdout.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    assert steps[-1] >= 300 and 'Loop time' not in stdout  # cut inside the thermo table
    assert killed.exit_status == INCOMPLETE
    assert_same_trajectory(results, reference)


def test_volume_responds_to_pressure(lmp_code, beta_structure, classical_potential, reference):
    compressed, _ = run_anneal(lmp_code, beta_structure, classical_potential, TOTAL_STEPS / 1000.0, 20000.0)
    half = TOTAL_STEPS // 20
    low = reference['thermo'].get_array('vol')[half:].mean()
    high = compressed['thermo'].get_array('vol')[half:].mean()
    assert high < 0.97 * low
    # the barostat drives the mean pressure towards its target: closer to 20 kbar under 20 kbar than at 1 bar
    assert compressed['thermo'].get_array('press')[half:].mean() > reference['thermo'].get_array('press')[half:].mean()
