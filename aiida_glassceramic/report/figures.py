"""The report's figures, in the order of the study, each a function of the study that writes a PNG (or returns False
when the study has nothing to show for it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from ..analysis.diffusion import BOLTZMANN_EV
from ..descriptors.periodic import fractional_coordinates, wrap_fractional
from ..engines.lammps_scripts import SNAPSHOT_PREFIX, snapshot_time_fs
from ..workflows.analysis_functions import array_name
from .study import Study

SLAB_FRACTION = 0.5  # the structure slices show the P atoms of the middle half of the cell along c
UNIT_KEYS = (('PS4', 'PS4'), ('P2S6', 'P2S6'), ('P2S7', 'P2S7'), ('S_S_bonds', 'S-S bonds'))


def _short(key: str) -> str:
    """``fs_000000070000`` -> ``70 ps``; other keys as they are."""
    return f'{snapshot_time_fs(key) / 1000:g} ps' if key.startswith(SNAPSHOT_PREFIX) else key


def _save(figure, path: Path) -> bool:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def _thermo(study: Study, name: str, path: Path, rows: tuple[str, ...]) -> bool:
    if name not in study.node.outputs:
        return False
    thermo = study.node.outputs[name]
    labels = {'temp': 'T (K)', 'pe': 'potential energy (eV)', 'vol': 'volume (A^3)'}
    figure, axes = plt.subplots(len(rows), 1, figsize=(6.5, 2.2 * len(rows)), sharex=True, squeeze=False)
    time = thermo.get_array('time')
    for ax, row in zip(axes[:, 0], rows, strict=True):
        ax.plot(time, thermo.get_array(row), lw=0.8)
        ax.set_ylabel(labels[row])
    axes[-1, 0].set_xlabel('time (ps)')
    return _save(figure, path)


def melt_quench(study: Study, path: Path) -> bool:
    return _thermo(study, 'melt_quench_thermo', path, ('temp', 'pe'))


def anneal(study: Study, path: Path) -> bool:
    """Potential energy and volume of the anneal, and the XRD crystallinity of the relaxed snapshots."""
    if 'anneal_thermo' not in study.node.outputs:
        return False
    thermo = study.node.outputs.anneal_thermo
    time = thermo.get_array('time') / 1000.0
    figure, axes = plt.subplots(3, 1, figsize=(6.5, 6.6), sharex=True)
    axes[0].plot(time, thermo.get_array('pe'), lw=0.8)
    axes[0].set_ylabel('potential energy (eV)')
    axes[1].plot(time, thermo.get_array('vol'), lw=0.8)
    axes[1].set_ylabel('volume (A^3)')
    snapshots = study.snapshots
    values = [study.result('crystallinity', key)['crystallinity'] for key in snapshots]
    axes[2].plot([study.anneal_ns[key] for key in snapshots], 100 * np.array(values), 'o-')
    axes[2].set_ylabel('XRD crystallinity (%)')
    axes[2].set_xlabel('anneal time (ns)')
    return _save(figure, path)


def domains(study: Study, path: Path) -> bool:
    """Crystallinity (XRD), ordered-P fraction (entropy fingerprint) and largest ordered cluster per snapshot, with
    the axes along which the largest cluster wraps the cell."""
    snapshots = [key for key in study.snapshots if study.result('domains', key) is not None]
    if not snapshots:
        return False
    time = [study.anneal_ns[key] for key in snapshots]
    entries = [study.result('domains', key) for key in snapshots]
    figure, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.plot(time, [100 * study.result('crystallinity', key)['crystallinity'] for key in snapshots], 'o-', label='XRD')
    ax.plot(time, [100 * entry['ordered_fraction'] for entry in entries], 's-', label='ordered P (fingerprint)')
    largest = [100 * entry['largest_cluster_fraction'] for entry in entries]
    ax.plot(time, largest, '^-', label='largest ordered cluster')
    for x, y, entry in zip(time, largest, entries, strict=True):
        ax.annotate(
            ''.join(entry['spanning_axes']) or '-',
            (x, y),
            textcoords='offset points',
            xytext=(0, 6),
            ha='center',
            fontsize='small',
        )
    ax.set_xlabel('anneal time (ns)')
    ax.set_ylabel('fraction (%)')
    ax.set_title('labels: axes along which the largest cluster wraps the cell', fontsize='small')
    ax.legend(fontsize='small')
    return _save(figure, path)


def anion_units(study: Study, path: Path) -> bool:
    snapshots = [key for key in study.snapshots if study.result('speciation', key) is not None]
    if not snapshots:
        return False
    figure, ax = plt.subplots(figsize=(6.5, 3.8))
    time = [study.anneal_ns[key] for key in snapshots]
    for key, label in UNIT_KEYS:
        (line,) = ax.plot(time, [study.result('speciation', s)[key] for s in snapshots], 'o-', label=label)
        glass = study.result('speciation', 'glass')
        if glass is not None:
            ax.axhline(glass[key], color=line.get_color(), ls=':', lw=0.8)
    ax.set_xlabel('anneal time (ns)')
    ax.set_ylabel('count in the cell (dotted: glass)')
    ax.legend(fontsize='small')
    return _save(figure, path)


def xrd(study: Study, path: Path) -> bool:
    labels = ('2 theta (deg, Cu K-alpha)', 'intensity (shifted per structure)')
    return _stacked(study, path, 'xrd_pattern', ('two_theta_deg', 'intensity', 110.0), labels=labels)


def pair_distribution(study: Study, path: Path) -> bool:
    labels = ('r (A)', 'g(r), shifted by 1 per structure')
    return _stacked(study, path, 'pair_distribution', ('r_A', 'g_total', 1.0), labels=labels)


def _stacked(study: Study, path: Path, output: str, arrays: tuple[str, str, float], *, labels: tuple[str, str]) -> bool:
    """One curve per structure of ``output``: ``arrays`` names x and y and gives the shift between curves."""
    keys = [key for key in study.keys if study.result(output, key) is not None]
    if not keys:
        return False
    x_name, y_name, shift = arrays
    figure, ax = plt.subplots(figsize=(6.5, 0.4 * len(keys) + 3))
    for offset, key in enumerate(keys):
        node = study.result(output, key)
        ax.plot(node.get_array(x_name), node.get_array(y_name) + shift * offset, lw=0.8, label=key)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if shift > 1.0:
        ax.set_yticks([])
    ax.legend(fontsize='x-small', loc='upper right')
    return _save(figure, path)


def _order_map(study: Study, key: str, ax, norm) -> None:
    """P atoms of the middle slab along c, projected on the ab plane and coloured by their fingerprint."""
    atoms, fingerprint = study.structures[key].get_ase(), study.result('fingerprint', key)
    indices = fingerprint.get_array('indices')
    fractional, _ = wrap_fractional(fractional_coordinates(atoms.positions[indices], atoms.cell.array))
    slab = np.abs(fractional[:, 2] - 0.5) <= SLAB_FRACTION / 2
    values = fingerprint.get_array('averaged_kB')[slab]
    ax.scatter(fractional[slab, 0], fractional[slab, 1], c=values, cmap='coolwarm', norm=norm, s=18)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect('equal')
    ax.set_xticks([])
    ax.set_yticks([])


def _fingerprint_norm(study: Study, keys: list[str]):
    values = np.concatenate([study.result('fingerprint', key).get_array('averaged_kB') for key in keys])
    return matplotlib.colors.Normalize(values.min(), values.max())


def structure_slices(study: Study, path: Path) -> bool:
    keys = [key for key in ('crystal', 'glass', *study.snapshots[-1:]) if study.result('fingerprint', key)]
    if not keys:
        return False
    norm = _fingerprint_norm(study, keys)
    figure, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys) + 1, 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        _order_map(study, key, ax, norm)
        ax.set_title(key, fontsize='small')
    figure.colorbar(matplotlib.cm.ScalarMappable(norm, 'coolwarm'), ax=axes[0], label='P fingerprint (k_B)')
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def _diffusion(study: Study, key: str) -> dict | None:
    node = study.result('diffusion', key)
    return node.get_dict() if node is not None else None


def diffusion_vs_crystallinity(study: Study, path: Path) -> bool:
    keys = [key for key in study.keys if _diffusion(study, key)]
    if not keys:
        return False
    figure, ax = plt.subplots(figsize=(6.5, 3.8))
    for temperature in study.temperatures:
        chosen = [key for key in keys if temperature in _diffusion(study, key)['temperature_K']]
        if not chosen:
            continue
        x = [100 * study.result('crystallinity', key)['crystallinity'] for key in chosen]
        at = [(_diffusion(study, key), _diffusion(study, key)['temperature_K'].index(temperature)) for key in chosen]
        y = [entry['D_A2_per_ps'][index] for entry, index in at]
        error = [entry['D_stderr_A2_per_ps'][index] for entry, index in at]
        ax.errorbar(x, y, yerr=error, fmt='o', capsize=3, label=f'{temperature:g} K')
    for key in keys:
        x = 100 * study.result('crystallinity', key)['crystallinity']
        ax.annotate(_short(key), (x, 0.02), xycoords=('data', 'axes fraction'), fontsize='xx-small', rotation=90)
    ax.set_yscale('log')
    ax.set_xlabel('XRD crystallinity (%)')
    ax.set_ylabel('D(Li) (A^2/ps), error bars: 1 s.e.')
    ax.legend(fontsize='small')
    return _save(figure, path)


def arrhenius(study: Study, path: Path) -> bool:
    fitted = {key: entry for key in study.keys if (entry := _diffusion(study, key)) and entry.get('Ea_eV') is not None}
    if not fitted:
        return False
    figure, ax = plt.subplots(figsize=(6.5, 4.2))
    for key, entry in fitted.items():
        temperature = np.asarray(entry['temperature_K'])
        value, error = np.asarray(entry['D_A2_per_ps']), np.asarray(entry['D_stderr_A2_per_ps'])
        label = f'{key}: Ea {entry["Ea_eV"]:.3f}' + (
            f' ± {entry["Ea_stderr_eV"]:.3f} eV' if entry.get('Ea_stderr_eV') is not None else ' eV'
        )
        bars = ax.errorbar(1000 / temperature, np.log(value), yerr=error / value, fmt='o', capsize=3, label=label)
        line = np.linspace(temperature.min(), temperature.max(), 20)
        fit = entry['ln_D0_A2_per_ps'] - entry['Ea_eV'] / (BOLTZMANN_EV * line)
        ax.plot(1000 / line, fit, '-', color=bars[0].get_color(), lw=0.8)
    ax.set_xlabel('1000 / T (1/K)')
    ax.set_ylabel('ln D (D in A^2/ps), error bars: 1 s.e.')
    ax.legend(fontsize='x-small')
    return _save(figure, path)


def barrier_vs_anneal(study: Study, path: Path) -> bool:
    snapshots = [key for key in study.snapshots if (entry := _diffusion(study, key)) and entry.get('Ea_eV')]
    if not snapshots:
        return False
    figure, ax = plt.subplots(figsize=(6.5, 3.8))
    entries = [_diffusion(study, key) for key in snapshots]
    error = [entry.get('Ea_stderr_eV') or 0.0 for entry in entries]
    ax.errorbar(
        [study.anneal_ns[k] for k in snapshots],
        [e['Ea_eV'] for e in entries],
        yerr=error,
        fmt='o-',
        capsize=3,
        label='snapshots',
    )
    for key, style in (('crystal', '--'), ('glass', ':')):
        entry = _diffusion(study, key)
        if entry and entry.get('Ea_eV') is not None:
            ax.axhline(entry['Ea_eV'], ls=style, color='grey', label=key)
    ax.set_xlabel('anneal time (ns)')
    ax.set_ylabel('Ea (eV), error bars: 1 s.e.')
    ax.legend(fontsize='small')
    return _save(figure, path)


def displacement_and_order(study: Study, path: Path) -> bool:
    """Per structure with a diffusion run, at the highest temperature: the Li displacement map (mean amplitude,
    projected along c) beside the P order map of the same cell."""
    hottest = {}
    for key in study.keys:
        mapped = [t for t in study.temperatures if study.run('displacement_map', key, t) is not None]
        if mapped and study.result('fingerprint', key) is not None:
            hottest[key] = max(mapped)
    keys = list(hottest)
    if not keys:
        return False
    norm = _fingerprint_norm(study, keys)
    figure, axes = plt.subplots(len(keys), 2, figsize=(7.0, 3.2 * len(keys)), squeeze=False)
    for (left, right), key in zip(axes, keys, strict=True):
        temperature = hottest[key]
        image = study.run('displacement_map', key, temperature).get_array('projection_A')
        shown = left.imshow(image.T, origin='lower', extent=(0, 1, 0, 1), cmap='viridis')
        left.set_title(f'{key}: Li displacement, {temperature:g} K', fontsize='small')
        left.set_xticks([])
        left.set_yticks([])
        figure.colorbar(shown, ax=left, shrink=0.8, label='mean amplitude (A)')
        _order_map(study, key, right, norm)
        right.set_title(f'{key}: P order (middle slab)', fontsize='small')
        figure.colorbar(matplotlib.cm.ScalarMappable(norm, 'coolwarm'), ax=right, shrink=0.8, label='k_B')
    return _save(figure, path)


def li_order(study: Study, path: Path) -> bool:
    rows = [(key, t, node) for key in study.keys for t in study.temperatures if (node := study.run('li_order', key, t))]
    rows = [(key, t, node) for key, t, node in rows if node.get('ratio') is not None]
    if not rows:
        return False
    figure, ax = plt.subplots(figsize=(6.5, 3.8))
    for shift, temperature in enumerate(study.temperatures):
        chosen = [(key, node) for key, t, node in rows if t == temperature]
        if not chosen:
            continue
        x = np.arange(len(chosen)) + 0.08 * shift
        ax.errorbar(
            x,
            [node['ratio'] for _, node in chosen],
            yerr=[node['ratio_stderr'] for _, node in chosen],
            fmt='o',
            capsize=3,
            label=f'{temperature:g} K',
        )
        ax.set_xticks(np.arange(len(chosen)), [_short(key) for key, _ in chosen], rotation=45, fontsize='x-small')
    ax.axhline(1.0, color='grey', lw=0.8)
    ax.set_ylabel('Li displacement near ordered / disordered P')
    ax.legend(fontsize='small')
    return _save(figure, path)


def vdos(study: Study, path: Path) -> bool:
    if 'vdos' not in study.node.outputs or not study.node.outputs.vdos:
        return False
    figure, ax = plt.subplots(figsize=(6.5, 3.8))
    for key, node in study.node.outputs.vdos.items():
        centres = study.result('band_centres', key)
        for name in node.get_arraynames():
            if name.startswith('dos_'):
                group = name.removeprefix('dos_').removesuffix('_per_THz')
                (line,) = ax.plot(node.get_array('frequency_THz'), node.get_array(name), lw=0.8, label=f'{key} {group}')
                centre = {array_name(name): value for name, value in (centres or {}).items()}.get(group)
                if centre is not None:
                    ax.axvline(centre['THz'], color=line.get_color(), ls=':', lw=0.8)
    ax.set_xlabel('frequency (THz); dotted: band centres')
    ax.set_ylabel('VDOS (1/THz)')
    ax.legend(fontsize='x-small')
    return _save(figure, path)


FIGURES: dict[str, tuple[Callable[[Study, Path], bool], str]] = {
    'melt_quench': (melt_quench, 'Melt-quench: temperature and potential energy.'),
    'anneal': (anneal, 'Anneal: potential energy, cell volume and XRD crystallinity of the relaxed snapshots.'),
    'domains': (
        domains,
        'Crystalline domains over the anneal: XRD crystallinity, fraction of ordered P (entropy fingerprint below the '
        'threshold), largest cluster of ordered P, and the axes along which it wraps the cell (percolates).',
    ),
    'anion_units': (anion_units, 'Anion units over the anneal (dotted: the glass).'),
    'xrd': (xrd, 'XRD patterns (Cu K-alpha) of the crystal, the glass and the snapshots.'),
    'pair_distribution': (pair_distribution, 'Total pair distribution functions.'),
    'structure_slices': (structure_slices, 'P atoms of the middle slab along c, coloured by the entropy fingerprint.'),
    'diffusion_vs_crystallinity': (diffusion_vs_crystallinity, 'Li diffusion coefficient against crystallinity.'),
    'arrhenius': (arrhenius, 'Arrhenius plots with the weighted fits.'),
    'barrier_vs_anneal': (barrier_vs_anneal, 'Li migration barrier against anneal time.'),
    'displacement_and_order': (
        displacement_and_order,
        'Li displacement maps beside the P order maps of the same structures.',
    ),
    'li_order': (li_order, 'Li displacement near ordered over near disordered P (nearest P), with bootstrap errors.'),
    'vdos': (vdos, 'Vibrational density of states; dotted lines: band centres.'),
}
