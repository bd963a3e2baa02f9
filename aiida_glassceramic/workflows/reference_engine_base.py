"""Restart work chains of the embedded reference engines (tblite, CHGNet, SevenNet): a killed job goes on from its
restart."""

from __future__ import annotations

from aiida.common import AttributeDict
from aiida.engine import BaseRestartWorkChain, ExitCode, ProcessHandlerReport, process_handler, while_

from ..calculations.chgnet import ChgnetCalculation
from ..calculations.reference_engine import EXIT_CODES, FAILED, ReferenceEngineCalculation
from ..calculations.sevennet import SevennetCalculation
from ..calculations.tblite import TbliteCalculation


class ReferenceEngineBaseWorkChain(BaseRestartWorkChain):
    """Runs an MD or single points of an embedded engine to their end: a job stopped before it (killed by the
    scheduler, out of wall time) runs again from the newest restart data (positions, velocities and step reached).
    A subclass names the calculation in ``_process_class``."""

    _process_class: type[ReferenceEngineCalculation]

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(cls._process_class, namespace='calc')
        spec.expose_outputs(cls._process_class)
        spec.outline(cls.setup, while_(cls.should_run_process)(cls.run_process, cls.inspect_process), cls.results)
        spec.exit_code(410, 'ERROR_CALCULATION_FAILED', message='{calculation} failed and would fail again: {message}')

    def setup(self):
        super().setup()
        self.ctx.inputs = AttributeDict(self.exposed_inputs(self._process_class, 'calc'))

    @process_handler(priority=500, exit_codes=[EXIT_CODES['ERROR_MD_INCOMPLETE'], EXIT_CODES['ERROR_NO_OUTPUT']])
    def handle_stopped(self, node):
        """Run again from the restart data of the stopped job, or from those it started from if it wrote none."""
        if 'restart' in node.outputs:
            self.ctx.inputs.restart = node.outputs.restart
        start = (
            f'step {int(self.ctx.inputs.restart.get_array("step"))}' if 'restart' in self.ctx.inputs else 'the start'
        )
        self.report(f'{node.process_label}<{node.pk}> stopped ({node.exit_message}); running again from {start}')
        return ProcessHandlerReport(do_break=True)

    @process_handler(priority=400, exit_codes=[EXIT_CODES['ERROR_BAD_INPUT'], ExitCode(FAILED)])
    def handle_unrecoverable(self, node):
        """Refused input or a failed calculation (SCF not converged, structure refused) fail again the same way:
        stop, keeping what the job made (the labels of the single points that converged)."""
        self.ctx.is_finished = True
        self.results()
        calculation = f'{node.process_label}<{node.pk}>'
        exit_code = self.exit_codes.ERROR_CALCULATION_FAILED.format(calculation=calculation, message=node.exit_message)
        return ProcessHandlerReport(True, exit_code)


class TbliteBaseWorkChain(ReferenceEngineBaseWorkChain):
    """GFN1-xTB (tblite) MD or single points, continued after a kill."""

    _process_class = TbliteCalculation


class ChgnetBaseWorkChain(ReferenceEngineBaseWorkChain):
    """CHGNet MD or single points, continued after a kill."""

    _process_class = ChgnetCalculation


class SevennetBaseWorkChain(ReferenceEngineBaseWorkChain):
    """SevenNet MD or single points, continued after a kill."""

    _process_class = SevennetCalculation
