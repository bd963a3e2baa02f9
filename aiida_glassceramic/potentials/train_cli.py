"""``glassceramic-train``: fit a potential to training-set files and write potential, metrics and parity plot."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .dataset import TrainingSet
from .io import save_potential
from .training import TrainingDivergedError, parity_plot, train

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='glassceramic-train', description=__doc__)
    parser.add_argument('--training-set', action='append', required=True, help='training set .npz (repeatable)')
    parser.add_argument('--parameters', help='JSON file of hyper-parameters (see TrainingParameters)')
    parser.add_argument('--output-dir', default='.', help='folder for potential.pt, metrics.json, parity.png')
    arguments = parser.parse_args(argv)
    output = Path(arguments.output_dir)
    try:
        data = TrainingSet.merge(*(TrainingSet.load_npz(path) for path in arguments.training_set))
        parameters = json.loads(Path(arguments.parameters).read_text()) if arguments.parameters else {}
        if not isinstance(parameters, dict):
            raise ValueError(f'--parameters `{arguments.parameters}`: must hold a JSON object')
        output.mkdir(parents=True, exist_ok=True)
        train_part, test_part = data.split(1.0 - float(parameters.get('test_fraction', 0.2)), parameters.get('seed', 0))
        print(f'training on {len(train_part)} structures, testing on {len(test_part)}', flush=True)
        model, metrics = train(train_part, parameters, test_part, log=lambda line: print(line, flush=True))
    except TrainingDivergedError as error:
        print(f'error: {error}', file=sys.stderr)
        return EXIT_DIVERGED
    except (ValueError, OSError, json.JSONDecodeError) as error:
        print(f'error: {error}', file=sys.stderr)
        return EXIT_BAD_INPUT
    save_potential(model, output / 'potential.pt')
    (output / 'metrics.json').write_text(json.dumps(metrics, indent=2))
    parity_plot(model, train_part, test_part, output / 'parity.png')
    print(json.dumps(metrics), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
