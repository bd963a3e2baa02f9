"""Report of a finished :class:`~aiida_glassceramic.workflows.glassceramic.GlassCeramicWorkChain`: one self-contained
HTML page (``report.html``, figures embedded) and the same as markdown (``report.md`` beside its PNG files). The
page opens with the sanity checks (:mod:`.sanity`); the figures follow the study's order; every number comes with its
uncertainty and the PK of the node that holds it; a study run with the ``paper`` protocol gets a table comparing it
with the published numbers."""

from __future__ import annotations

from pathlib import Path

from aiida import orm

from .document import Block, Figure, Heading, Table, Text, html_page, markdown
from .figures import FIGURES
from .sanity import sanity_table
from .study import Study, measured, read_study, uses_protocol

# The study's headline numbers (reference/paper-method.md, section 5), with the key of ours each is compared to.
STUDY_NUMBERS = (
    ('energy RMSE, test', '12.7 meV/atom', 'potential', 'rmse_energy_test_meV_per_atom', 'meV/atom'),
    ('force RMSE, test', '241 meV/A', 'potential', 'rmse_forces_test_meV_per_A', 'meV/A'),
    ('Li barrier, beta crystal', '0.311 eV', 'crystal', 'Ea', 'eV'),
    ('Li barrier, glass', '0.269 eV', 'glass', 'Ea', 'eV'),
    ('Li barrier, annealed (crystallinity ~50 %)', '0.232 eV', 'last', 'Ea', 'eV'),
    ('Li conductivity, glass, 300 K', '7.45e-3 S/cm', 'glass', 'sigma', 'S_per_cm'),
    ('crystallinity at the end of the anneal', '~50 %', 'last', 'crystallinity', ''),
)


