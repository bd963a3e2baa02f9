"""Parser of ``glassceramic.train``: the potential node, the metrics (units in the keys) and the parity plot."""

from __future__ import annotations

import json
import math

from aiida import orm
from aiida.engine import ExitCode
from aiida.parsers import Parser

from ..calculations.train import EXIT_STATUS, METRICS, PARITY, POTENTIAL, STDERR
from ..data.potential import NNPotentialData

EXIT_BAD_INPUT, EXIT_DIVERGED = 2, 3
# metrics.json key -> output key (units: meV/atom for energies, meV/A for forces, GPa for stresses); the optional ones
# may be absent
METRIC_KEYS = {
    'rmse_energy_train': 'rmse_energy_train_meV_per_atom',
    'rmse_energy_test': 'rmse_energy_test_meV_per_atom',
    'rmse_forces_train': 'rmse_forces_train_meV_per_A',
    'rmse_forces_test': 'rmse_forces_test_meV_per_A',
    'n_train': 'n_train',
    'n_test': 'n_test',
    'epochs': 'epochs',
    'best_epoch': 'best_epoch',
    'wall_time_s': 'wall_time_s',
}
OPTIONAL_METRIC_KEYS = {
    'rmse_energy_validation': 'rmse_energy_validation_meV_per_atom',
    'rmse_forces_validation': 'rmse_forces_validation_meV_per_A',
    'rmse_stress_train': 'rmse_stress_train_GPa',
    'rmse_stress_validation': 'rmse_stress_validation_GPa',
    'rmse_stress_test': 'rmse_stress_test_GPa',
    'n_validation': 'n_validation',
}
BOUNDED = {
    'energy_meV_per_atom': 'rmse_energy_test_meV_per_atom',
    'forces_meV_per_A': 'rmse_forces_test_meV_per_A',
}


class MetricsError(ValueError):
    """metrics.json is missing a key or holds a value that is not a finite number."""


class TrainParser(Parser):
    """Turn the files of a training run into nodes; every failure is an exit code, never an exception."""

    def parse(self, **kwargs) -> ExitCode | None:
        names = set(self.retrieved.base.repository.list_object_names())
        status = self._exit_status(names)
        error = self._stderr_tail(names)
        if status == EXIT_DIVERGED:
            return self.exit_codes.ERROR_TRAINING_DIVERGED.format(error=error)
        if status == EXIT_BAD_INPUT:
            return self.exit_codes.ERROR_INVALID_INPUT.format(error=error)
        if status not in (0, None):
            return self.exit_codes.ERROR_SCRIPT_FAILED.format(status=status, error=error)
        missing = [name for name in (POTENTIAL, METRICS, PARITY) if name not in names]
        if missing:
            return self.exit_codes.ERROR_OUTPUT_FILES_MISSING.format(files=', '.join(missing), status=status)

        try:
            metrics = read_metrics(self.retrieved.base.repository.get_object_content(METRICS, mode='rb'))
        except (MetricsError, ValueError) as exc:
            return self.exit_codes.ERROR_METRICS_UNREADABLE.format(error=exc)
        try:
            with self.retrieved.base.repository.as_path(POTENTIAL) as path:
                potential = NNPotentialData(path)
        except Exception as exc:
            return self.exit_codes.ERROR_POTENTIAL_UNREADABLE.format(error=f'{type(exc).__name__}: {exc}')
        with self.retrieved.base.repository.open(PARITY, mode='rb') as handle:
            parity_plot = orm.SinglefileData(handle, filename=PARITY)

        for warning in metrics['warnings']:
            self.logger.warning(f'training data: {warning}')
        self.out('potential', potential)
        self.out('metrics', orm.Dict(metrics))
        self.out('parity_plot', parity_plot)
        return self._check_bounds(metrics)

    def _exit_status(self, names: set[str]) -> int | None:
        """The script's exit status recorded by the submit script; ``None`` when absent or unreadable."""
        if EXIT_STATUS not in names:
            return None
        text = self._text(EXIT_STATUS).strip()
        return int(text) if text.isdigit() else None

    def _stderr_tail(self, names: set[str], lines: int = 5) -> str:
        if STDERR not in names:
            return 'no stderr retrieved'
        text = self._text(STDERR).strip()
        return ' | '.join(text.splitlines()[-lines:]) or 'stderr is empty'

    def _text(self, name: str) -> str:
        """A text file of the retrieved folder; bytes that are not UTF-8 (a damaged file) are replaced."""
        return self.retrieved.base.repository.get_object_content(name, mode='rb').decode(errors='replace')

    def _check_bounds(self, metrics: dict) -> ExitCode | None:
        if 'max_test_rmse' not in self.node.inputs:
            return None
        exceeded = [
            f'{BOUNDED[key]} = {metrics[BOUNDED[key]]:.3f} > {bound}'
            for key, bound in self.node.inputs.max_test_rmse.get_dict().items()
            if metrics[BOUNDED[key]] > bound
        ]
        if exceeded:
            return self.exit_codes.ERROR_TEST_RMSE_ABOVE_BOUND.format(details='; '.join(exceeded))
        return None


def read_metrics(content: bytes) -> dict:
    """The metrics of ``metrics.json`` under keys that carry their units, and the ``warnings`` of the sanity checks
    of the training data (a list of lines, empty when the data looked sane or the file predates the checks).

    :raises MetricsError: invalid JSON, a missing key, or a value that is not a finite number.
    """
    try:
        raw = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetricsError(f'not valid JSON ({exc})') from exc
    if not isinstance(raw, dict):
        raise MetricsError(f'expected a JSON object, found {type(raw).__name__}')
    metrics = {}
    for keys, required in ((METRIC_KEYS, True), (OPTIONAL_METRIC_KEYS, False)):
        for source, target in keys.items():
            if source not in raw and not required:
                continue
            value = raw.get(source)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise MetricsError(f'`{source}` is {value!r}; expected a finite number')
            metrics[target] = value
    warnings = raw.get('warnings', [])
    if not isinstance(warnings, list) or not all(isinstance(line, str) for line in warnings):
        raise MetricsError(f'`warnings` is {warnings!r}; expected a list of lines')
    metrics['warnings'] = warnings
    return metrics
