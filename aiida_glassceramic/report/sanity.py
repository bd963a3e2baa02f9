"""Physics checks at the top of the report: each a measured number beside its threshold, flagged when outside it.

A flag says that a number of the study is not physics to be trusted (broken anions, atoms closer than the potential
was trained on, a cell that swells or shrinks, a crystal that melts or turns superionic); thresholds are fixed here
and never adapted to a run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from aiida import orm

from .. import analysis
from ..provenance import stage_name
from ..workflows.lammps_base import temperature_label
from .document import Table
from .study import Study

PS_BOND_A = 2.5  # a P keeps its PS4 unit with four S within this distance
MAX_DENSITY_CHANGE = 0.15  # relative, over the NPT anneal
MIN_CRYSTALLINITY_AFTER_DIFFUSION = 0.8  # of the crystal's last frame of its diffusion run, relaxed
CHECK_TEMPERATURE_K = 600.0
MAX_CRYSTAL_D = 0.1  # A^2/ps of Li in the crystal at CHECK_TEMPERATURE_K (experiment: ~1e-3)
MD_STAGES = ('MeltQuenchWorkChain', 'AnnealWorkChain', 'RelaxWorkChain', 'DiffusionWorkChain', 'VdosWorkChain')
RMSE_GOALS = (
    ('energy', 'rmse_energy_test_meV_per_atom', 10.0, 'meV/atom'),
    ('forces', 'rmse_forces_test_meV_per_A', 150.0, 'meV/A'),
)


@dataclass(frozen=True)
class Check:
    check: str
    subject: str
    measured: str
    threshold: str
    passed: bool | None  # None: not measured


def sanity_table(study: Study) -> tuple[Table, list[Check]]:
    """The checks of ``study`` as a table (flagged rows marked), with the checks themselves."""
    checks = sanity_checks(study)
    verdict = {True: 'ok', False: 'FLAGGED', None: 'not measured'}
    rows = [[c.check, c.subject, c.measured, c.threshold, verdict[c.passed]] for c in checks]
    return Table(['check', 'of', 'measured', 'threshold', ''], rows), checks


def sanity_checks(study: Study) -> list[Check]:
    checks = _rmse(study)
    limits = getattr(study.node.outputs.potential, 'min_distance', {})
    for key, structure in study.structures.items():
        atoms = structure.get_ase()
        checks.append(_ps4(key, atoms))
        checks.append(_contacts(key, atoms, limits))
    checks += _extrapolation(study)
    checks.append(_density(study))
    checks.append(_crystallinity_after_diffusion(study))
    checks += _crystal_diffusion(study)
    return checks


def _rmse(study: Study) -> list[Check]:
    metrics = study.node.outputs.summary.get_dict().get('potential') or {}
    checks = []
    for name, key, goal, unit in RMSE_GOALS:
        value = metrics.get(key)
        measured = f'{value:.3g} {unit}' if value is not None else 'potential given as input'
        passed = None if value is None else value <= goal
        threshold = f'<= {goal:g} {unit}'
        checks.append(Check(f'test RMSE of the potential, {name}', 'reference', measured, threshold, passed))
    return checks


def _ps4(key: str, atoms) -> Check:
    counts = analysis.sulfur_per_phosphorus(atoms, PS_BOND_A)
    broken = int(np.count_nonzero(counts != 4))
    return Check(f'P without 4 S within {PS_BOND_A:g} A', key, f'{broken} of {counts.size} P', '0', broken == 0)


def _contacts(key: str, atoms, limits: dict[str, float]) -> Check:
    """The pair closest relative to the shortest distance of that pair in the training data."""
    trained = {_pair(name): value for name, value in limits.items() if value > 0.0}
    if not trained:
        return Check('shortest contact vs training data', key, 'no training distances recorded', '', None)
    shortest = analysis.shortest_pairs(atoms, max(trained.values()) + 0.5)
    ratios = {pair: shortest[pair] / trained[pair] for pair in shortest if pair in trained}
    if not ratios:
        return Check('shortest contact vs training data', key, 'no pair within range', '', True)
    pair = min(ratios, key=ratios.get)
    return Check(
        'shortest contact vs training data',
        key,
        f'{pair} {shortest[pair]:.2f} A',
        f'>= {trained[pair]:.2f} A (shortest {pair} in training)',
        ratios[pair] >= 1.0,
    )


def _pair(name: str) -> str:
    return '-'.join(sorted(name.split('-')))


def _extrapolation(study: Study) -> list[Check]:
    """Per MD stage, the atom-steps whose symmetry functions left the range of the training data (the potential's
    extrapolation warnings), summed over the stage's LAMMPS calculations."""
    checks = []
    for stage in sorted(study.node.called, key=lambda node: node.ctime):
        if stage.process_label not in MD_STAGES:
            continue
        counts = [
            calculation.outputs.results['extrapolation']
            for calculation in stage.called_descendants
            if isinstance(calculation, orm.CalcJobNode)
            and 'results' in calculation.outputs
            and calculation.outputs.results.get('extrapolation')
        ]
        name = 'extrapolation warnings (atoms outside the training range)'
        subject = stage_name(stage).replace('WorkChain', '', 1)
        if not counts:
            checks.append(Check(name, subject, 'not counted by the potential', '0 atom-steps', None))
            continue
        atom_steps, steps = sum(count['atom_steps'] for count in counts), sum(count['steps'] for count in counts)
        most = max(count['max_atoms'] for count in counts)
        measured = f'{atom_steps} atom-steps in {steps} steps, at most {most} atoms at once [PK {stage.pk}]'
        checks.append(Check(name, subject, measured, '0 atom-steps', atom_steps == 0))
    return checks


