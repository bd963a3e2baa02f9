"""LAMMPS input scripts of the MD workflows, built from protocol settings.

Every script uses ``units metal`` (eV, Angstrom, ps), ``atom_style atomic`` and a fully periodic box; atom type ``t``
is ``elements[t - 1]``. The interaction is a list of LAMMPS commands given by the caller: :func:`pair_style_block`
(the neural network potential as the native ``pair_style glassceramic``), :func:`nnp_block` (the same through the
``fix external`` of the ``glassceramic-lmp`` driver) or any classical ``pair_style`` block.

Thermo output goes to the screen (``lammps.out``) with one fixed column set (:data:`THERMO_COLUMNS`), flushed at every
line so that a killed run leaves only whole lines. Continuation chunks start with ``read_restart`` (positions,
velocities, box, thermostat and barostat state of fixes with the same ID), set the step counter and the simulated time
of their own start and never create velocities again.

Every script of :data:`SCRIPTS` is built from one settings dict (a section of ``md.yaml`` plus what the run adds); all
its step counts come from times and ``timestep_fs``, so :func:`with_timestep_divided` gives the same simulation with
shorter steps: the same simulated times, with thermo and dump output at the same times.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ase
import ase.io
from ase.data import atomic_numbers

DATA_FILE = 'structure.data'
RESTART_INPUT = 'previous.restart'
RESTART_OUTPUT = 'final.restart'
FINAL_DUMP = 'final.dump'
SNAPSHOT_DUMP = 'snapshots.dump'
TRAJECTORY_DUMP = 'trajectory.dump'
VELOCITY_DUMP = 'velocities.dump'
POTENTIAL_FILE = 'potential.pt'
PAIR_STYLE_FILE = 'potential.glassceramic'
NNP_FIX_ID = 'nnp'
# Where each file of a calculation's ``files`` input is written (the names the scripts read).
INPUT_FILES = {
    'potential': POTENTIAL_FILE,
    'pair_style': PAIR_STYLE_FILE,
    'structure': DATA_FILE,
    'restart': RESTART_INPUT,
}

THERMO_COLUMNS = ('step', 'time', 'temp', 'pe', 'ke', 'etotal', 'press', 'vol', 'lx', 'ly', 'lz', 'xy', 'xz', 'yz')


SNAPSHOT_PREFIX = 'fs_'


def snapshot_key(time_ps: float) -> str:
    """The output key of a snapshot at simulated time ``time_ps``: ``fs_<whole femtoseconds, 12 digits>``."""
    return f'{SNAPSHOT_PREFIX}{round(time_ps * 1000.0):012d}'


def snapshot_time_fs(key: str) -> int:
    """The simulated time in whole femtoseconds of a key of :func:`snapshot_key`."""
    return int(key.removeprefix(SNAPSHOT_PREFIX))


class ScriptSettingsError(ValueError):
    """A setting cannot be turned into a LAMMPS script (names the setting and what is expected)."""


@dataclass(frozen=True)
class Stage:
    """One ``run`` under one thermostat/barostat: temperature ramps linearly from ``t_start`` to ``t_stop``."""

    name: str
    steps: int
    t_start: float
    t_stop: float
    pressure_bar: float | None = None

    @property
    def ensemble(self) -> str:
        return 'nvt' if self.pressure_bar is None else 'npt'


def zbl_lines(elements: Sequence[str], core_repulsion: tuple[float, float], substyle: bool = False) -> list[str]:
    """``pair_coeff`` lines of the ZBL core for every pair of atom types (``substyle``: inside ``hybrid/overlay``)."""
    inner, outer = core_repulsion
    if not 0.0 < inner < outer:
        raise ScriptSettingsError(f'core_repulsion = {core_repulsion}: need 0 < inner < outer (A)')
    numbers = [atomic_numbers[element] for element in elements]
    style = ' zbl' if substyle else ''
    return [
        f'pair_coeff {i + 1} {j + 1}{style} {numbers[i]} {numbers[j]}'
        for i in range(len(numbers))
        for j in range(i, len(numbers))
    ]


def pair_style_block(
    elements: Sequence[str], filename: str = PAIR_STYLE_FILE, core_repulsion: tuple[float, float] | None = None
) -> list[str]:
    """Commands of the neural network potential as ``pair_style glassceramic`` (the plugin; any number of MPI ranks).

    ``core_repulsion = (inner, outer)`` (A) overlays the ZBL core of :func:`nnp_block` (``pair_style hybrid/overlay``).
    """
    coeff = f'* * {filename} {" ".join(elements)}'
    if core_repulsion is None:
        return ['pair_style glassceramic', f'pair_coeff {coeff}']
    inner, outer = core_repulsion
    return [
        f'pair_style hybrid/overlay glassceramic zbl {inner:.6g} {outer:.6g}',
        f'pair_coeff * * glassceramic {filename} {" ".join(elements)}',
        *zbl_lines(elements, core_repulsion, substyle=True),
    ]


def nnp_block(
    elements: Sequence[str],
    cutoff: float,
    filename: str = POTENTIAL_FILE,
    fix_id: str = NNP_FIX_ID,
    core_repulsion: tuple[float, float] | None = None,
) -> list[str]:
    """Commands that hand energy, forces and virial to the neural network potential of the ``glassceramic-lmp``
    driver (the driver attaches to the ``fix external`` named here; one MPI rank).

    Without ``core_repulsion``, ``pair_style zero`` at the potential's cut-off gives LAMMPS a neighbour cut-off
    (ghost atoms, atom sorting) without adding any force. With ``core_repulsion = (inner, outer)`` (A), the
    Ziegler-Biersack-Littmark screened nuclear repulsion (``pair_style zbl``), switched off smoothly between ``inner``
    and ``outer``, keeps atoms from fusing where the network has never seen data; it is exactly zero beyond
    ``outer``, so it changes nothing at the distances the potential was trained on when ``outer`` lies below them.
    """
    if core_repulsion is None:
        pair = [f'pair_style zero {cutoff:.10g}', 'pair_coeff * *']
    else:
        inner, outer = core_repulsion
        pair = [f'pair_style zbl {inner:.6g} {outer:.6g}', *zbl_lines(elements, core_repulsion)]
    return [
        *pair,
        f'variable nnp_potential string {filename}',
        f'variable nnp_elements string "{" ".join(elements)}"',
        f'fix {fix_id} all external pf/callback 1 1',
        f'fix_modify {fix_id} energy yes virial yes',
    ]


def steps_of(time_ps: float, timestep_fs: float, name: str) -> int:
    """The number of MD steps in ``time_ps``; it must be a whole, non-negative number of steps."""
    steps = time_ps * 1000.0 / timestep_fs
    if time_ps < 0 or not math.isclose(steps, round(steps), rel_tol=0.0, abs_tol=1e-6):
        raise ScriptSettingsError(
            f'{name} = {time_ps} ps is not a whole non-negative number of {timestep_fs} fs timesteps'
        )
    return round(steps)


def data_file(atoms: ase.Atoms, elements: Sequence[str]) -> str:
    """The LAMMPS data file (``atom_style atomic``, masses included) of ``atoms``, types in the order of ``elements``.

    The cell is rotated into LAMMPS' restricted triclinic form where needed (a along x, b in the xy plane).
    """
    unknown = sorted(set(atoms.get_chemical_symbols()) - set(elements))
    if unknown:
        raise ScriptSettingsError(f'elements {list(elements)} do not include {unknown} of the structure')
    handle = io.StringIO()
    ase.io.write(handle, atoms, format='lammps-data', specorder=list(elements), masses=True, atom_style='atomic')
    return handle.getvalue()


def preamble(restart: bool) -> list[str]:
    """Units, atom style, box and the start configuration (data file, or restart file of the previous chunk)."""
    start = f'read_restart {RESTART_INPUT}' if restart else f'read_data {DATA_FILE}'
    return ['units metal', 'atom_style atomic', 'boundary p p p', start]


def dynamics_setup(timestep_fs: float, thermo_interval: int) -> list[str]:
    """Timestep and thermo output (the fixed :data:`THERMO_COLUMNS`, flushed line by line)."""
    if thermo_interval < 1:
        raise ScriptSettingsError(f'thermo_interval_steps = {thermo_interval}: give a positive number of steps')
    return [
        f'timestep {timestep_fs / 1000.0:.10g}',
        f'thermo_style custom {" ".join(THERMO_COLUMNS)}',
        'thermo_modify flush yes format float %.12g',
        f'thermo {thermo_interval}',
    ]


def velocity_line(temperature: float, seed: int) -> str:
    """Maxwell-Boltzmann velocities at ``temperature``, zero total momentum, reproducible for a given ``seed``."""
    if not 0 < seed < 900_000_000:
        raise ScriptSettingsError(f'seed = {seed}: LAMMPS needs a seed between 1 and 899999999')
    return f'velocity all create {temperature:.10g} {seed} dist gaussian mom yes rot no loop geom'


def stage_lines(stage: Stage, tdamp_ps: float, pdamp_ps: float, fix_id: str | None = None) -> list[str]:
    """``fix nvt`` (or ``fix npt`` with isotropic pressure coupling) for ``stage``, then its ``run``."""
    fix_id = fix_id or stage.name
    thermostat = f'temp {stage.t_start:.10g} {stage.t_stop:.10g} {tdamp_ps:.10g}'
    if stage.pressure_bar is None:
        fix = f'fix {fix_id} all nvt {thermostat}'
    else:
        pressure = f'{stage.pressure_bar:.10g}'
        fix = f'fix {fix_id} all npt {thermostat} iso {pressure} {pressure} {pdamp_ps:.10g}'
    return [fix, f'run {stage.steps}']


def dump_lines(
    dump_id: str,
    *,
    group: str,
    interval: int,
    filename: str,
    columns: Sequence[str],
    elements: Sequence[str],
    delay: int | None = None,
    time: bool = False,
) -> list[str]:
    """A text ``dump custom`` sorted by atom id with an element column (readable without a type map); ``time``: each
    frame carries its simulated time (``ITEM: TIME``)."""
    modify = f'dump_modify {dump_id} sort id element {" ".join(elements)} format float %.10g'
    if delay is not None:
        modify += f' delay {delay}'
    if time:
        modify += ' time yes'
    return [f'dump {dump_id} {group} custom {interval} {filename} id element {" ".join(columns)}', modify]


def final_state_lines(elements: Sequence[str]) -> list[str]:
    """The final configuration as a dump (wrapped positions, box) plus a binary restart file."""
    return [
        f'write_dump all custom {FINAL_DUMP} id element x y z vx vy vz modify sort id element {" ".join(elements)} '
        'format float %.17g',
        f'write_restart {RESTART_OUTPUT}',
    ]


def group_lines(species: Sequence[str], elements: Sequence[str], name: str) -> list[str]:
    """A group of all atoms of ``species`` (by their atom types)."""
    missing = [symbol for symbol in species if symbol not in elements]
    if missing:
        raise ScriptSettingsError(f'species {missing} are not among the potential elements {list(elements)}')
    types = ' '.join(str(elements.index(symbol) + 1) for symbol in species)
    return [f'group {name} type {types}']


def assemble(*blocks: Sequence[str]) -> str:
    return '\n'.join(line for block in blocks for line in block) + '\n'


# -- workflow scripts ---------------------------------------------------------------------------------------------


def melt_quench_stages(settings: dict) -> list[Stage]:
    """Heat, hold, cool and hold stages of the melt-quench (NVT), from rates in K/ps and hold times in ps."""
    dt = settings['timestep_fs']
    t0, t_melt, t_end = settings['t_initial'], settings['t_melt'], settings['t_final']
    heat_ps = (t_melt - t0) / settings['heating_rate_k_per_ps']
    cool_ps = (t_melt - t_end) / settings['cooling_rate_k_per_ps']
    stages = [
        Stage('heat', steps_of(heat_ps, dt, 'melt_quench heating time'), t0, t_melt),
        Stage('melt', steps_of(settings['melt_hold_ps'], dt, 'melt_quench.melt_hold_ps'), t_melt, t_melt),
        Stage('cool', steps_of(cool_ps, dt, 'melt_quench cooling time'), t_melt, t_end),
        Stage('hold', steps_of(settings['final_hold_ps'], dt, 'melt_quench.final_hold_ps'), t_end, t_end),
    ]
    return [stage for stage in stages if stage.steps > 0]


def melt_quench_script(settings: dict, potential: Sequence[str], elements: Sequence[str]) -> str:
    """NVT melt-quench: velocities at ``t_initial``, then each stage of :func:`melt_quench_stages` in turn."""
    lines: list[str] = [velocity_line(settings['t_initial'], settings['seed'])]
    for stage in melt_quench_stages(settings):
        lines += [*stage_lines(stage, settings['tdamp_ps'], settings['pdamp_ps']), f'unfix {stage.name}']
    return assemble(
        preamble(restart=False),
        potential,
        dynamics_setup(settings['timestep_fs'], settings['thermo_interval_steps']),
        lines,
        final_state_lines(elements),
    )


@dataclass(frozen=True)
class Chunk:
    """One anneal chunk: steps ``(first_step, last_step]``; index 0 starts from the data file."""

    index: int
    first_step: int
    last_step: int

    @property
    def steps(self) -> int:
        return self.last_step - self.first_step


def anneal_chunks(settings: dict) -> list[Chunk]:
    """Split the anneal's ``total_ps`` into chunks of ``chunk_ps`` (the last one may be shorter)."""
    dt = settings['timestep_fs']
    total = steps_of(settings['total_ps'], dt, 'anneal.total_ps')
    size = steps_of(settings['chunk_ps'], dt, 'anneal.chunk_ps')
    if size < 1 or total < 1:
        raise ScriptSettingsError('anneal.total_ps and anneal.chunk_ps must both be at least one timestep')
    if size > total:
        raise ScriptSettingsError(
            f'anneal.chunk_ps = {settings["chunk_ps"]} ps is longer than anneal.total_ps = {settings["total_ps"]} ps; '
            'give a chunk no longer than the total'
        )
    return [Chunk(index, start, min(start + size, total)) for index, start in enumerate(range(0, total, size))]


