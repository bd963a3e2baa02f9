#!/usr/bin/env python
"""A stand-in for the ``vasp`` executable: reads INCAR, POSCAR, KPOINTS and POTCAR, writes VASP-format outputs.

Energies and forces come from a cheap ASE Lennard-Jones calculator; ``IBRION = 0`` runs NVT molecular dynamics
(Berendsen, TEBEG, POTIM, NSW steps) and writes XDATCAR; otherwise one static point. Every ionic step is
appended to vasprun.xml, OUTCAR, OSZICAR and XDATCAR and CONTCAR (with velocities) is rewritten, so that a
killed run leaves what a killed VASP leaves. ``stand_in_vasp.json`` records what was read and computed.

Injected failures (environment variables):
- ``STAND_IN_VASP_UNCONVERGED_STATIC_NATOMS=N``: static points of N atoms never converge (NELM electronic steps).
- ``STAND_IN_VASP_KILL_AT_STEP=K``: an MD started without velocities dies (exit 137) after K ionic steps.
- ``STAND_IN_VASP_NO_OUTPUT_NATOMS=N``: structures of N atoms write no output files at all.
- ``STAND_IN_VASP_MARKERS=DIR``: every run first touches ``DIR/started-<number of atoms>``; with
  ``STAND_IN_VASP_HOLD_NATOMS=N:M``, an MD of N atoms started without velocities then waits (at most
  ``HOLD_SECONDS``) until a run of M atoms has started.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import ase
import numpy as np
from ase import units
from ase.calculators.lj import LennardJones
from ase.md.nptberendsen import NVTBerendsen
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary

HOLD_SECONDS = 120  # a held run goes on after this, so that a broken window fails its assertion, not its timeout
SCF_STEPS = 5
KBAR = -1.0 / (0.1 * units.GPa)  # ASE stress (eV/A^3, tension positive) -> VASP stress (kBar, pressure positive)


def read_incar(path: Path) -> dict[str, str]:
    incar = {}
    for raw in path.read_text().splitlines():
        line = raw.split('#')[0].split('!')[0]
        if '=' in line:
            key, value = line.split('=', 1)
            incar[key.strip().upper()] = value.strip()
    return incar


def read_poscar(path: Path) -> tuple[ase.Atoms, np.ndarray | None]:
    """Structure and (if present) the velocity block in A/fs, as VASP reads them."""
    lines = path.read_text().splitlines()
    scale = float(lines[1].split()[0])
    cell = np.array([[float(x) for x in lines[i].split()[:3]] for i in (2, 3, 4)]) * scale
    symbols, counts = lines[5].split(), [int(x) for x in lines[6].split()]
    row = 7
    if lines[row].strip()[0] in 'sS':
        row += 1
    cartesian = lines[row].strip()[0] in 'cCkK'
    natoms = sum(counts)
    coordinates = np.array([[float(x) for x in lines[row + 1 + i].split()[:3]] for i in range(natoms)])
    positions = coordinates * scale if cartesian else coordinates @ cell
    species = [symbol for symbol, count in zip(symbols, counts, strict=True) for _ in range(count)]
    atoms = ase.Atoms(species, positions=positions, cell=cell, pbc=True)
    rest = [line for line in lines[row + 1 + natoms :] if line.strip()]
    velocities = None
    if len(rest) >= natoms and rest[0].strip()[0] in 'cCkK':
        rest = rest[1:]
    if len(rest) >= natoms:
        velocities = np.array([[float(x) for x in rest[i].split()[:3]] for i in range(natoms)])
    return atoms, velocities


def read_potcar(path: Path) -> list[dict]:
    potentials = []
    for line in path.read_text().splitlines():
        words = line.split()
        if 'TITEL' in line:
            potentials.append({'titel': line.split('=')[1].strip()})
        elif words[:1] == ['POMASS'] or line.strip().startswith('POMASS'):
            potentials[-1]['pomass'] = float(line.split('=')[1].split(';')[0])
        elif 'ZVAL' in line and potentials:
            potentials[-1]['zval'] = float(line.split('ZVAL')[1].split('=')[1].split()[0])
    return potentials


def read_kpoints(path: Path) -> dict:
    lines = path.read_text().splitlines()
    return {'style': lines[2].strip(), 'mesh': [int(x) for x in lines[3].split()[:3]]}


def vector_block(name: str, rows: np.ndarray, indent: str = '   ') -> str:
    body = ''.join(f'{indent} <v> {" ".join(f"{x:16.8f}" for x in row)} </v>\n' for row in rows)
    return f'{indent}<varray name="{name}" >\n{body}{indent}</varray>\n'


def structure_block(atoms: ase.Atoms, name: str | None = None) -> str:
    label = f' name="{name}" ' if name else ''
    return (
        f'  <structure{label}>\n   <crystal>\n'
        + vector_block('basis', atoms.cell.array, '    ')
        + f'    <i name="volume"> {atoms.get_volume():16.8f} </i>\n   </crystal>\n'
        + vector_block('positions', atoms.get_scaled_positions(wrap=False))
        + '  </structure>\n'
    )


class Outputs:
    """The output files, appended step by step and flushed (a killed run keeps what was written)."""

    def __init__(self, atoms, incar, kpoints, potentials, md):
        self.md = md
        self.symbols = list(dict.fromkeys(atoms.get_chemical_symbols()))
        self.counts = [atoms.get_chemical_symbols().count(s) for s in self.symbols]
        self.vasprun = open('vasprun.xml', 'w')
        self.outcar = open('OUTCAR', 'w')
        self.oszicar = open('OSZICAR', 'w')
        self.xdatcar = open('XDATCAR', 'w') if md else None
        self.nelm, self.nsw, self.ibrion = int(incar.get('NELM', 60)), int(incar.get('NSW', 0)), incar['IBRION']
        self._header(atoms, incar, kpoints, potentials)

    def _header(self, atoms, incar, kpoints, potentials):
        parameters = ''.join(
            f'   <i name="{key}"> {value} </i>\n'
            for key, value in (
                ('ENMAX', incar.get('ENCUT', 400)),
                ('EDIFF', incar.get('EDIFF', 1e-4)),
                ('NELM', self.nelm),
                ('ISPIN', 1),
                ('NBANDS', 8),
            )
        )
        ionic = ''.join(
            f'   <i name="{key}"> {value} </i>\n'
            for key, value in (('NSW', self.nsw), ('IBRION', self.ibrion), ('POTIM', incar.get('POTIM', 0.5)))
        )
        atom_rows = ''.join(
            f'    <rc><c>{s:2s}</c><c>{self.symbols.index(s) + 1}</c></rc>\n' for s in atoms.get_chemical_symbols()
        )
        type_rows = ''.join(
            f'    <rc><c>{n}</c><c>{s:2s}</c><c>{p.get("pomass", 1.0)}</c><c>{p.get("zval", 1.0)}</c>'
            f'<c>{p["titel"]}</c></rc>\n'
            for s, n, p in zip(self.symbols, self.counts, potentials, strict=True)
        )
        self.vasprun.write(
            '<?xml version="1.0" encoding="ISO-8859-1"?>\n<modeling>\n <generator>\n'
            '  <i name="program" type="string">vasp </i>\n  <i name="version" type="string">6.4.2 </i>\n'
            ' </generator>\n <incar>\n'
            + ''.join(f'  <i name="{key}"> {value} </i>\n' for key, value in incar.items())
            + ' </incar>\n <kpoints>\n  <generation param="'
            + kpoints['style']
            + '">\n'
            f'   <v type="int" name="divisions"> {" ".join(map(str, kpoints["mesh"]))} </v>\n  </generation>\n'
            '  <varray name="kpointlist" >\n   <v> 0.0 0.0 0.0 </v>\n  </varray>\n'
            '  <varray name="weights" >\n   <v> 1.0 </v>\n  </varray>\n </kpoints>\n'
            ' <parameters>\n  <separator name="electronic" >\n' + parameters + '  </separator>\n'
            '  <separator name="ionic" >\n' + ionic + '  </separator>\n </parameters>\n'
            f' <atominfo>\n  <atoms> {len(atoms)} </atoms>\n  <types> {len(self.symbols)} </types>\n'
            '  <array name="atoms" >\n   <dimension dim="1">ion</dimension>\n'
            '   <field type="string">element</field>\n   <field type="int">atomtype</field>\n   <set>\n'
            + atom_rows
            + '   </set>\n  </array>\n  <array name="atomtypes" >\n   <set>\n'
            + type_rows
            + '   </set>\n  </array>\n </atominfo>\n'
            + structure_block(atoms, 'initialpos').replace('  <structure', ' <structure', 1)
        )
        self.outcar.write(
            ' vasp.6.4.2 (stand-in)\n'
            + ''.join(f'   POTCAR:    {p["titel"]}\n' for p in potentials)
            + f'   NELM   =  {self.nelm};    NELMIN=  2; NELMDL=  -5\n'
            f'   NSW    =  {self.nsw}    number of steps for IOM\n   IBRION =  {self.ibrion}\n'
            f'   number of dos      NEDOS =    301   number of ions     NIONS =  {len(atoms)}\n'
            '   NBANDS=  8\n'
        )
        if self.xdatcar:
            self._xdatcar_header(atoms)
        self._flush()

    def _xdatcar_header(self, atoms):
        self.xdatcar.write(
            'stand-in\n           1\n'
            + ''.join(f'  {" ".join(f"{x:12.6f}" for x in row)}\n' for row in atoms.cell.array)
            + '  '
            + ' '.join(self.symbols)
            + '\n  '
            + ' '.join(map(str, self.counts))
            + '\n'
        )

    def step(self, index: int, atoms: ase.Atoms, energy: float, forces, stress_kbar, *, nscf: int, kinetic: float):
        scsteps = ''.join(
            '  <scstep>\n   <energy>\n'
            f'    <i name="e_fr_energy"> {energy + 10.0 ** (-k):16.8f} </i>\n'
            f'    <i name="e_wo_entrp"> {energy + 10.0 ** (-k):16.8f} </i>\n'
            f'    <i name="e_0_energy"> {energy + 10.0 ** (-k):16.8f} </i>\n'
            '   </energy>\n  </scstep>\n'
            for k in range(nscf)
        )
        self.vasprun.write(
            ' <calculation>\n'
            + scsteps
            + structure_block(atoms)
            + vector_block('forces', forces, '  ')
            + vector_block('stress', stress_kbar, '  ')
            + '  <energy>\n'
            f'   <i name="e_fr_energy"> {energy:16.8f} </i>\n   <i name="e_wo_entrp"> {energy:16.8f} </i>\n'
            f'   <i name="e_0_energy"> {energy:16.8f} </i>\n  </energy>\n </calculation>\n'
        )
        for k in range(nscf):
            self.outcar.write(f'--------------------------------------- Iteration {index:6d}({k + 1:4d})  ------\n')
        self.outcar.write(
            ' POSITION                                       TOTAL-FORCE (eV/Angst)\n'
            ' -----------------------------------------------------------------------------------\n'
            + ''.join(
                f' {p[0]:12.5f} {p[1]:12.5f} {p[2]:12.5f}   {f[0]:13.6f} {f[1]:13.6f} {f[2]:13.6f}\n'
                for p, f in zip(atoms.positions, forces, strict=True)
            )
            + ' -----------------------------------------------------------------------------------\n'
            f'  free  energy   TOTEN  =     {energy:16.8f} eV\n  energy  without entropy=  {energy:16.8f}'
            f'  energy(sigma->0) =  {energy:16.8f}\n'
        )
        for k in range(nscf):
            self.oszicar.write(f'DAV: {k + 1:4d}    {energy + 10.0 ** (-k): .8E}\n')
        temperature = 2.0 * kinetic / (3.0 * len(atoms) * units.kB)
        self.oszicar.write(
            f'{index:5d} T= {temperature:8.0f}. E= {energy + kinetic: .8E} F= {energy: .8E} E0= {energy: .8E}'
            f'  EK= {kinetic: .5E}\n'
            if self.md
            else f'   1 F= {energy: .8E} E0= {energy: .8E}  d E =0.000000E+00\n'
        )
        if self.xdatcar:
            self.xdatcar.write(
                f'Direct configuration= {index:5d}\n'
                + ''.join(f'  {" ".join(f"{x:11.8f}" for x in row)}\n' for row in atoms.get_scaled_positions())
            )
        print(f'DAV:   {nscf}   {energy: .8E}', flush=True)
        self._flush()

    def finish(self, atoms: ase.Atoms):
        self.vasprun.write(structure_block(atoms, 'finalpos').replace('  <structure', ' <structure', 1))
        self.vasprun.write('</modeling>\n')
        self.outcar.write(
            '\n General timing and accounting informations for this job:\n'
            ' ========================================================\n\n'
            '                  Total CPU time used (sec):        1.000\n'
            '                            User time (sec):        1.000\n'
            '                          System time (sec):        0.000\n'
            '                         Elapsed time (sec):        1.000\n\n'
            '                   Maximum memory used (kb):       10000.\n'
            '                   Average memory used (kb):          N/A\n'
        )
        self._flush()

    def _flush(self):
        for handle in (self.vasprun, self.outcar, self.oszicar, self.xdatcar):
            if handle:
                handle.flush()


def write_contcar(atoms: ase.Atoms, velocities: np.ndarray | None) -> None:
    """CONTCAR as VASP writes it during MD: positions (direct) and velocities (A/fs)."""
    symbols = list(dict.fromkeys(atoms.get_chemical_symbols()))
    text = (
        'stand-in\n   1.00000000000000\n'
        + ''.join(f'  {" ".join(f"{x:20.14f}" for x in row)}\n' for row in atoms.cell.array)
        + '  '
        + ' '.join(symbols)
        + '\n  '
        + ' '.join(str(atoms.get_chemical_symbols().count(s)) for s in symbols)
        + '\nDirect\n'
        + ''.join(f'  {" ".join(f"{x:18.14f}" for x in row)}\n' for row in atoms.get_scaled_positions())
    )
    if velocities is not None:
        text += '\n' + ''.join(f'  {" ".join(f"{x:18.14f}" for x in row)}\n' for row in velocities)
    Path('CONTCAR.tmp').write_text(text)
    Path('CONTCAR.tmp').replace('CONTCAR')


def labels(atoms: ase.Atoms) -> tuple[float, np.ndarray, np.ndarray]:
    energy, forces = atoms.get_potential_energy(), atoms.get_forces()
    voigt = atoms.get_stress()
    stress = np.array([[voigt[0], voigt[5], voigt[4]], [voigt[5], voigt[1], voigt[3]], [voigt[4], voigt[3], voigt[2]]])
    return energy, forces, stress * KBAR


def hold_until_started(natoms: int, fresh: bool) -> None:
    """Mark this run's start; a fresh run of the held size waits for the start of a run of the awaited size."""
    markers = os.environ.get('STAND_IN_VASP_MARKERS')
    if not markers:
        return
    (Path(markers) / f'started-{natoms}').touch()
    held, _, awaited = os.environ.get('STAND_IN_VASP_HOLD_NATOMS', '').partition(':')
    deadline = time.monotonic() + HOLD_SECONDS
    while fresh and held == str(natoms) and not (Path(markers) / f'started-{awaited}').exists():
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


