"""Settings of the training stage (train.yaml): the hyper-parameters are those of ``glassceramic-train``."""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any, Literal

from pydantic import Field, PositiveFloat, PositiveInt, create_model, model_validator

from ..validation import Section


@functools.cache
def parameters_model() -> type[Section]:
    """The hyper-parameters of :class:`~aiida_glassceramic.potentials.training.TrainingParameters` as a model: its
    fields, types and checks (every key optional: the training's default applies)."""
    from ...potentials.training_parameters import PARAMETER_RULES, TrainingParameters

    hints = typing.get_type_hints(TrainingParameters)
    fields = {}
    for field in dataclasses.fields(TrainingParameters):
        annotation = hints[field.name]
        if typing.get_origin(annotation) is tuple:  # YAML and Dict nodes hold lists
            annotation = list[typing.get_args(annotation)[0]]
        meaning = PARAMETER_RULES[field.name][1]
        fields[field.name] = (annotation, Field(None, description=f'{meaning}; default {field.default!r}'))

    def _check(self):
        TrainingParameters.from_dict(self.model_dump(exclude_unset=True))
        return self

    validators = {'_check': model_validator(mode='after')(_check)}
    return create_model('TrainParameters', __base__=Section, __validators__=validators, **fields)


class TrainMetadata(Section):
    options: dict[str, Any] = Field(description='metadata options of the training calculation')


def train_inputs_model() -> type[Section]:
    return create_model(
        'TrainInputs',
        __base__=Section,
        metadata=(TrainMetadata, Field(description='metadata of the training calculation')),
        parameters=(parameters_model(), Field(description='hyper-parameters of glassceramic-train')),
        max_test_rmse=(
            dict[Literal['energy_meV_per_atom', 'forces_meV_per_A'], PositiveFloat] | None,
            Field(None, description='largest test RMSE accepted; above it the training fails (exit code)'),
        ),
    )


@functools.cache
def protocol_model() -> type[Section]:
    """One protocol of train.yaml."""
    return create_model(
        'TrainProtocol',
        __base__=Section,
        max_iterations=(
            PositiveInt,
            Field(description='attempts: the first run, one with the halved learning rate, spares'),
        ),
        clean_workdir=(bool, Field(description='clean the remote folders at the end')),
        train=(train_inputs_model(), Field(description='inputs of the training calculation')),
    )