def write_report(node: orm.WorkflowNode, folder: str | Path) -> Path:
    """Write ``report.html``, ``report.md`` and the PNG figures into ``folder``; returns the path of the HTML."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    study = read_study(node)
    blocks: list[Block] = [Heading(f'Glass-ceramic study {node.process_label}<{node.pk}>', 1)]
    blocks += _sanity(study)
    blocks += _method(study)
    blocks += [Heading('Numbers'), *_potential(study), _structure_table(study), _dynamics_table(study)]
    if uses_protocol(node, 'paper'):
        blocks += [Heading('Compared with the study'), _comparison(study)]
    blocks.append(Heading('Figures'))
    for name, (plot, caption) in FIGURES.items():
        path = folder / f'{name}.png'
        if plot(study, path):
            blocks.append(Figure(path, caption))
    title = f'Glass-ceramic study {node.pk}'
    (folder / 'report.md').write_text(markdown(blocks))
    page = folder / 'report.html'
    page.write_text(html_page(title, blocks))
    return page


def _sanity(study: Study) -> list[Block]:
    table, checks = sanity_table(study)
    flagged = [check for check in checks if check.passed is False]
    verdict = f'{len(flagged)} of {len(checks)} checks flagged' if flagged else f'all {len(checks)} checks passed'
    return [Heading('Sanity'), Text(f'{verdict}: a flagged number is not physics to be trusted.'), table]


def _method(study: Study) -> list[Block]:
    return [
        Text(
            'Uncertainties: D is the posterior mean of a Bayesian regression of the Li MSD over all time origins '
            '(kinisi), with its standard error (s.e.) and 95 % interval; Ea and ln D0 come from a fit of ln D '
            'against 1/T weighted by those errors, and the conductivity (Nernst-Einstein, Haven ratio from the '
            'protocol) at the conductivity temperature carries the error of D extrapolated along that line. Li '
            'displacement near ordered vs disordered P: bootstrap over time windows. [PK n] is the node holding '
            'each number.'
        )
    ]


def _potential(study: Study) -> list[Block]:
    summary = study.node.outputs.summary
    metrics = summary.get_dict().get('potential')
    if not metrics:
        return [Text(f'Potential: given as input [PK {study.node.outputs.potential.pk}].')]
    stress = metrics.get('rmse_stress_test_GPa')
    return [
        Text(
            f'Potential [PK {study.node.outputs.potential.pk}] test RMSE: energy '
            f'{metrics["rmse_energy_test_meV_per_atom"]:.3g} meV/atom, forces '
            f'{metrics["rmse_forces_test_meV_per_A"]:.3g} meV/A'
            + (f', stress {stress:.3g} GPa' if stress is not None else '')
            + f' [PK {summary.pk}].'
        )
    ]


def _pk(node) -> str:
    return f' [PK {node.pk}]' if node is not None else ''


def _structure_table(study: Study) -> Table:
    rows = []
    for key in study.keys:
        crystallinity, domains = study.result('crystallinity', key), study.result('domains', key)
        units = study.result('speciation', key)
        row = [key, f'{study.anneal_ns[key]:g}' if key in study.anneal_ns else '']
        row.append(f'{100 * crystallinity["crystallinity"]:.1f} %{_pk(crystallinity)}' if crystallinity else '')
        if domains:
            row.append(
                f'{100 * domains["ordered_fraction"]:.1f} % / {100 * domains["largest_cluster_fraction"]:.1f} % / '
                f'{"".join(domains["spanning_axes"]) or "none"}{_pk(domains)}'
            )
        else:
            row.append('')
        if units:
            row.append(f'{units["PS4"]} / {units["P2S6"]} / {units["P2S7"]} / {units["S_S_bonds"]}{_pk(units)}')
        else:
            row.append('')
        rows.append(row)
    header = [
        'structure',
        'anneal (ns)',
        'XRD crystallinity',
        'ordered P / largest cluster / wraps along',
        'PS4 / P2S6 / P2S7 / S-S',
    ]
    return Table(header, rows)


def _dynamics_table(study: Study) -> Table:
    rows = []
    for key in study.keys:
        node = study.result('diffusion', key)
        if node is None:
            continue
        entry = node.get_dict()
        d_values = [
            f'{temperature:g} K: '
            + measured(
                {name: entry[name][index] for name in ('D_A2_per_ps', 'D_stderr_A2_per_ps', 'D_ci95_A2_per_ps')},
                'D',
                'A2_per_ps',
            )
            for index, temperature in enumerate(entry['temperature_K'])
        ]
        sigma = measured(entry, 'sigma', 'S_per_cm', node.pk)
        if sigma:
            sigma = f'{entry["conductivity_temperature_K"]:g} K: {sigma}'
        ratios = []
        for temperature in study.temperatures:
            order = study.run('li_order', key, temperature)
            if order is not None:
                ratios.append(f'{temperature:g} K: {_li_order(order)}')
        centres = study.result('band_centres', key)
        centre = (
            f'{centres["Li"]["THz"]:.3g} THz{_pk(centres)}'
            if centres is not None and 'Li' in centres.get_dict()
            else ''
        )
        rows.append(
            [
                key,
                '; '.join(d_values) + _pk(node),
                measured(entry, 'Ea', 'eV', node.pk),
                sigma,
                '; '.join(ratios),
                centre,
            ]
        )
    header = [
        'structure',
        'D(Li) ± s.e. (95 % interval)',
        'Ea',
        'sigma (Nernst-Einstein)',
        'Li displacement near ordered / disordered P',
        'Li VDOS centre',
    ]
    return Table(header, rows)


def _li_order(node: orm.Dict) -> str:
    """The ratio with its errors, or, where one group of P is empty, the mean amplitude of the other."""
    entry = node.get_dict()
    if entry.get('ratio') is not None:
        return measured(entry, 'ratio', '', node.pk)
    groups = [('near ordered P', 'near_ordered'), ('near disordered P', 'near_disordered')]
    parts = [f'{label}: {measured(entry, name, "A") or "no such P"}' for label, name in groups]
    return ', '.join(parts) + f' [PK {node.pk}]'


def _comparison(study: Study) -> Table:
    summary = study.node.outputs.summary
    last = study.snapshots[-1] if study.snapshots else None
    rows = []
    for quantity, published, source, name, unit in STUDY_NUMBERS:
        if source == 'potential':
            value = summary.get_dict().get('potential', {}).get(name)
            ours = f'{value:.3g} {unit} [PK {summary.pk}]' if value is not None else 'not trained here'
        else:
            key = last if source == 'last' else source
            if key is None:
                ours = ''
            elif name == 'crystallinity':
                node = study.result('crystallinity', key)
                ours = f'{100 * node["crystallinity"]:.1f} %{_pk(node)}' if node else ''
            else:
                node = study.result('diffusion', key)
                ours = measured(node.get_dict(), name, unit, node.pk) if node is not None else 'no diffusion run'
        rows.append([quantity, published, ours])
    return Table(['quantity', 'study', 'this run'], rows)
