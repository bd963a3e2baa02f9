"""Settings of the training stage (train.yaml): the hyper-parameters are those of ``glassceramic-train``."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Literal

from pydantic import Field, PositiveFloat, PositiveInt, create_model, model_validator

from ...calculations.train import RMSE_BOUNDS
from ...potentials.training_parameters import PARAMETER_RULES, TrainingParameters, validate_parameters
from ..validation import Section


def _parameters_model() -> type[Section]:
    """The fields of :class:`TrainingParameters` with their types, every key optional (the training's default
    applies), checked by the rules of ``glassceramic-train``."""
    hints = typing.get_type_hints(TrainingParameters)
    fields = {}
    for field in dataclasses.fields(TrainingParameters):
        annotation = hints[field.name]
        if typing.get_origin(annotation) is tuple:  # YAML and Dict nodes hold lists
            annotation = list[typing.get_args(annotation)[0]]
        meaning = PARAMETER_RULES[field.name][1]
        fields[field.name] = (annotation, Field(None, description=f'{meaning}; default {field.default!r}'))

    def _rules(self):
        validate_parameters(self.model_dump(exclude_unset=True))
        return self

    validators = {'_rules': model_validator(mode='after')(_rules)}
    return create_model('TrainParameters', __base__=Section, __validators__=validators, **fields)


TrainParameters = _parameters_model()


class TrainMetadata(Section):
    """Metadata of the training calculation."""

    options: dict[str, Any] = Field(description='metadata options of the training calculation')


class TrainInputs(Section):
    """Inputs of the training calculation."""

    metadata: TrainMetadata
    parameters: TrainParameters = Field(description='hyper-parameters of glassceramic-train')
    max_test_rmse: dict[Literal[RMSE_BOUNDS], PositiveFloat] | None = Field(
        None, description='largest test RMSE accepted; above it the training fails (exit code)'
    )


class TrainProtocol(Section):
    """One protocol of train.yaml."""

    max_iterations: PositiveInt = Field(description='attempts: the first, one at half the learning rate, spares')
    clean_workdir: bool = Field(description='clean the remote folders at the end')
    train: TrainInputs
