"""One LAMMPS run of the MD workflows: aiida-lammps' ``lammps.raw`` calculation with the outputs and exit codes of
:class:`~aiida_glassceramic.parsers.lammps.LammpsParser`, the package's one reader of LAMMPS output."""

from __future__ import annotations

from aiida import orm
from aiida_lammps.calculations.raw import LammpsRawCalculation


class LammpsCalculation(LammpsRawCalculation):
    """Runs a LAMMPS script; every file of ``settings.additional_retrieve_list`` must come back for the run to count.

    Exit codes: 309 a LAMMPS error, 320 dynamics that blew up, 350 a run that did not reach its end (killed, out of
    wall time), 351 no screen output, 352 required files missing.
    """

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.inputs['metadata']['options']['parser_name'].default = 'glassceramic.lammps'
        spec.output(
            'thermo',
            valid_type=orm.ArrayData,
            required=False,
            help='Thermo rows: step, time (simulated, ps), temp (K), pe, ke, etotal (eV), press (bar), vol (A^3), box.',
        )
        spec.output('structure', valid_type=orm.StructureData, required=False, help='The final configuration.')
        spec.output_namespace(
            'snapshots',
            valid_type=orm.StructureData,
            required=False,
            dynamic=True,
            help='Frames of the snapshot dump, keyed `fs_<simulated time in whole fs>`.',
        )
        spec.output('restart', valid_type=orm.SinglefileData, required=False, help='Restart file of the final state.')
        spec.output('trajectory', valid_type=orm.SinglefileData, required=False, help='Position dump (streamed).')
        spec.output('velocities', valid_type=orm.SinglefileData, required=False, help='Velocity dump (streamed).')
        spec.exit_code(
            320,
            'ERROR_UNSTABLE_DYNAMICS',
            message='The dynamics blew up: {symptom}',
        )
        spec.exit_code(
            350,
            'ERROR_INCOMPLETE_RUN',
            message='LAMMPS output ends before the end of the run (job killed or out of time)',
            invalidates_cache=True,
        )
        spec.exit_code(352, 'ERROR_MISSING_FILES', message='The run did not leave {files}', invalidates_cache=True)
