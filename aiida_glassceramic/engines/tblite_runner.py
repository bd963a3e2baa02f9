"""``glassceramic-tblite``: GFN1-xTB (tblite) molecular dynamics and single points on periodic structures.

The run description and the files are those of :mod:`.reference_runner`; ``calculator`` holds tblite's settings::

    {"method": "GFN1-xTB", "accuracy": 1.0, "max_iterations": 250, "electronic_temperature": 300}

A calculation fails (exit code 3) when its SCF does not converge.
"""

from __future__ import annotations

import sys
from importlib.metadata import version

from ase.calculators.calculator import CalculationFailed

from . import reference_runner


def make_calculator(parameters: dict):
    from tblite.ase import TBLite

    return TBLite(verbosity=0, **parameters)


def describe(parameters: dict) -> dict:
    return {'name': 'tblite', 'model': parameters['method'], 'package_version': version('tblite')}


TBLITE = reference_runner.Engine(
    program='glassceramic-tblite',
    calculator_defaults={'method': 'GFN1-xTB'},
    calculator_keys=('method', 'accuracy', 'max_iterations', 'electronic_temperature', 'mixer_damping'),
    check_calculator=lambda parameters: None,
    make_calculator=make_calculator,
    describe=describe,
    failures=(CalculationFailed,),
    failure='SCF not converged',
)


def main(argv: list[str] | None = None) -> int:
    return reference_runner.main(TBLITE, argv, description=__doc__.splitlines()[0])


if __name__ == '__main__':
    sys.exit(main())
