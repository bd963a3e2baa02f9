"""``glassceramic-tblite``: GFN1-xTB (tblite) molecular dynamics and single points on periodic structures.

The run description and the files are those of :mod:`.reference_engine`; ``calculator`` holds tblite's settings::

    {"method": "GFN1-xTB", "accuracy": 1.0, "max_iterations": 250, "electronic_temperature": 300}

A calculation fails (exit code 3) when its SCF does not converge; a method tblite lacks, a setting that is not a
positive number or an element beyond radon is bad input (exit code 2).
"""

from __future__ import annotations

import sys
from importlib.metadata import version

from ase.calculators.calculator import CalculationFailed

from . import reference_engine

METHODS = ('GFN1-xTB', 'GFN2-xTB', 'IPEA1-xTB')
SETTINGS = {  # numeric settings: unit or meaning, whole number
    'accuracy': ('SCC accuracy, 1.0 by default, smaller is tighter', False),
    'max_iterations': ('SCC iterations', True),
    'electronic_temperature': ('K', False),
    'mixer_damping': ('SCC mixer damping, 0.4 by default', False),
}


def check_calculator(parameters: dict) -> None:
    if parameters['method'] not in METHODS:
        raise reference_engine.InputError(f'calculator.method `{parameters["method"]}`: use one of {list(METHODS)}')
    for key, (unit, whole) in SETTINGS.items():
        if key in parameters:
            parameters[key] = reference_engine.check_positive(parameters, 'calculator', key, unit, whole)


def make_calculator(parameters: dict):
    from tblite.ase import TBLite

    return TBLite(verbosity=0, **parameters)


def describe(parameters: dict) -> dict:
    return {'name': 'tblite', 'model': parameters['method'], 'package_version': version('tblite')}


TBLITE = reference_engine.Engine(
    program='glassceramic-tblite',
    max_atomic_number=86,  # the GFN parameters end at radon
    calculator_defaults={'method': 'GFN1-xTB'},
    calculator_keys=('method', *SETTINGS),
    check_calculator=check_calculator,
    make_calculator=make_calculator,
    describe=describe,
    failures=(CalculationFailed,),
    failure='SCF not converged',
)


def main(argv: list[str] | None = None) -> int:
    return reference_engine.main(TBLITE, argv, description=__doc__.splitlines()[0])


if __name__ == '__main__':
    sys.exit(main())
