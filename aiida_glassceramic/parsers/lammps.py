"""Parser of the LAMMPS runs of the MD workflows: aiida-lammps' ``lammps.raw`` parser, made safe for broken output.

aiida-lammps reads every thermo row with ``ast.literal_eval``; it raises on ``nan``/``inf`` values (dynamics that blew
up) and on a thermo table cut off by a killed job (an empty or partial last line), and the calculation then excepts.
This parser gives exit codes instead: the LAMMPS error lines and the first non-finite thermo row as
``ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR``; output cut off before LAMMPS' end-of-run line as a finished calculation
without ``total_wall_time`` in its results, which the work chains treat as incomplete and run again.
"""

from __future__ import annotations

import math

from aiida import orm
from aiida.engine import ExitCode
from aiida_lammps.calculations.raw import LammpsRawCalculation
from aiida_lammps.parsers.raw import LammpsRawParser

STDOUT = LammpsRawCalculation.FILENAME_OUTPUT
END_OF_RUN = 'Total wall time:'
BANNER = 'LAMMPS ('


def non_finite_thermo(lines) -> str | None:
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


class LammpsParser(LammpsRawParser):
    """``lammps.raw`` parsing; output it cannot read becomes an exit code (see the module), never an exception."""

    def parse(self, **kwargs) -> ExitCode | None:
        try:
            return super().parse(**kwargs)
        except Exception as exception:  # any failure of the upstream parser on this output
            return self._parse_unreadable(f'{type(exception).__name__}: {exception}')

    def _parse_unreadable(self, reason: str) -> ExitCode | None:
        content = self.retrieved.base.repository.get_object_content(STDOUT, mode='rb')
        lines = content.decode(errors='replace').splitlines()
        if not any(BANNER in line for line in lines[:5]):
            self.logger.error(f'{STDOUT} is not LAMMPS output ({reason})')
            return self.exit_codes.ERROR_PARSING_OUTFILE
        errors = [line.strip() for line in lines if 'ERROR' in line]
        thermo = non_finite_thermo(lines)
        results = {'errors': [{'message': error} for error in errors], 'warnings': [], 'unparsed': reason}
        end = [line for line in lines if line.startswith(END_OF_RUN)]
        if end:
            results['total_wall_time'] = end[-1].split()[-1]
        self.out('results', orm.Dict({'compute_variables': results}))
        if errors or thermo:
            return self.exit_codes.ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR.format(
                error='; '.join(errors + ([thermo] if thermo else []))
            )
        if not end:
            self.logger.warning(f'{STDOUT} ends before the end of the run ({reason})')
            return None
        self.logger.error(f'{STDOUT} of a complete run could not be parsed ({reason})')
        return self.exit_codes.ERROR_PARSING_OUTFILE
