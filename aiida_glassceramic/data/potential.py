"""Neural network potential as an AiiDA node: the model file plus its metadata as attributes."""

from __future__ import annotations

import shutil
from pathlib import Path

from aiida import orm

METADATA_ATTRIBUTES = ('elements', 'cutoff', 'n_features', 'hidden', 'dtype', 'metrics', 'min_distance')


class NNPotentialData(orm.SinglefileData):
    """A trained Behler-Parrinello potential (one ``potential.pt`` file) that loads outside AiiDA too."""

    DEFAULT_FILENAME = 'potential.pt'

    def __init__(self, file: str | Path, filename: str | None = None, **kwargs):
        from ..potentials.io import read_potential_metadata

        super().__init__(file, filename=filename or self.DEFAULT_FILENAME, **kwargs)
        metadata = read_potential_metadata(file)
        for key in METADATA_ATTRIBUTES:
            if key in metadata:
                self.base.attributes.set(key, metadata[key])
        self.base.attributes.set('has_feature_ranges', metadata.get('feature_ranges') is not None)

    @property
    def elements(self) -> list[str]:
        return self.base.attributes.get('elements')

    @property
    def cutoff(self) -> float:
        return self.base.attributes.get('cutoff')

    @property
    def min_distance(self) -> dict[str, float]:
        """Shortest distance (A) per element pair in the training data, e.g. ``{'P-S': 1.93}``."""
        return self.base.attributes.get('min_distance', {})

    @property
    def has_feature_ranges(self) -> bool:
        """Whether the potential records the training range of its features (MD then counts extrapolation)."""
        return self.base.attributes.get('has_feature_ranges', False)

    @property
    def metrics(self) -> dict:
        return self.base.attributes.get('metrics', {})

    def export(self, path: str | Path) -> Path:
        """Copy the model file to ``path`` (a file name or a folder) and return where it was written."""
        target = Path(path)
        if target.is_dir():
            target = target / self.filename
        with self.open(mode='rb') as source, target.open('wb') as sink:
            shutil.copyfileobj(source, sink)
        return target

    def export_pair_style(self, path: str | Path) -> Path:
        """Write the file of LAMMPS' ``pair_style glassceramic`` to ``path`` (a file name or a folder)."""
        from ..potentials.pair_style_file import PAIR_STYLE_FILENAME, write_pair_style_file

        target = Path(path)
        return write_pair_style_file(self.load(), target / PAIR_STYLE_FILENAME if target.is_dir() else target)

    def load(self, dtype=None):
        """The model as a :class:`~aiida_glassceramic.potentials.model.NNPotential`."""
        from ..potentials.io import load_potential

        with self.as_path() as path:
            return load_potential(path, dtype=dtype)
