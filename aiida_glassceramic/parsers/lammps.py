"""Parser of :class:`~aiida_glassceramic.calculations.lammps.LammpsCalculation`: the package's one reader of LAMMPS
output (the screen output ``lammps.out`` with its thermo table, and the dumps).

Output that cannot be trusted becomes an exit code, never an exception: dynamics that blew up (:data:`UNSTABLE_ERRORS`
or ``nan``/``inf`` in the thermo table), any other LAMMPS error, output cut off before LAMMPS' end-of-run line (a
killed job: the thermo table may end inside a row) and retrieved files missing. A complete run gives the thermo series,
the final structure, the snapshots and the restart and trajectory files that the work chains take.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from aiida import orm
from aiida.engine import ExitCode
from aiida.parsers.parser import Parser

from ..analysis.trajectory import iter_lammps_dump
from ..calculations.lammps import LammpsCalculation
from ..engines import lammps_scripts as scripts
from ..potentials.extrapolation import extrapolation_summary

STDOUT = LammpsCalculation.FILENAME_OUTPUT
END_OF_RUN = 'Total wall time:'
BANNER = 'LAMMPS ('
# How LAMMPS heads the columns of lammps_scripts.THERMO_COLUMNS.
THERMO_HEADER = ['Step', 'Time', 'Temp', 'PotEng', 'KinEng', 'TotEng', 'Press', 'Volume', 'Lx', 'Ly', 'Lz']
THERMO_HEADER += ['Xy', 'Xz', 'Yz']
# LAMMPS errors of dynamics that blew up (atoms flew off, forces or coordinates became NaN or infinite).
UNSTABLE_ERRORS = re.compile(
    r'Lost atoms|Non-numeric (?:atom coords|positions|box dimensions|pressure)|Out of range atoms'
    r'|Domain too large for neighbor bins|Too many neighbor bins'
)
FILE_OUTPUTS = {
    scripts.RESTART_OUTPUT: 'restart',
    scripts.TRAJECTORY_DUMP: 'trajectory',
    scripts.VELOCITY_DUMP: 'velocities',
}


def non_finite_thermo(lines: Sequence[str]) -> str | None:
    """The first thermo row (a line of numbers starting with a step) holding ``nan`` or ``inf``, else None."""
    for line in lines:
        words = line.split()
        if len(words) < 2 or not words[0].isdigit():
            continue
        try:
            values = [float(word) for word in words]
        except ValueError:
            continue
        if not all(math.isfinite(value) for value in values):
            return f'thermo not finite from step {words[0]}'
    return None


def instability(lines: Sequence[str], errors: Sequence[str]) -> str | None:
    """What shows that the dynamics blew up: the first LAMMPS error of :data:`UNSTABLE_ERRORS` and/or non-finite
    thermo rows."""
    unstable = [error for error in errors if UNSTABLE_ERRORS.search(error)]
    symptoms = [re.sub(r'^ERROR(?: on proc \d+)?: ', '', error).split(' (src/')[0] for error in unstable[:1]]
    thermo = non_finite_thermo(lines)
    return '; '.join([*symptoms, thermo] if thermo else symptoms) or None


def read_thermo(lines: Sequence[str]) -> dict[str, np.ndarray]:
    """Every row of the thermo tables of :data:`THERMO_HEADER`, runs in order; the row a run repeats of the previous
    run's last step is kept once."""
    rows: list[list[float]] = []
    in_table = False
    for line in lines:
        words = line.split()
        if words == THERMO_HEADER:
            in_table = True
            continue
        try:
            values = [float(word) for word in words] if in_table else []
        except ValueError:
            values = []
        if len(values) != len(THERMO_HEADER):
            in_table = False
        elif not rows or values[:2] != rows[-1][:2]:
            rows.append(values)
    table = np.array(rows, dtype=float).reshape(-1, len(THERMO_HEADER))
    return {name: table[:, index] for index, name in enumerate(scripts.THERMO_COLUMNS)}


class LammpsParser(Parser):
    """Exit codes and outputs of a LAMMPS run (see the module)."""

    def parse(self, **kwargs) -> ExitCode | None:
        names = self.retrieved.base.repository.list_object_names()
        if STDOUT not in names:
            return self.exit_codes.ERROR_OUTFILE_MISSING
        try:
            lines = self.retrieved.base.repository.get_object_content(STDOUT, mode='rb').decode().splitlines()
        except UnicodeDecodeError as error:
            self.logger.error(f'{STDOUT} is not text: {error}')
            return self.exit_codes.ERROR_PARSING_OUTFILE
        if not any(BANNER in line for line in lines[:5]):
            self.logger.error(f'{STDOUT} is not LAMMPS output')
            return self.exit_codes.ERROR_PARSING_OUTFILE
        errors = [line.strip() for line in lines if 'ERROR' in line]
        end = [line.split()[-1] for line in lines if line.startswith(END_OF_RUN)]
        warnings = [line.strip() for line in lines if 'WARNING' in line]
        results = {'errors': errors, 'warnings': warnings, 'total_wall_time': end[-1] if end else None}
        self.out('results', orm.Dict({**results, 'extrapolation': extrapolation_summary('\n'.join(lines))}))
        if symptom := instability(lines, errors):
            return self.exit_codes.ERROR_UNSTABLE_DYNAMICS.format(symptom=symptom)
        if errors:
            return self.exit_codes.ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR.format(error='; '.join(errors))
        if not end:
            return self.exit_codes.ERROR_INCOMPLETE_RUN
        settings = self.node.inputs.settings.get_dict() if 'settings' in self.node.inputs else {}
        if missing := [name for name in settings.get('additional_retrieve_list', []) if name not in names]:
            return self.exit_codes.ERROR_MISSING_FILES.format(files=', '.join(missing))
        thermo = orm.ArrayData()
        for name, values in read_thermo(lines).items():
            thermo.set_array(name, values)
        self.out('thermo', thermo)
        if scripts.FINAL_DUMP in names:
            *_, (_, final) = self.frames(scripts.FINAL_DUMP)
            self.out('structure', final)
        if scripts.SNAPSHOT_DUMP in names:
            frames = self.frames(scripts.SNAPSHOT_DUMP)
            self.out('snapshots', {scripts.snapshot_key(time): frame for time, frame in frames})
        for filename, label in FILE_OUTPUTS.items():
            if filename in names:
                with self.retrieved.base.repository.open(filename, mode='rb') as handle:
                    self.out(label, orm.SinglefileData(handle, filename=filename))
        return None

    def frames(self, filename: str) -> Iterator[tuple[float | None, orm.StructureData]]:
        """(simulated time in ps or None, structure) of every frame of a retrieved dump, one frame in memory at a
        time."""
        with self.retrieved.as_path(filename) as path:
            for atoms in iter_lammps_dump(Path(path)):
                atoms.arrays.pop('lammps_velocities', None)
                yield atoms.info.get('time'), orm.StructureData(ase=atoms)