def snapshot_steps(settings: dict) -> list[int]:
    """Steps of the anneal's snapshots: every ``snapshot_interval_ps`` from ``snapshot_start_ps`` to the end."""
    dt = settings['timestep_fs']
    total = steps_of(settings['total_ps'], dt, 'anneal.total_ps')
    interval = steps_of(settings['snapshot_interval_ps'], dt, 'anneal.snapshot_interval_ps')
    start = steps_of(settings['snapshot_start_ps'], dt, 'anneal.snapshot_start_ps')
    if interval < 1:
        raise ScriptSettingsError('anneal.snapshot_interval_ps must be at least one timestep')
    if start % interval:
        raise ScriptSettingsError('anneal.snapshot_start_ps must be a multiple of anneal.snapshot_interval_ps')
    return list(range(max(start, interval), total + 1, interval))


def chunk_snapshot_steps(settings: dict, chunk: Chunk) -> list[int]:
    """The snapshot steps inside ``(first_step, last_step]`` of ``chunk``: no duplicates across chunks."""
    return [step for step in snapshot_steps(settings) if chunk.first_step < step <= chunk.last_step]


def anneal_chunk_script(settings: dict, potential: Sequence[str], elements: Sequence[str]) -> str:
    """NPT chunk ``settings['chunk']`` of :func:`anneal_chunks`: the first creates velocities, later ones continue
    from the previous chunk's restart file at the step and time of their start.

    Snapshots fall on multiples of the snapshot interval at or after its start (:func:`chunk_snapshot_steps`); their
    frames carry the simulated time.
    """
    dt = settings['timestep_fs']
    chunk = anneal_chunks(settings)[settings['chunk']]
    continuation = chunk.index > 0
    stage = Stage('anneal', chunk.steps, settings['temperature'], settings['temperature'], settings['pressure_bar'])
    start = preamble(restart=continuation)
    if continuation:
        start.append(f'reset_timestep {chunk.first_step} time {chunk.first_step * dt / 1000.0:.10g}')
    lines: list[str] = [] if continuation else [velocity_line(settings['temperature'], settings['seed'])]
    wanted = chunk_snapshot_steps(settings, chunk)
    if wanted:
        interval = steps_of(settings['snapshot_interval_ps'], dt, 'anneal.snapshot_interval_ps')
        lines += dump_lines(
            'snapshots',
            group='all',
            interval=interval,
            filename=SNAPSHOT_DUMP,
            columns=('x', 'y', 'z'),
            elements=elements,
            delay=wanted[0],
            time=True,
        )
    lines += stage_lines(stage, settings['tdamp_ps'], settings['pdamp_ps'])
    return assemble(
        start,
        potential,
        dynamics_setup(dt, settings['thermo_interval_steps']),
        lines,
        final_state_lines(elements),
    )


