"""What the reference-data work chain asks of a reference engine, whatever the engine.

An engine checks its own settings (the section ``parameters.<engine>`` of a reference-data protocol), builds the
process and inputs of the AIMD of one condition and of the static labels of a batch of snapshots, and reads the
labels back from its finished static jobs. A killed AIMD is continued by the process the engine builds (a restart
work chain), never by the reference-data work chain.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from aiida import orm
from aiida.engine import Process

from ..data.training_set import TrainingSetData


class EngineInputError(ValueError):
    """Engine settings that cannot work; the message names the field and the fix."""


class ReferenceEngine(ABC):
    """An engine of the reference data (tblite, CHGNet, VASP)."""

    name: str  # the engine's key in the protocols, and the section ``parameters.<name>`` of its settings
    code_plugins: tuple[str, ...]  # the calculation plugins of its codes
    labels_from_md: bool = False  # its MD frames carry energies, forces and stresses: no static stage

    @abstractmethod
    def check(self, parameters: dict, elements: set[str]) -> None:
        """Raise :class:`EngineInputError` for settings of ``parameters`` that cannot run on ``elements``."""

    @abstractmethod
    def aimd(  # noqa: PLR0917
        self,
        code: orm.AbstractCode,
        structure: orm.StructureData,
        temperatures: tuple[float, float],
        cell_size: int,
        parameters: dict,
        options: dict,
    ) -> tuple[type[Process], dict]:
        """The process and inputs of the AIMD of one condition (``md`` section of ``parameters``), its thermostat
        ramped linearly from the first temperature to the second (K)."""

    @abstractmethod
    def static(
        self, code: orm.AbstractCode, structures: orm.Data, cell_size: int, parameters: dict, options: dict
    ) -> tuple[type[Process], dict]:
        """The process and inputs of the static labels of a batch made by :meth:`batch_size`."""

    @abstractmethod
    def labels(self, jobs: list[orm.ProcessNode]) -> tuple[list[TrainingSetData], list[str]]:
        """The labels of ended static jobs (in their order) and the points left out, each with the reason."""

    def batch_size(self, parameters: dict) -> int | None:
        """Snapshots per static job (a structure set), or None for one StructureData per job."""
        return int(parameters['static'].get('structures_per_job', 1))


def temperature_programs(conditions: dict) -> list[tuple[float, float]]:
    """(start, end) temperatures of the AIMD of every condition: each temperature held, then each quench."""
    held = [(float(temperature), float(temperature)) for temperature in conditions['temperatures']]
    return held + [(float(start), float(end)) for start, end in conditions.get('quenches', [])]


def snapshot_stride(md: dict) -> int:
    """MD steps between snapshots for a uniform ``snapshot_fraction`` (5 % -> every 20th step)."""
    return max(1, round(1.0 / float(md['snapshot_fraction'])))


def max_iterations(parameters: dict) -> orm.Int:
    """Jobs of one AIMD: the first and its ``md.max_restarts`` continuations after a kill."""
    return orm.Int(int(parameters['md'].get('max_restarts', 0)) + 1)


def left_out(what: str, job: orm.ProcessNode) -> str:
    """Why a static point is not in the training set."""
    return f'{what}: not converged or failed in {job.process_label}<{job.pk}> (exit {job.exit_status})'
