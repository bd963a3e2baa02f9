"""NPT anneal in restartable chunks with a snapshot series.

Each chunk is one LAMMPS calculation that continues from the previous chunk's restart file (positions, velocities,
box, thermostat and barostat state); a killed or incomplete chunk is run again from that same restart file, so at
most one chunk of work is lost. A chunk whose dynamics blow up is run once more from the same restart file with the
timestep halved over the same simulated time (see ``LammpsBaseWorkChain``); its thermo rows and snapshots are keyed by
the steps of the unrefined chunk. Snapshots become structure nodes; the chunks' thermo series are joined.
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext, while_

from ..engines import lammps_scripts as scripts
from .lammps_base import LammpsWorkChain, data_file_node
from .md_functions import extract_file, final_structure, join_thermo, parse_thermo, snapshot_structures


class AnnealWorkChain(LammpsWorkChain):
    """NPT at ``temperature`` and ``pressure_bar`` for ``total_ps`` in chunks of ``chunk_ps``; snapshots every
    ``snapshot_interval_ps`` from ``snapshot_start_ps`` (paper: 600 K, 1 bar, 100 ns in 1 ns chunks, every 1 ns from
    70 ns)."""

    PROTOCOL_SECTION = 'anneal'

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input(
            'restart',
            valid_type=orm.SinglefileData,
            required=False,
            help='Continue an earlier anneal from this restart file (with `first_chunk`) instead of `structure`.',
        )
        spec.input('first_chunk', valid_type=orm.Int, required=False, help='Index of the chunk `restart` ends.')
        spec.outline(cls.setup, while_(cls.has_next_chunk)(cls.run_chunk, cls.inspect_chunk), cls.results)
        spec.output('structure', valid_type=orm.StructureData, help='The structure at the end of the anneal.')
        spec.output('thermo', valid_type=orm.ArrayData, help='Joined thermo series of all chunks.')
        spec.output('restart', valid_type=orm.SinglefileData, help='Restart file at the end of the anneal.')
        spec.output_namespace(
            'snapshots', valid_type=orm.StructureData, dynamic=True, help='Snapshot structures keyed `step_<step>`.'
        )

    @classmethod
    def validate_parameters(cls, parameters: dict) -> str | None:
        if parameters['temperature'] <= 0:
            return f'`parameters.temperature` = {parameters["temperature"]}: must be positive (K)'
        try:
            scripts.anneal_chunks(parameters)
            scripts.snapshot_steps(parameters)
        except scripts.ScriptSettingsError as error:
            return f'`parameters`: {error}'
        return None

    def setup(self):
        self.ctx.chunks = scripts.anneal_chunks(self.inputs.parameters.get_dict())
        self.ctx.index = self.inputs.first_chunk.value + 1 if 'first_chunk' in self.inputs else 0
        self.ctx.restart = self.inputs.get('restart')
        self.ctx.thermo = {}
        self.ctx.snapshots = {}

    def has_next_chunk(self) -> bool:
        return self.ctx.index < len(self.ctx.chunks)

    def run_chunk(self):
        chunk = self.ctx.chunks[self.ctx.index]
        parameters = self.inputs.parameters.get_dict()
        script = scripts.anneal_chunk_script(parameters, chunk, self.potential_commands(), self.elements())
        if chunk.index == 0:
            files = {'structure': data_file_node(self.inputs.structure, self.elements())}
        else:
            files = {'restart': self.ctx.restart}
        retrieve = [scripts.RESTART_OUTPUT, scripts.FINAL_DUMP]
        if any(chunk.first_step < step <= chunk.last_step for step in scripts.snapshot_steps(parameters)):
            retrieve.append(scripts.SNAPSHOT_DUMP)
        label = f'chunk_{chunk.index:04d}'
        return ToContext(run=self.submit_run(script, files, retrieve, label))

    def inspect_chunk(self):
        label = f'chunk_{self.ctx.index:04d}'
        if exit_code := self.failed(self.ctx.run, label):
            return exit_code
        retrieved = self.ctx.run.outputs.retrieved
        self.ctx.restart = extract_file(retrieved, orm.Str(scripts.RESTART_OUTPUT))
        divisor = self.step_divisor_input(self.ctx.run)
        self.ctx.thermo[label] = parse_thermo(retrieved, **divisor)
        if scripts.SNAPSHOT_DUMP in retrieved.base.repository.list_object_names():
            self.ctx.snapshots.update(snapshot_structures(retrieved, **divisor))
        self.ctx.last = retrieved
        self.ctx.index += 1
        return None

    def results(self):
        self.out('structure', final_structure(self.ctx.last))
        self.out('thermo', join_thermo(**self.ctx.thermo))
        self.out('restart', self.ctx.restart)
        self.out('snapshots', self.ctx.snapshots)