def _density(study: Study) -> Check:
    volume = study.node.outputs.anneal_thermo.get_array('vol')
    change = volume[0] / volume - 1.0
    largest = float(change[np.argmax(np.abs(change))])
    return Check(
        'density change in the NPT anneal',
        'glass',
        f'{100 * change[-1]:+.1f} % at the end, {100 * largest:+.1f} % at most',
        f'within ±{100 * MAX_DENSITY_CHANGE:g} %',
        abs(largest) <= MAX_DENSITY_CHANGE,
    )


def _crystallinity_after_diffusion(study: Study) -> Check:
    label = f'crystal_{temperature_label(CHECK_TEMPERATURE_K)}'
    node = study.result('crystallinity_after', label)
    subject = f'crystal after its {CHECK_TEMPERATURE_K:g} K diffusion run'
    threshold = f'> {MIN_CRYSTALLINITY_AFTER_DIFFUSION:g}'
    if node is None:
        return Check('XRD crystallinity', subject, 'no such run', threshold, None)
    value = node['crystallinity']
    last_frame = study.result('crystallinity_last_frame', label)
    if last_frame is None:  # a study that took the crystallinity of the last frame as it ran
        measured = f'{value:.3f} as it ran [PK {node.pk}]'
    else:
        as_it_ran = f'{last_frame["crystallinity"]:.3f} as it ran [PK {last_frame.pk}]'
        measured = f'{value:.3f} relaxed [PK {node.pk}], {as_it_ran}'
    return Check('XRD crystallinity', subject, measured, threshold, value > MIN_CRYSTALLINITY_AFTER_DIFFUSION)


def _crystal_diffusion(study: Study) -> list[Check]:
    """D(Li) of the crystal against its bound, and the glass faster than the crystal, at CHECK_TEMPERATURE_K."""
    at = f'{CHECK_TEMPERATURE_K:g} K'
    crystal, glass = _diffusion_at(study, 'crystal'), _diffusion_at(study, 'glass')
    if crystal is None:
        return [Check(f'D(Li) at {at}', 'crystal', 'no such run', f'<= {MAX_CRYSTAL_D:g} A^2/ps', None)]
    value, pk = crystal
    checks = [
        Check(
            f'D(Li) at {at}',
            'crystal',
            f'{value:.3g} A^2/ps [PK {pk}]',
            f'<= {MAX_CRYSTAL_D:g} A^2/ps (experiment ~1e-3)',
            value <= MAX_CRYSTAL_D,
        )
    ]
    if glass is not None:
        checks.append(
            Check(
                f'D(Li) glass / crystal at {at}',
                'glass',
                f'{glass[0] / value:.3g} [PK {glass[1]}]',
                '> 1',
                glass[0] > value,
            )
        )
    return checks


def _diffusion_at(study: Study, key: str) -> tuple[float, int] | None:
    node = study.result('diffusion', key)
    if node is None or CHECK_TEMPERATURE_K not in node['temperature_K']:
        return None
    return node['D_A2_per_ps'][node['temperature_K'].index(CHECK_TEMPERATURE_K)], node.pk
