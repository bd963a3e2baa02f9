"""The report of a study, built from result nodes with known numbers: every figure present and embedded, every number
with its uncertainty and PK, and the comparison with the published study for the `paper` settings only."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import matplotlib.pyplot as plt
import numpy as np
import pytest
from aiida import orm
from aiida.common import AttributeDict, LinkType

from aiida_glassceramic.report import write_report
from aiida_glassceramic.report.figures import FIGURES
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.anneal import AnnealWorkChain
from aiida_glassceramic.workflows.glassceramic import MD_STAGES, RELAX_AFTER_DYNAMICS_LABEL, GlassCeramicWorkChain
from aiida_glassceramic.workflows.lammps_base import section

KEYS = ('crystal', 'glass', 'fs_000070000000', 'fs_000100000000')


def stored(node):
    node.store()
    return node


def arrays(**values) -> orm.ArrayData:
    node = orm.ArrayData()
    for name, value in values.items():
        node.set_array(name, np.asarray(value))
    return stored(node)


def fake_study(protocol: str) -> AttributeDict:
    """A finished study's outputs and inputs as the report reads them; only numbers, no dynamics."""
    settings = GlassCeramicWorkChain.get_protocol_inputs(protocol)
    md = AnnealWorkChain.get_protocol_inputs(settings['stages']['md'])
    atoms = read_crystal('beta')
    phosphorus = np.flatnonzero(np.array(atoms.get_chemical_symbols()) == 'P')
    rng = np.random.default_rng(0)
    outputs = AttributeDict({name: AttributeDict() for name in ('snapshots', 'crystallinity', 'speciation')})
    for name in ('domains', 'fingerprint', 'xrd_pattern', 'pair_distribution', 'diffusion', 'li_order'):
        outputs[name] = AttributeDict()
    for name in ('displacement_map', 'vdos', 'band_centres'):
        outputs[name] = AttributeDict()
    outputs.crystal_supercell = stored(orm.StructureData(ase=atoms))
    outputs.glass = stored(orm.StructureData(ase=atoms))
    outputs.potential = stored(orm.Dict({'kind': 'stand-in'}))
    time = np.linspace(0, 100000, 50)
    thermo = {'time': time, 'temp': 600 + 0 * time, 'pe': -time * 1e-4, 'vol': 1000 - time * 1e-3}
    outputs.melt_quench_thermo = arrays(**thermo)
    outputs.anneal_thermo = arrays(**thermo)
    temperatures = md['diffusion']['temperatures'][:2]
    for index, key in enumerate(KEYS):
        if key.startswith('fs_'):
            outputs.snapshots[key] = stored(orm.StructureData(ase=atoms))
        crystallinity = (0.9, 0.05, 0.1, 0.5)[index]
        outputs.crystallinity[key] = stored(orm.Dict({'crystallinity': crystallinity}))
        outputs.speciation[key] = stored(orm.Dict({'PS4': 4 - index % 2, 'P2S6': index % 2, 'P2S7': 0, 'S_S_bonds': 1}))
        outputs.domains[key] = stored(
            orm.Dict(
                {
                    'ordered_fraction': crystallinity,
                    'largest_cluster_fraction': crystallinity / 2,
                    'spanning_axes': ['a', 'b'] if crystallinity > 0.4 else [],
                    'clusters': 2,
                }
            )
        )
        outputs.fingerprint[key] = arrays(indices=phosphorus, averaged_kB=rng.normal(-3, 0.5, len(phosphorus)))
        outputs.xrd_pattern[key] = arrays(two_theta_deg=np.linspace(10, 60, 100), intensity=rng.uniform(0, 100, 100))
        outputs.pair_distribution[key] = arrays(r_A=np.linspace(0, 6, 60), g_total=rng.uniform(0, 2, 60))
        barrier = (0.311, 0.269, 0.25, 0.232)[index]
        outputs.diffusion[key] = stored(
            orm.Dict(
                {
                    'temperature_K': temperatures,
                    'D_A2_per_ps': [0.01, 0.05],
                    'D_stderr_A2_per_ps': [0.001, 0.004],
                    'D_ci95_A2_per_ps': [[0.008, 0.012], [0.042, 0.058]],
                    'Ea_eV': barrier,
                    'Ea_stderr_eV': 0.0123,
                    'Ea_ci95_eV': [barrier - 0.024, barrier + 0.024],
                    'ln_D0_A2_per_ps': 2.0,
                    'conductivity_temperature_K': 300.0,
                    'sigma_S_per_cm': 7.1e-3,
                    'sigma_stderr_S_per_cm': 0.9e-3,
                    'sigma_ci95_S_per_cm': [5.5e-3, 9.1e-3],
                }
            )
        )
        for temperature in temperatures:
            label = f'{key}_T{temperature:g}'
            outputs.displacement_map[label] = arrays(projection_A=rng.uniform(0, 2, (8, 8)))
            outputs.li_order[label] = stored(
                orm.Dict({'ratio': 1.5, 'ratio_stderr': 0.2, 'ratio_ci95': [1.1, 1.9], 'near_ordered_A': 1.0})
            )
        outputs.vdos[key] = arrays(frequency_THz=np.linspace(0, 20, 50), dos_Li_per_THz=rng.uniform(0, 1, 50))
        outputs.band_centres[key] = stored(orm.Dict({'Li': {'THz': 7.5, 'meV': 31.0}}))
    outputs.crystallinity_after = AttributeDict(
        {f'crystal_T{temperature:g}': stored(orm.Dict({'crystallinity': 0.9})) for temperature in temperatures}
    )
    outputs.crystallinity_last_frame = AttributeDict(
        {f'crystal_T{temperature:g}': stored(orm.Dict({'crystallinity': 0.7})) for temperature in temperatures}
    )
    outputs.summary = stored(
        orm.Dict({'potential': {'rmse_energy_test_meV_per_atom': 13.0, 'rmse_forces_test_meV_per_A': 250.0}})
    )
    inputs = AttributeDict(
        {
            **{name: AttributeDict({'parameters': orm.Dict(section(md, name))}) for name in MD_STAGES},
            'supercell': orm.List(settings['supercell']),
            'analysis': orm.Dict(settings['analysis']),
        }
    )
    called = [md_stage('AnnealWorkChain', 0, 0), md_stage('DiffusionWorkChain', 125, 7), md_stage('VdosWorkChain')]
    called.append(md_stage('RelaxWorkChain', 0, 4, stage_label=RELAX_AFTER_DYNAMICS_LABEL))
    study = {'outputs': outputs, 'inputs': inputs, 'called': called}
    return AttributeDict({**study, 'pk': 4242, 'process_label': 'GlassCeramicWorkChain'})


