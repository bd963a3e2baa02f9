"""Report of a finished :class:`~aiida_glassceramic.workflows.glassceramic.GlassCeramicWorkChain`: PNG plots and a
markdown summary with the headline numbers (potential error, crystallinity, order, D, Ea, conductivity, VDOS)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from aiida import orm

BOLTZMANN_EV = 8.617333262e-5


def write_report(node: orm.WorkflowNode, folder: str | Path) -> Path:
    """Write ``report.md`` and its plots into ``folder``; returns the path of ``report.md``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = node.outputs
    figures = []
    for name, plot in PLOTS.items():
        path = folder / f'{name}.png'
        if plot(outputs, path):
            figures.append(path.name)
    summary = outputs.summary.get_dict()
    lines = [f'# Glass-ceramic study: {node.process_label}<{node.pk}>', '', *_potential_lines(summary), '']
    lines += _structure_table(summary)
    lines += ['', '## Figures', '']
    lines += [f'![{name}]({name})' for name in figures]
    report = folder / 'report.md'
    report.write_text('\n'.join(lines) + '\n')
    return report


def _potential_lines(summary: dict) -> list[str]:
    metrics = summary.get('potential')
    if not metrics:
        return ['Potential: given as input (no training in this workflow).']
    energy = metrics.get('rmse_energy_test_meV_per_atom')
    forces = metrics.get('rmse_forces_test_meV_per_A')
    return [f'Potential test RMSE: energy {energy:.2f} meV/atom, forces {forces:.1f} meV/A.']


def _structure_table(summary: dict) -> list[str]:
    lines = [
        '| structure | crystallinity | max abs(g(r)-1) beyond 5 A | PS4 / P2S6 / P2S7 | D(Li) (A^2/ps) at T (K) '
        '| Ea (eV) | sigma (S/cm) at T | Li VDOS centre (THz) |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ]
    for key, entry in summary['structures'].items():
        units = entry.get('speciation', {})
        diffusion = entry.get('diffusion', {})
        series = zip(diffusion.get('temperature_K', []), diffusion.get('D_A2_per_ps', []), strict=True)
        d_values = ', '.join(f'{value:.3g} @ {temperature:g}' for temperature, value in series)
        sigma = diffusion.get('sigma_S_per_cm')
        sigma_text = f'{sigma:.3g} @ {diffusion["conductivity_temperature_K"]:g} K' if sigma is not None else ''
        centre = entry.get('band_centres', {}).get('Li', {}).get('THz')
        lines.append(
            f'| {key} | {_number(entry.get("crystallinity"))} | {_number(entry.get("g_r_max_deviation_beyond_5A"))} '
            f'| {units.get("PS4", "")} / {units.get("P2S6", "")} / {units.get("P2S7", "")} | {d_values} '
            f'| {_number(diffusion.get("Ea_eV"))} | {sigma_text} | {_number(centre)} |'
        )
    return lines


def _number(value) -> str:
    return '' if value is None else f'{value:.3g}'


def _figure(path: Path, draw: Callable[[plt.Axes], None], xlabel: str, ylabel: str) -> bool:
    figure, axes = plt.subplots(figsize=(6, 4))
    draw(axes)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize='small')
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def _thermo(outputs, name: str, path: Path) -> bool:
    if name not in outputs:
        return False
    thermo = outputs[name]
    time = thermo.get_array('time')
    figure, (top, middle, bottom) = plt.subplots(3, 1, figsize=(6, 7), sharex=True)
    top.plot(time, thermo.get_array('temp'))
    top.set_ylabel('T (K)')
    middle.plot(time, thermo.get_array('pe'))
    middle.set_ylabel('potential energy (eV)')
    bottom.plot(time, thermo.get_array('vol'))
    bottom.set_ylabel('volume (A^3)')
    bottom.set_xlabel('time (ps)')
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def _crystallinity_vs_time(outputs, path: Path) -> bool:
    snapshots = [(key, node['crystallinity']) for key, node in outputs.crystallinity.items() if key.startswith('step')]
    if not snapshots:
        return False
    steps = [int(key.split('_')[-1]) for key, _ in snapshots]
    order = np.argsort(steps)
    values = np.array([value for _, value in snapshots])[order]

    def draw(axes):
        axes.plot(np.array(steps)[order], 100 * values, 'o-', label='snapshots')
        for reference in ('crystal', 'glass'):
            if reference in outputs.crystallinity:
                axes.axhline(100 * outputs.crystallinity[reference]['crystallinity'], ls='--', label=reference)

    return _figure(path, draw, 'anneal step', 'XRD crystallinity (%)')


