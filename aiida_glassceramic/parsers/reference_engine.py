"""Parser of the embedded reference engines (tblite, CHGNet, SevenNet): labels as a TrainingSetData, md frames as
TrajectoryData, restart data, and the engine's model and version in ``misc``."""

from __future__ import annotations

import json
import zipfile

import ase.io
import numpy as np
from aiida import orm
from aiida.parsers import Parser

from ..data.training_set import TrainingSetData
from ..runners.reference_engine import ENGINE, EXIT_BAD_INPUT, LABELS, RESTART, STATUS, TRAJECTORY
from ..training_set import TrainingSet


class ReferenceEngineParser(Parser):
    """Attach what the run produced; partial md runs keep their frames and restart data (exit 310); a failed
    calculation gives the exit code 400 of the calculation class; input the runner refused gives exit 302 with its
    message."""

    def parse(self, **kwargs):
        files = self.retrieved.base.repository.list_object_names()
        self.engine = None  # the engine, model and version the run reported, for ``misc``
        if ENGINE in files:
            try:
                self.engine = json.loads(self._read(ENGINE))
            except json.JSONDecodeError as error:
                return self.exit_codes.ERROR_CORRUPT_OUTPUT.format(error=f'{ENGINE}: {error}')
        if STATUS not in files:
            if self.node.inputs.parameters.get('task') == 'md' and TRAJECTORY in files:
                return self._parse_md(files, status=None)
            return self.exit_codes.ERROR_NO_OUTPUT
        try:
            status = json.loads(self._read(STATUS))
        except json.JSONDecodeError as error:
            return self.exit_codes.ERROR_CORRUPT_OUTPUT.format(error=f'{STATUS}: {error}')
        if not isinstance(status, dict):
            return self.exit_codes.ERROR_CORRUPT_OUTPUT.format(error=f'{STATUS}: not a JSON object')
        if status.get('exit_code') == EXIT_BAD_INPUT:
            return self.exit_codes.ERROR_BAD_INPUT.format(error=status.get('error'))
        if status.get('task') == 'single_point':
            return self._parse_single_points(files)
        return self._parse_md(files, status)

    def _read(self, name: str) -> str:
        """A text file of the retrieved folder; bytes that are not UTF-8 (a damaged file) are replaced."""
        return self.retrieved.base.repository.get_object_content(name, mode='rb').decode(errors='replace')

    def _parse_single_points(self, files: list[str]):
        if LABELS not in files:
            return self.exit_codes.ERROR_CORRUPT_OUTPUT.format(error=f'{LABELS} missing')
        try:
            with self.retrieved.base.repository.open(LABELS, 'rb') as handle, np.load(handle) as data:
                arrays = {name: data[name] for name in data.files}
            converged = arrays.pop('converged')
            labels = TrainingSet(**arrays)
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
            # truncated or damaged archive, missing or unexpected arrays, arrays of inconsistent shapes
            return self.exit_codes.ERROR_CORRUPT_OUTPUT.format(error=f'{LABELS}: {type(error).__name__}: {error}')
        unconverged = np.flatnonzero(~converged).tolist()
        if converged.any():
            self.out('labels', TrainingSetData(labels.subset(np.flatnonzero(converged))))
        misc = {'num_structures': len(converged), 'unconverged': unconverged, 'engine': self.engine}
        self.out('misc', orm.Dict(misc))
        if unconverged:
            return self.exit_codes(400).format(what=f'structures {unconverged}')
        return None

    def _parse_md(self, files: list[str], status: dict | None):
        parameters = self.node.inputs.parameters.get_dict()['md']
        total = int(parameters['steps'])
        if TRAJECTORY not in files:
            return self.exit_codes.ERROR_NO_OUTPUT
        try:
            with self.retrieved.base.repository.open(TRAJECTORY, 'r') as handle:
                frames = complete_frames(handle)
            self.out('trajectory', md_trajectory(frames))
            self.out('labels', TrainingSetData(TrainingSet.from_atoms(frames)))
            if RESTART in files:
                with self.retrieved.base.repository.open(RESTART, 'rb') as handle, np.load(handle) as data:
                    restart = orm.ArrayData({name: data[name] for name in data.files})
                self.out('restart', restart)
        except Exception as error:
            return self.exit_codes.ERROR_CORRUPT_OUTPUT.format(error=f'{TRAJECTORY}/{RESTART}: {error}')
        reached = int(frames[-1].info['step'])
        status = status or {}
        misc = {'steps': reached, 'num_frames': len(frames), 'error': status.get('error'), 'engine': self.engine}
        self.out('misc', orm.Dict(misc))
        if status.get('error'):
            return self.exit_codes(400).format(what=f'md step after {reached}')
        if reached < total:
            return self.exit_codes.ERROR_MD_INCOMPLETE.format(step=reached, steps=total)
        return None


def complete_frames(handle) -> list[ase.Atoms]:
    """The frames of an extended XYZ stream up to the first incomplete one (a killed run may cut the last)."""
    frames = []
    try:
        for frame in ase.io.iread(handle, index=':', format='extxyz'):
            frames.append(frame)
    except Exception:
        if not frames:
            raise
    return frames


def md_trajectory(frames: list[ase.Atoms]) -> orm.TrajectoryData:
    """MD frames as TrajectoryData: positions, cells, velocities, MD step ids, plus energies, forces and stresses
    (Voigt, eV/A^3) arrays."""
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(
        symbols=frames[0].get_chemical_symbols(),
        positions=np.stack([frame.positions for frame in frames]),
        stepids=np.array([int(frame.info['step']) for frame in frames]),
        cells=np.stack([frame.cell.array for frame in frames]),
        velocities=np.stack([frame.get_velocities() for frame in frames]),
    )
    trajectory.set_array('energies', np.array([frame.get_potential_energy() for frame in frames]))
    trajectory.set_array('forces', np.stack([frame.get_forces() for frame in frames]))
    trajectory.set_array('stresses', np.stack([frame.get_stress() for frame in frames]))
    return trajectory
