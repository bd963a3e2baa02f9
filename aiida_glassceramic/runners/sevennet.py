"""``glassceramic-sevennet``: molecular dynamics and single points with SevenNet, a universal potential trained on PBE.

SevenNet (PyPI ``sevenn``, MIT licence) ships the checkpoints of its single-fidelity pretrained models inside the
package: it runs offline. The run description and the files are those of :mod:`.reference_engine`; ``calculator``
names the model::

    {"model": "7net-0"}

Every run records the model, the package version and the SHA-256 of the model's weights in ``engine.json``.
A calculation fails (exit code 3) when SevenNet refuses the structure (an element it was not trained on).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from . import reference_engine

DEFAULT_MODEL = '7net-0'
# single-fidelity pretrained models -> the name of the constant of their checkpoint in ``sevenn._const``
CHECKPOINTS = {
    '7net-0': 'SEVENNET_0_11Jul2024',
    '7net-0_22may2024': 'SEVENNET_0_22May2024',
    '7net-l3i5': 'SEVENNET_l3i5',
}


def checkpoint_paths() -> dict[str, Path]:
    """The pretrained models whose checkpoint the installed sevenn package holds, with its path."""
    from sevenn import _const

    paths = {name: Path(getattr(_const, constant, '')) for name, constant in CHECKPOINTS.items()}
    return {name: path for name, path in paths.items() if path.is_file()}


def check_model(parameters: dict) -> None:
    if parameters['model'] not in checkpoint_paths():
        raise reference_engine.InputError(
            f'calculator.model `{parameters["model"]}`: use one of {sorted(checkpoint_paths())}'
        )


@cache
def load_model(name: str):
    """The pretrained SevenNet ``name``, built once per process from the checkpoint in the package."""
    from sevenn.util import load_checkpoint

    return load_checkpoint(str(checkpoint_paths()[name])).build_model()


def make_calculator(parameters: dict):
    from sevenn.calculator import SevenNetCalculator

    return SevenNetCalculator(model=load_model(parameters['model']), file_type='model_instance', device='cpu')


def describe(parameters: dict) -> dict:
    name = parameters['model']
    return reference_engine.pretrained_model_record('SevenNet', 'sevenn', name, load_model(name))


SEVENNET = reference_engine.Engine(
    program='glassceramic-sevennet',
    max_atomic_number=94,  # SevenNet-0's elements end at plutonium; Po to Ra (84-88) it refuses as a failure
    calculator_defaults={'model': DEFAULT_MODEL},
    calculator_keys=('model',),
    check_calculator=check_model,
    make_calculator=make_calculator,
    describe=describe,
    failures=(ValueError,),
    failure='SevenNet refused the structure',
)


def main(argv: list[str] | None = None) -> int:
    return reference_engine.main(SEVENNET, argv, description=__doc__.splitlines()[0])


if __name__ == '__main__':
    sys.exit(main())
