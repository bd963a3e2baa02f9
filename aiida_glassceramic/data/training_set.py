"""Training set as one AiiDA node: ragged arrays, not one node per structure."""

from __future__ import annotations

from pathlib import Path

from aiida import orm
from aiida.common.exceptions import ValidationError

from ..training_set import TrainingSet, TrainingSetError


class TrainingSetData(orm.ArrayData):
    """Labelled structures (energies, forces, optional stresses) stored as the arrays of a :class:`TrainingSet`."""

    def __init__(self, training_set: TrainingSet | None = None, **kwargs):
        super().__init__(**kwargs)
        if training_set is not None:
            self.set_training_set(training_set)

    def set_training_set(self, training_set: TrainingSet) -> None:
        """Keep the arrays of ``training_set``, which must hold at least one structure."""
        if not len(training_set):
            raise TrainingSetError('training_set: holds no structure; give at least one labelled structure')
        for name, array in training_set.arrays().items():
            self.set_array(name, array)
        self.base.attributes.set('num_structures', len(training_set))
        self.base.attributes.set('num_atoms', int(training_set.natoms.sum()))
        self.base.attributes.set('species', training_set.species)
        self.base.attributes.set('has_stress', training_set.stresses is not None)

    def _validate(self) -> bool:
        """Refuse to store a node without structures."""
        super()._validate()
        if not self.num_structures:
            raise ValidationError('TrainingSetData holds no structure: create it with a TrainingSet of labelled ones')
        return True

    @property
    def num_structures(self) -> int:
        return self.base.attributes.get('num_structures', 0)

    @property
    def species(self) -> list[str]:
        return self.base.attributes.get('species')

    @property
    def has_stress(self) -> bool:
        """Whether every structure carries a stress."""
        return self.base.attributes.get('has_stress', False)

    def get_training_set(self) -> TrainingSet:
        return TrainingSet(**{name: self.get_array(name) for name in self.get_arraynames()})

    def export_extxyz(self, path: str | Path) -> None:
        """Write the structures with their labels as extended XYZ."""
        self.get_training_set().write_extxyz(path)