def relax_script(settings: dict, potential: Sequence[str], elements: Sequence[str]) -> str:
    """Energy minimisation (conjugate gradient), with the cell relaxed towards ``pressure_bar`` if ``cell`` is set.

    ``cell``: ``null``/``false`` (fixed cell), ``iso``, ``aniso`` or ``tri`` (LAMMPS ``fix box/relax`` couplings).
    """
    lines: list[str] = []
    cell = settings.get('cell')
    if cell:
        if cell not in ('iso', 'aniso', 'tri'):
            raise ScriptSettingsError(f'relax.cell = {cell!r}: use null (fixed cell), iso, aniso or tri')
        lines.append(f'fix cell all box/relax {cell} {settings["pressure_bar"]:.10g} vmax {settings["vmax"]:.10g}')
    lines += [
        f'min_style {settings["min_style"]}',
        f'minimize {settings["etol"]:.10g} {settings["ftol"]:.10g} {settings["maxiter"]} {settings["maxeval"]}',
    ]
    return assemble(
        preamble(restart=False),
        potential,
        dynamics_setup(settings['timestep_fs'], settings['thermo_interval_steps']),
        lines,
        final_state_lines(elements),
    )


def _nvt_production_script(
    settings: dict,
    *,
    temperature: float,
    potential: Sequence[str],
    elements: Sequence[str],
    dump: list[str],
    group: list[str],
) -> str:
    dt = settings['timestep_fs']
    equilibration = steps_of(settings['equilibration_ps'], dt, 'equilibration_ps')
    production = steps_of(settings['time_ps'], dt, 'time_ps')
    lines = [*group, velocity_line(temperature, settings['seed'])]
    thermostat = f'fix nvt all nvt temp {temperature:.10g} {temperature:.10g} {settings["tdamp_ps"]:.10g}'
    lines.append(thermostat)
    if equilibration:
        lines += [f'run {equilibration}', 'reset_timestep 0']
    lines += [*dump, f'run {production}']
    return assemble(
        preamble(restart=False),
        potential,
        dynamics_setup(dt, settings['thermo_interval_steps']),
        lines,
        final_state_lines(elements),
    )