def _curves(namespace: str, x: str, y: str, xlabel: str, ylabel: str) -> Callable:
    def plot(outputs, path: Path) -> bool:
        if namespace not in outputs or not outputs[namespace]:
            return False

        def draw(axes):
            for offset, (key, node) in enumerate(outputs[namespace].items()):
                shift = offset if namespace == 'pair_distribution' else 0
                axes.plot(node.get_array(x), node.get_array(y) + shift, label=key)

        return _figure(path, draw, xlabel, ylabel)

    return plot


def _fingerprints(outputs, path: Path) -> bool:
    if not outputs.fingerprint:
        return False

    def draw(axes):
        for key, node in outputs.fingerprint.items():
            axes.hist(node.get_array('averaged_kB'), bins=30, histtype='step', label=key)

    return _figure(path, draw, 'entropy fingerprint of P (k_B)', 'count')


def _msd(outputs, path: Path) -> bool:
    if not outputs.msd:
        return False

    def draw(axes):
        for key, node in outputs.msd.items():
            axes.plot(node.get_array('time_ps'), node.get_array('msd_Li_A2'), label=key)

    return _figure(path, draw, 'time (ps)', 'Li MSD (A^2)')


def _arrhenius(outputs, path: Path) -> bool:
    fitted = {key: node.get_dict() for key, node in outputs.diffusion.items() if 'Ea_eV' in node.get_dict()}
    if not fitted:
        return False

    def draw(axes):
        for key, entry in fitted.items():
            inverse = 1000.0 / np.asarray(entry['temperature_K'])
            (line,) = axes.plot(inverse, np.log(entry['D_A2_per_ps']), 'o', label=f'{key}: Ea {entry["Ea_eV"]:.3f} eV')
            fit = entry['ln_D0_A2_per_ps'] - entry['Ea_eV'] / (BOLTZMANN_EV * 1000.0 / inverse)
            axes.plot(inverse, fit, '-', color=line.get_color())

    return _figure(path, draw, '1000 / T (1/K)', 'ln D (D in A^2/ps)')


def _displacement_maps(outputs, path: Path) -> bool:
    maps = dict(outputs.displacement_map.items()) if 'displacement_map' in outputs else {}
    if not maps:
        return False
    figure, axes = plt.subplots(1, len(maps), figsize=(3.2 * len(maps), 3.2), squeeze=False)
    for ax, (key, node) in zip(axes[0], maps.items(), strict=True):
        image = ax.imshow(node.get_array('projection_A').T, origin='lower', cmap='viridis')
        ax.set_title(key, fontsize='small')
        ax.set_xticks([])
        ax.set_yticks([])
        figure.colorbar(image, ax=ax, shrink=0.8, label='mean Li displacement (A)')
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def _vdos(outputs, path: Path) -> bool:
    if not outputs.vdos:
        return False

    def draw(axes):
        for key, node in outputs.vdos.items():
            for name in node.get_arraynames():
                if name.startswith('dos_'):
                    group = name.removeprefix('dos_').removesuffix('_per_THz')
                    axes.plot(node.get_array('frequency_THz'), node.get_array(name), label=f'{key} {group}')

    return _figure(path, draw, 'frequency (THz)', 'VDOS (1/THz)')


PLOTS: dict[str, Callable] = {
    'melt_quench': lambda outputs, path: _thermo(outputs, 'melt_quench_thermo', path),
    'anneal': lambda outputs, path: _thermo(outputs, 'anneal_thermo', path),
    'crystallinity': _crystallinity_vs_time,
    'pair_distribution': _curves('pair_distribution', 'r_A', 'g_total', 'r (A)', 'g(r) (shifted by 1 per curve)'),
    'xrd': _curves('xrd_pattern', 'two_theta_deg', 'intensity', '2 theta (deg, Cu K-alpha)', 'intensity'),
    'fingerprint': _fingerprints,
    'msd': _msd,
    'arrhenius': _arrhenius,
    'displacement_maps': _displacement_maps,
    'vdos': _vdos,
}