def md_stage(label: str, *counts: int, stage_label: str = '') -> orm.WorkChainNode:
    """A stored MD work chain node of ``label`` that called one LAMMPS calculation, whose results hold the
    extrapolation counts (atom-steps, steps) when ``counts`` are given (else the potential did not count)."""
    stage = orm.WorkChainNode(label=stage_label)
    stage.set_process_label(label)
    stage.store()
    calculation = orm.CalcJobNode()
    calculation.base.links.add_incoming(stage, LinkType.CALL_CALC, 'run')
    calculation.store()
    extrapolation = None
    if counts:
        atom_steps, steps = counts
        extrapolation = {'atom_steps': atom_steps, 'steps': steps, 'max_atoms': 3 * bool(steps), 'first_step': None}
    results = orm.Dict({'extrapolation': extrapolation})
    results.base.links.add_incoming(calculation, LinkType.CREATE, 'results')
    results.store()
    return stage


@pytest.mark.parametrize('protocol', ['paper', 'demo'])
def test_report_has_every_figure_number_and_pk(aiida_profile, tmp_path, protocol):
    study = fake_study(protocol)
    page = write_report(study, tmp_path)
    text = page.read_text()
    figures = re.findall(r'<figure id="([a-z_]+)"><img alt="[^"]*" src="data:image/png;base64,([^"]+)"', text)
    assert [name for name, _ in figures] == list(FIGURES), 'every figure, in the order of the study'
    assert all(base64.b64decode(data).startswith(b'\x89PNG') for _, data in figures), 'embedded, self-contained'
    assert 'src="http' not in text and '<script' not in text
    glass = study.outputs.diffusion['glass']
    assert '0.269 ± 0.012 (95 %: 0.245 to 0.293) eV' in text
    assert f'[PK {glass.pk}]' in text and f'[PK {study.outputs.domains["fs_000100000000"].pk}]' in text
    assert '300 K: 0.0071 ± 0.0009 (95 %: 0.0055 to 0.0091) S/cm' in text
    assert '1.5 ± 0.2 (95 %: 1.1 to 1.9)' in text, 'Li near ordered / disordered P with its interval'
    assert '50.0 % / 25.0 % / ab' in text, 'ordered P, largest cluster and spanning axes of the last snapshot'
    markdown = (tmp_path / 'report.md').read_text()
    assert all('![' in markdown and f'({name}.png)' in markdown for name in FIGURES)
    compared = 'Compared with the study' in text
    assert compared == (protocol == 'paper')
    if compared:
        assert '<td>Li barrier, glass</td><td>0.269 eV</td><td>0.269 ± 0.012' in text