def diffusion_script(settings: dict, potential: Sequence[str], elements: Sequence[str]) -> str:
    """NVT at ``temperature`` with the positions and image flags of ``species`` dumped every ``dump_interval_ps``."""
    interval = steps_of(settings['dump_interval_ps'], settings['timestep_fs'], 'diffusion.dump_interval_ps')
    group = group_lines(settings['species'], elements, 'mobile')
    dump = dump_lines(
        'trajectory',
        group='mobile',
        interval=interval,
        filename=TRAJECTORY_DUMP,
        columns=('x', 'y', 'z', 'ix', 'iy', 'iz'),
        elements=elements,
    )
    return _nvt_production_script(
        settings, temperature=settings['temperature'], potential=potential, elements=elements, dump=dump, group=group
    )


def vdos_script(settings: dict, potential: Sequence[str], elements: Sequence[str]) -> str:
    """NVT at ``temperature`` with all velocities dumped every ``dump_interval_fs``."""
    dt = settings['timestep_fs']
    interval = steps_of(settings['dump_interval_fs'] / 1000.0, dt, 'vdos.dump_interval_fs')
    dump = dump_lines(
        'velocities',
        group='all',
        interval=interval,
        filename=VELOCITY_DUMP,
        columns=('x', 'y', 'z', 'vx', 'vy', 'vz'),
        elements=elements,
    )
    return _nvt_production_script(
        settings, temperature=settings['temperature'], potential=potential, elements=elements, dump=dump, group=[]
    )


# -- the scripts of the MD workflows, by name -----------------------------------------------------------------------

SCRIPTS: dict[str, Callable[[dict, Sequence[str], Sequence[str]], str]] = {
    'melt_quench': melt_quench_script,
    'anneal': anneal_chunk_script,
    'relax': relax_script,
    'diffusion': diffusion_script,
    'vdos': vdos_script,
}
MINIMISATIONS = frozenset({'relax'})  # scripts without dynamics: no timestep to shorten


def with_timestep_divided(settings: dict, divisor: int) -> dict:
    """``settings`` with the timestep divided by ``divisor`` and the thermo interval (steps) multiplied by it: every
    other step count derives from a time, so the scripts cover the same simulated times with output at the same
    times."""
    return {
        **settings,
        'timestep_fs': settings['timestep_fs'] / divisor,
        'thermo_interval_steps': settings['thermo_interval_steps'] * divisor,
    }