def main() -> int:
    print(' running on    1 total cores\n vasp.6.4.2 stand-in', flush=True)
    incar = read_incar(Path('INCAR'))
    atoms, velocities = read_poscar(Path('POSCAR'))
    hold_until_started(len(atoms), velocities is None)
    kpoints, potentials = read_kpoints(Path('KPOINTS')), read_potcar(Path('POTCAR'))
    symbols = list(dict.fromkeys(atoms.get_chemical_symbols()))
    if [p['titel'].split()[1].split('_')[0] for p in potentials] != symbols:
        print(f'stand-in: POTCAR {[p["titel"] for p in potentials]} does not match POSCAR {symbols}', flush=True)
        return 1
    if os.environ.get('STAND_IN_VASP_NO_OUTPUT_NATOMS') == str(len(atoms)):
        print('stand-in: injected failure, no output', flush=True)
        return 1
    md = int(incar.get('IBRION', -1)) == 0 and int(incar.get('NSW', 0)) > 0
    unconverged = not md and os.environ.get('STAND_IN_VASP_UNCONVERGED_STATIC_NATOMS') == str(len(atoms))
    kill_at = int(os.environ.get('STAND_IN_VASP_KILL_AT_STEP', '0')) if velocities is None else 0
    incar.setdefault('IBRION', '-1')
    atoms.calc = LennardJones(sigma=1.8, epsilon=0.02, rc=4.5, smooth=True)
    outputs = Outputs(atoms, incar, kpoints, potentials, md)
    nscf = int(incar.get('NELM', 60)) if unconverged else SCF_STEPS
    record = {'incar': incar, 'kpoints': kpoints, 'potcar': [p['titel'] for p in potentials], 'energies': []}
    record['restarted_with_velocities'] = velocities is not None
    if not md:
        energy, forces, stress = labels(atoms)
        outputs.step(1, atoms, energy, forces, stress, nscf=nscf, kinetic=0.0)
        write_contcar(atoms, None)
        record['energies'].append(energy)
        record['forces'] = forces.tolist()
    else:
        temperature, timestep = float(incar.get('TEBEG', 300)), float(incar.get('POTIM', 1.0))
        if velocities is None:
            MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=np.random.default_rng(0))
            Stationary(atoms)
        else:
            atoms.set_velocities(velocities * units.fs)
        dynamics = NVTBerendsen(atoms, timestep * units.fs, temperature_K=temperature, taut=20 * units.fs)
        for index in range(1, int(incar['NSW']) + 1):
            energy, forces, stress = labels(atoms)
            outputs.step(index, atoms, energy, forces, stress, nscf=nscf, kinetic=atoms.get_kinetic_energy())
            dynamics.run(1)
            write_contcar(atoms, atoms.get_velocities() / units.fs)
            record['energies'].append(energy)
            if index == kill_at:
                Path('stand_in_vasp.json').write_text(json.dumps(record))
                os._exit(137)
    outputs.finish(atoms)
    Path('stand_in_vasp.json').write_text(json.dumps(record))
    return 0


if __name__ == '__main__':
    sys.exit(main())
