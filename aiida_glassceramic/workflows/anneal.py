"""NPT anneal in restartable chunks with a snapshot series.

Each chunk is one LAMMPS calculation that continues from the previous chunk's restart file (positions, velocities,
box, thermostat and barostat state); a killed or incomplete chunk is run again from that same restart file, so at
most one chunk of work is lost. A chunk whose dynamics blow up is run once more from the same restart file at a
shorter timestep over the same simulated time (see ``LammpsBaseWorkChain``). Snapshots are keyed by their simulated
time; the chunks' thermo series are joined.
"""

from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.engine import ToContext, calcfunction, while_

from ..engines import lammps_scripts as scripts
from .lammps_base import LammpsWorkChain, data_file_node

SAME_TIME_PS = 1e-9  # thermo rows closer in simulated time are one row (a chunk repeats the previous chunk's last)


@calcfunction
def join_thermo(**series: orm.ArrayData) -> orm.ArrayData:
    """Thermo series of consecutive chunks (keys in order) as one series; a row repeated at a chunk start is kept
    once."""
    joined = orm.ArrayData()
    parts = [series[key] for key in sorted(series)]
    keep, last = [], -np.inf
    for part in parts:
        time = part.get_array('time')
        keep.append(time > last + SAME_TIME_PS)
        last = max(last, time.max(initial=-np.inf))
    for name in scripts.THERMO_COLUMNS:
        joined.set_array(
            name, np.concatenate([part.get_array(name)[mask] for part, mask in zip(parts, keep, strict=True)])
        )
    return joined


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
            'snapshots',
            valid_type=orm.StructureData,
            dynamic=True,
            help='Snapshot structures keyed `fs_<simulated time in whole fs>`.',
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
        if chunk.index == 0:
            files = {'structure': data_file_node(self.inputs.structure, self.elements())}
        else:
            files = {'restart': self.ctx.restart}
        retrieve = [scripts.RESTART_OUTPUT, scripts.FINAL_DUMP]
        if scripts.chunk_snapshot_steps(self.inputs.parameters.get_dict(), chunk):
            retrieve.append(scripts.SNAPSHOT_DUMP)
        label = f'chunk_{chunk.index:04d}'
        return ToContext(run=self.submit_run('anneal', files, retrieve, label, chunk=chunk.index))

    def inspect_chunk(self):
        label = f'chunk_{self.ctx.index:04d}'
        if exit_code := self.failed(self.ctx.run, label):
            return exit_code
        outputs = self.ctx.run.outputs
        self.ctx.restart = outputs.restart
        self.ctx.structure = outputs.structure
        self.ctx.thermo[label] = outputs.thermo
        if 'snapshots' in outputs:
            self.ctx.snapshots.update(outputs.snapshots)
        self.ctx.index += 1
        return None

    def results(self):
        self.out('structure', self.ctx.structure)
        self.out('thermo', join_thermo(**self.ctx.thermo))
        self.out('restart', self.ctx.restart)
        self.out('snapshots', self.ctx.snapshots)
