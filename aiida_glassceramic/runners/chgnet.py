"""``glassceramic-chgnet``: molecular dynamics and single points with CHGNet, a universal potential trained on PBE.

CHGNet (PyPI ``chgnet``, modified BSD licence) ships its pretrained weights inside the package: it runs offline.
The run description and the files are those of :mod:`.reference_engine`; ``calculator`` names the model::

    {"model": "0.3.0"}

Every run records the model, the package version and the SHA-256 of the model's weights in ``engine.json``.
A calculation fails (exit code 3) when CHGNet refuses the structure (an atom without neighbours within its cut-off).
"""

from __future__ import annotations

import sys
from functools import cache
from importlib.resources import files

from . import reference_engine

DEFAULT_MODEL = '0.3.0'


def models() -> list[str]:
    """The pretrained models shipped with the installed chgnet package."""
    return sorted(entry.name for entry in (files('chgnet') / 'pretrained').iterdir() if entry.is_dir())


def check_model(parameters: dict) -> None:
    if parameters['model'] not in models():
        raise reference_engine.InputError(f'calculator.model `{parameters["model"]}`: use one of {models()}')


@cache
def load_model(name: str):
    """The pretrained CHGNet ``name`` on the CPU, loaded once per process."""
    from chgnet.model import CHGNet

    return CHGNet.load(model_name=name, use_device='cpu', verbose=False)


def make_calculator(parameters: dict):
    from chgnet.model.dynamics import CHGNetCalculator

    return CHGNetCalculator(model=load_model(parameters['model']), use_device='cpu', on_isolated_atoms='error')


def describe(parameters: dict) -> dict:
    name = parameters['model']
    return reference_engine.pretrained_model_record('CHGNet', 'chgnet', name, load_model(name))


CHGNET = reference_engine.Engine(
    program='glassceramic-chgnet',
    max_atomic_number=94,  # CHGNet's element embedding ends at plutonium
    calculator_defaults={'model': DEFAULT_MODEL},
    calculator_keys=('model',),
    check_calculator=check_model,
    make_calculator=make_calculator,
    describe=describe,
    failures=(ValueError,),
    failure='CHGNet refused the structure',
)


def main(argv: list[str] | None = None) -> int:
    return reference_engine.main(CHGNET, argv, description=__doc__.splitlines()[0])


if __name__ == '__main__':
    sys.exit(main())
