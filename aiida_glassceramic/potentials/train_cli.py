"""``glassceramic-train``: fit a potential to training-set files and write potential, metrics and parity plot.

The parameters (see ``TrainingParameters``) and the training sets are checked before anything is written; the
sanity checks of the training data (``data_checks``) end up as ``warnings`` in ``metrics.json``, or refuse the data
with ``"strict": true``.

Exit codes: 0 ok, 2 bad input (one line on stderr naming the file or key and the fix), 3 the training diverged.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..training_set import TrainingSet, TrainingSetError
from .io import save_potential
from .training import TrainingDivergedError, parity_plot, split_test, train
from .training_parameters import TrainingParameters, check_descriptor_species

PROGRAM = 'glassceramic-train'
EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3


class InputError(ValueError):
    """Input that the training cannot use; the message names the file or key and the fix."""


def read_parameters(path: str | None) -> TrainingParameters:
    """The hyper-parameters of the JSON file ``path`` (defaults without one), checked key by key."""
    if path is None:
        return TrainingParameters()
    try:
        parameters = json.loads(Path(path).read_text())
    except OSError as error:
        raise InputError(f'--parameters `{path}`: {error.strerror or error}') from None
    except json.JSONDecodeError as error:
        raise InputError(f'--parameters `{path}`: not valid JSON ({error})') from None
    if not isinstance(parameters, dict):
        raise InputError(f'--parameters `{path}`: must hold a JSON object of hyper-parameters, e.g. {{"epochs": 100}}')
    try:
        return TrainingParameters.from_dict(parameters)
    except ValueError as error:
        raise InputError(f'--parameters `{path}`: {error}') from None


def read_training_sets(paths: list[str]) -> TrainingSet:
    """The training sets of the ``.npz`` files, merged; each must hold at least one structure."""
    sets = []
    for path in paths:
        try:
            data = TrainingSet.load_npz(path)
        except OSError as error:
            raise InputError(f'--training-set `{path}`: {error.strerror or error}') from None
        except (TrainingSetError, ValueError, KeyError) as error:
            raise InputError(f'--training-set `{path}`: not a training set ({error})') from None
        if not len(data):
            raise InputError(f'--training-set `{path}`: holds no structure; give a set with labelled structures')
        sets.append(data)
    return TrainingSet.merge(*sets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__)
    parser.add_argument('--training-set', action='append', required=True, help='training set .npz (repeatable)')
    parser.add_argument('--parameters', help='JSON file of hyper-parameters (see TrainingParameters)')
    parser.add_argument('--output-dir', default='.', help='folder for potential.pt, metrics.json, parity.png')
    arguments = parser.parse_args(argv)
    output = Path(arguments.output_dir)
    try:
        parameters = read_parameters(arguments.parameters)
        data = read_training_sets(arguments.training_set)
        check_descriptor_species(parameters.descriptor, data.species)
        if output.exists() and not output.is_dir():
            raise InputError(f'--output-dir `{output}`: is a file; give a folder')
        model, metrics = train(data, parameters, log=lambda line: print(line, flush=True))
    except TrainingDivergedError as error:
        print(f'{PROGRAM}: {error}', file=sys.stderr)
        return EXIT_DIVERGED
    except ValueError as error:
        print(f'{PROGRAM}: bad input: {error}', file=sys.stderr)
        return EXIT_BAD_INPUT
    output.mkdir(parents=True, exist_ok=True)
    save_potential(model, output / 'potential.pt')
    (output / 'metrics.json').write_text(json.dumps(metrics, indent=2))
    parity_plot(model, *split_test(data, parameters), output / 'parity.png')
    print(json.dumps(metrics), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