@pytest.mark.skipif(shutil.which('chromium') is None, reason='needs a Chromium browser (Debian package chromium)')
def test_report_opens_in_headless_chromium(aiida_profile, tmp_path):
    """The page as Chromium parses it holds every figure, and its screenshot shows them (not a blank page)."""
    page = write_report(fake_study('demo'), tmp_path / 'report')
    browser = ['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars']
    dom = subprocess.run(
        [*browser, '--dump-dom', page.as_uri()], capture_output=True, text=True, timeout=120, check=True
    )
    assert re.findall(r'<figure id="([a-z_]+)"', dom.stdout) == list(FIGURES)
    shot = tmp_path / 'screenshot.png'
    subprocess.run(
        [*browser, f'--screenshot={shot}', '--window-size=1200,4000', page.as_uri()], timeout=120, check=True
    )
    pixels = plt.imread(shot)[..., :3]
    assert pixels.shape[:2] == (4000, 1200)
    assert (pixels.mean(axis=2) < 0.9).mean() > 0.05, 'text, tables and figures cover the page'


def sanity_rows(text: str) -> list[str]:
    section = text.split('<h2>Sanity</h2>', 1)[1].split('<h2>', 1)[0]
    return re.findall(r'<tr>(.*?)</tr>', section)[1:]


def test_sanity_section_first_with_numbers_and_thresholds(aiida_profile, tmp_path):
    """Every check a row with its number and threshold; numbers outside a threshold are flagged, none is hidden."""
    study = fake_study('demo')
    atoms = read_crystal('beta')
    symbols = np.array(atoms.get_chemical_symbols())
    sulfur, phosphorus = np.flatnonzero(symbols == 'S')[0], np.flatnonzero(symbols == 'P')
    bonds = atoms.get_distances(sulfur, phosphorus, mic=True, vector=True)
    atoms.positions[sulfur] -= 0.5 * bonds[np.argmin(np.linalg.norm(bonds, axis=1))]  # S 3 A off its P: broken PS4
    study.outputs.glass = stored(orm.StructureData(ase=atoms))
    crystal = study.outputs.diffusion['crystal']
    study.outputs.diffusion['crystal'] = stored(orm.Dict({**crystal.get_dict(), 'D_A2_per_ps': [0.5, 1.0]}))
    text = write_report(study, tmp_path).read_text()
    assert text.index('<h2>Sanity</h2>') < text.index('<h2>Numbers</h2>'), 'sanity at the top'
    rows = sanity_rows(text)
    assert '<td>test RMSE of the potential, energy</td><td>reference</td><td>13 meV/atom</td>' in rows[0]
    assert rows[0].endswith('<td>&lt;= 10 meV/atom</td><td>FLAGGED</td>')
    assert '<td>crystal</td><td>0 of 4 P</td><td>0</td><td>ok</td>' in ''.join(rows)
    assert any('<td>glass</td>' in row and '1 of 4 P' in row and 'FLAGGED' in row for row in rows)
    assert any('D(Li) at 600 K' in row and '0.5 A^2/ps' in row and 'FLAGGED' in row for row in rows)
    after = next(row for row in rows if 'crystal after its 600 K diffusion run' in row)
    assert '0.900 relaxed' in after and '0.700 as it ran' in after and after.endswith('>ok</td>'), 'relaxed is judged'
    density = next(row for row in rows if 'density change' in row)
    assert '+11.1 % at the end' in density and '>ok<' in density
    contacts = [row for row in rows if 'shortest contact' in row]
    assert contacts and all('not measured' in row for row in contacts), 'a potential without training distances'
    extrapolation = [row for row in rows if 'extrapolation warnings' in row]
    assert '<td>Anneal</td><td>0 atom-steps in 0 steps' in extrapolation[0] and extrapolation[0].endswith('>ok</td>')
    assert '<td>Diffusion</td><td>125 atom-steps in 7 steps, at most 3 atoms' in extrapolation[1]
    assert extrapolation[1].endswith('FLAGGED</td>')
    assert '<td>Vdos</td><td>not counted by the potential' in extrapolation[2]
    assert f'<td>Relax ({RELAX_AFTER_DYNAMICS_LABEL})</td><td>0 atom-steps in 4 steps' in extrapolation[3]
