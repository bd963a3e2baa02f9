"""The embedded engines' MD with a temperature ramp (a quench of the reference data), on Lennard-Jones argon: the
thermostat follows the ramp, and a run stopped part-way continues along exactly the path of the uninterrupted run."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.lj import LennardJones

from aiida_glassceramic.runners.reference_engine import (
    EXIT_FAILED,
    EXIT_OK,
    RESTART,
    TRAJECTORY,
    Engine,
    run_md,
    validate,
)


class StoppedError(RuntimeError):
    """The calculation failure of the test engine."""


class StoppingLennardJones(LennardJones):
    """Argon Lennard-Jones that fails once it has been called ``stop_after`` times."""

    def __init__(self, stop_after: int | None = None):
        super().__init__(sigma=3.4, epsilon=0.0104, rc=8.5, smooth=True)
        self.calls, self.stop_after = 0, stop_after

    def calculate(self, *args, **kwargs):
        self.calls += 1
        if self.stop_after is not None and self.calls > self.stop_after:
            raise StoppedError('stopped by the test')
        super().calculate(*args, **kwargs)


def engine(stop_after: int | None = None) -> Engine:
    return Engine(
        program='argon-test',
        max_atomic_number=18,
        calculator_defaults={},
        calculator_keys=(),
        check_calculator=lambda settings: None,
        make_calculator=lambda settings: StoppingLennardJones(stop_after),
        describe=lambda settings: {},
        failures=(StoppedError,),
        failure='stopped',
    )


def quench(steps: int, start: float = 300.0, end: float = 30.0) -> dict:
    md = {'temperature': start, 'temperature_end': end, 'timestep': 5.0, 'steps': steps, 'interval': 10}
    return validate({'task': 'md', 'md': {**md, 'friction': 0.05, 'seed': 3}}, engine())


@pytest.fixture
def argon():
    return bulk('Ar', 'fcc', a=5.26, cubic=True).repeat(3)  # 108 atoms


def test_thermostat_follows_the_ramp(argon, tmp_path):
    assert run_md(argon, engine(), quench(600), tmp_path, None) == EXIT_OK
    frames = ase.io.read(tmp_path / TRAJECTORY, index=':')
    steps = np.array([frame.info['step'] for frame in frames])
    temperatures = np.array([frame.get_temperature() for frame in frames])
    ramp = 300.0 + (30.0 - 300.0) * steps / 600
    late = steps >= 100  # a friction of 0.05/fs follows the target within a few fs
    assert np.abs(temperatures[late] - ramp[late]).mean() < 0.2 * ramp[late].mean()
    assert temperatures[-6:].mean() < 60.0
    assert temperatures[steps <= 150][1:].mean() > 240.0


def test_stopped_quench_continues_along_the_same_path(argon, tmp_path):
    whole, stopped = tmp_path / 'whole', tmp_path / 'stopped'
    whole.mkdir(), stopped.mkdir()
    assert run_md(argon, engine(), quench(200), whole, None) == EXIT_OK

    config = quench(200)
    first = run_md(argon, engine(stop_after=125), config, stopped, None)
    assert first == EXIT_FAILED
    reached = int(np.load(stopped / RESTART)['step'])
    assert 0 < reached < 200
    assert run_md(argon, engine(), config, stopped, stopped / RESTART) == EXIT_OK

    end, again = ase.io.read(whole / TRAJECTORY, index=-1), ase.io.read(stopped / TRAJECTORY, index=-1)
    assert again.info['step'] == end.info['step'] == 200
    np.testing.assert_allclose(again.positions, end.positions, rtol=0, atol=1e-10)
    np.testing.assert_allclose(again.get_velocities(), end.get_velocities(), rtol=0, atol=1e-10)
