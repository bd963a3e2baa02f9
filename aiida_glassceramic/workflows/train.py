"""Training a potential with restarts: halves the learning rate once when the training diverges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import BaseRestartWorkChain, ProcessHandlerReport, process_handler, while_

from ..calculations.train import TrainCalculation, validate_training_sets
from ..data.training_set import TrainingSetData
from ..protocols import recursive_merge
from ..protocols.mixin import ProtocolMixin
from ..protocols.schemas.train import TrainProtocol
from .input_checks import InputValidationError


class TrainPotentialWorkChain(ProtocolMixin, BaseRestartWorkChain):
    """Run :class:`TrainCalculation` until it succeeds; on divergence halve the learning rate once and restart."""

    _process_class = TrainCalculation
    _protocol_file = 'train.yaml'
    _protocol_model = TrainProtocol

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(TrainCalculation, namespace='train')
        spec.expose_outputs(TrainCalculation)
        spec.outline(
            cls.setup,
            while_(cls.should_run_process)(cls.run_process, cls.inspect_process),
            cls.results,
        )
        spec.exit_code(
            410,
            'ERROR_TRAINING_DIVERGED_AGAIN',
            message='the training diverged again with the halved learning rate; lower it further or check the data',
        )

    @classmethod
    def get_builder_from_protocol(
        cls,
        code: orm.AbstractCode,
        training_sets: TrainingSetData | Sequence[TrainingSetData] | Mapping[str, TrainingSetData] | None,
        protocol: str | None = None,
        overrides: Mapping | None = None,
        *,
        options: Mapping | None = None,
    ):
        """A builder with the hyper-parameters of ``protocol``: ``demo``, ``fast`` or ``paper`` (see train.yaml).

        :param training_sets: one set, a list (labelled ``set_00``, ``set_01``, ...) or a mapping label -> set;
            None: given later (by the study, from its reference data).
        :param overrides: nested inputs merged over the protocol, e.g. ``{'train': {'parameters': {'epochs': 5}}}``.
        :param options: metadata options of the training calculation, merged over the protocol's.
        :raises InputValidationError: naming the input and the fix.
        """
        inputs = cls.get_protocol_inputs(protocol, overrides)
        builder = cls.get_builder()
        builder.max_iterations = orm.Int(inputs['max_iterations'])
        builder.clean_workdir = orm.Bool(inputs['clean_workdir'])
        train = inputs['train']
        builder.train.code = code
        builder.train.parameters = orm.Dict(train['parameters'])
        builder.train.metadata.options = recursive_merge(train['metadata']['options'], options or {})
        if training_sets is not None:
            labelled = _label_sets(training_sets)
            if error := validate_training_sets(labelled):
                raise InputValidationError(error)
            builder.train.training_sets = labelled
        if train.get('max_test_rmse'):
            builder.train.max_test_rmse = orm.Dict(train['max_test_rmse'])
        return builder

    def setup(self):
        super().setup()
        self.ctx.inputs = AttributeDict(self.exposed_inputs(TrainCalculation, 'train'))
        self.ctx.learning_rate_halved = False

    @process_handler(priority=400, exit_codes=[TrainCalculation.exit_codes.ERROR_TRAINING_DIVERGED])
    def handle_training_diverged(self, node):
        """Halve the learning rate and restart, once; a second divergence ends the work chain."""
        if self.ctx.learning_rate_halved:
            self.report(f'{node.process_label}<{node.pk}> diverged again with the halved learning rate')
            return ProcessHandlerReport(True, self.exit_codes.ERROR_TRAINING_DIVERGED_AGAIN)
        parameters = self.ctx.inputs.parameters.get_dict()
        learning_rate = parameters.get('learning_rate', default_learning_rate())
        parameters['learning_rate'] = learning_rate / 2
        self.ctx.inputs.parameters = orm.Dict(parameters)
        self.ctx.learning_rate_halved = True
        self.report(
            f'{node.process_label}<{node.pk}> diverged: learning rate {learning_rate:g} -> {learning_rate / 2:g}'
        )
        return ProcessHandlerReport(True)


def default_learning_rate() -> float:
    """The learning rate glassceramic-train uses when the parameters give none."""
    from ..potentials.training import TrainingParameters

    return TrainingParameters.learning_rate


def _label_sets(training_sets) -> dict[str, TrainingSetData]:
    if isinstance(training_sets, TrainingSetData):
        return {'set_00': training_sets}
    if isinstance(training_sets, Mapping):
        return dict(training_sets)
    return {f'set_{index:02d}': node for index, node in enumerate(training_sets)}
