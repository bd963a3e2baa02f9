"""aiida-vasp's ``vasp.vasp`` work chain for NVT AIMD: a run killed before its last step goes on with its velocities."""

from __future__ import annotations

from aiida import orm
from aiida.engine import ProcessHandlerReport, process_handler
from aiida.plugins import CalculationFactory
from aiida_vasp.workchains.v2.vasp import VaspWorkChain

VaspCalculation = CalculationFactory('vasp.vasp')
CONTINUE_FROM_CONTCAR = 'cp CONTCAR POSCAR'  # CONTCAR holds the last positions and the velocities


class VaspAimdWorkChain(VaspWorkChain):
    """AIMD through aiida-vasp's ``VaspWorkChain`` and its handlers, plus one that runs first: a run that did not
    reach its last step (killed, out of wall time) continues from its CONTCAR for the steps left."""

    @process_handler(priority=950, exit_codes=VaspCalculation.exit_codes.ERROR_DID_NOT_FINISH)
    def handle_unfinished_md(self, node):
        """Continue from the CONTCAR of the killed run (copied from its folder) for the NSW left, from the temperature
        reached (a quench), with its last structure (for provenance; VASP reads CONTCAR)."""
        if 'trajectory' not in node.outputs or 'structure' not in node.outputs:
            return None  # nothing to continue from: aiida-vasp's own handlers decide
        done = node.outputs.trajectory.get_array('positions').shape[0]
        incar = self.ctx.inputs.parameters
        start, steps = float(incar['tebeg']), int(incar['nsw'])
        incar['tebeg'] = start + (float(incar.get('teend', start)) - start) * done / steps  # a quench goes on
        incar['nsw'] = steps - done
        self.ctx.inputs.structure = node.outputs.structure
        self.ctx.inputs.restart_folder = node.outputs.remote_folder
        settings = self.ctx.inputs.settings.get_dict() if 'settings' in self.ctx.inputs else {}
        self.ctx.inputs.settings = orm.Dict({**settings, 'ADDITIONAL_REMOTE_COPY_LIST': ['CONTCAR']})
        options = self.ctx.inputs.metadata['options']
        if CONTINUE_FROM_CONTCAR not in options.get('prepend_text', ''):
            options['prepend_text'] = f'{options.get("prepend_text", "")}\n{CONTINUE_FROM_CONTCAR}'.strip()
        self.report(f'{node.process_label}<{node.pk}> stopped after {done} steps; continuing from its CONTCAR')
        return ProcessHandlerReport(do_break=True)
