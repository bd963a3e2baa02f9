"""``glassceramic-lmp``: LAMMPS with the neural network potential, a drop-in for ``lmp``.

Same command line as ``lmp`` (``-in FILE``, ``-log FILE``, ``-screen FILE|none``, ``-var NAME VALUE ...``,
``-echo screen`` and every other LAMMPS switch); without ``-in`` the script is read from stdin. The script names
the potential with LAMMPS variables and supplies it through ``fix external``::

    units metal
    read_data structure.data
    pair_style zero 7.0                             # no forces; gives LAMMPS a cut-off for sorting, rdf, ...
    pair_coeff * *
    variable nnp_potential string potential.pt     # or: -var nnp_potential potential.pt
    variable nnp_elements string "Li P S"           # element of atom types 1, 2, 3
    fix nnp all external pf/callback 1 1
    fix_modify nnp energy yes virial yes
    fix md all npt temp 600 600 0.1 iso 1 1 1
    run 1000

Optional: ``variable nnp_dtype string float32`` (default: the model's), ``variable nnp_device string cuda`` and
``variable nnp_skin string 1.0``: the model's own neighbour list then reaches 1 A beyond the cut-off and is reused
until an atom has moved half of that (or the box changed enough), instead of being rebuilt on the CPU every step;
the results do not change.
The driver also loads the ``pair_style glassceramic`` plugin (built on first use), so scripts with the native pair
style run through it as through ``lmp``, on any number of MPI ranks.
LAMMPS does integration, thermostats, barostats, dumps and computes; ``pe``, ``press`` and the barostat include the
potential's energy and virial. The first warning of each kind from the potential (e.g. atoms closer than in the
training data) appears as ``WARNING:`` on LAMMPS' screen and log, later ones are counted on stderr. After each run
the driver prints the run's extrapolation warnings as ``pair_style glassceramic`` does (see
:mod:`.extrapolation`); a run inside an ``include`` file, an ``if`` command or a script with ``jump`` is reported
once LAMMPS hands the script back.

The ``fix ... external`` command must stand on its own line of the main script (not inside an ``include`` file, an
``if`` command or a loop body): the driver runs the script up to it, attaches the potential and runs the rest.
A script without ``fix external`` runs exactly as with ``lmp``.

Exit codes: 0 ok, 1 LAMMPS error (message as ``ERROR:`` on LAMMPS' screen and log; also an error inside a run, such
as a time step set to 0 through a variable), 2 bad input, refused before the run (message on stderr and as
``ERROR:`` line naming the variable or command and the fix): the ``nnp_*`` variables, an element order that
contradicts the atom types' masses, a time step <= 0, a box that is not periodic in x, y and z, a bad switch.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .lammps_coupling import (
    CouplingError,
    FixExternalCoupling,
    Potential,
    abort_run,
    check_timestep,
    parse_elements,
    preload_mpi_library,
)

Loader = Callable[[str, 'str | None', str], Potential]
INPUT_SWITCHES = ('-in', '-i')
VARIABLE_POTENTIAL = 'nnp_potential'
VARIABLE_ELEMENTS = 'nnp_elements'
VARIABLE_DTYPE = 'nnp_dtype'
VARIABLE_DEVICE = 'nnp_device'
VARIABLE_SKIN = 'nnp_skin'
DTYPES = ('float32', 'float64')
HINT_PLACEMENT = (
    'put `fix ID GROUP external pf/callback 1 1` on its own line of the main input script (not inside an include '
    'file, an if command or a loop body), so glassceramic-lmp can attach the potential to it'
)


class DriverError(ValueError):
    """The script or command line does not set up the potential correctly."""


@dataclass(frozen=True)
class Segment:
    """A piece of the input script; ``fix_id`` is set when it ends with a ``fix ... external`` command."""

    text: str
    fix_id: str | None


def split_command_line(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """The ``-in`` file (None: stdin) and the switches handed to LAMMPS unchanged."""
    input_path = None
    passed = []
    args = list(argv)
    index = 0
    while index < len(args):
        if args[index] in INPUT_SWITCHES:
            if index + 1 >= len(args):
                raise DriverError(f'{args[index]}: give the input script, e.g. `-in input.in`')
            input_path = args[index + 1]
            index += 2
            continue
        passed.append(args[index])
        index += 1
    return input_path, passed


def commands(text: str) -> Iterator[tuple[str, list[str]]]:
    """The commands of a script: their text and words (``&`` continuations and ``\"\"\"`` blocks followed as LAMMPS
    reads them; the words of a quoted block are those of its first line)."""
    logical = ''
    in_triple_quotes = False
    for line in text.splitlines(keepends=True):
        logical += line
        in_triple_quotes ^= line.count('"""') % 2 == 1
        if in_triple_quotes or line.rstrip().endswith('&'):
            continue
        yield logical, logical.replace('&\n', ' ').split()
        logical = ''
    if logical:
        yield logical, []


def split_script(text: str) -> list[Segment]:
    """Cut the script after every ``fix ID GROUP external ...`` command."""
    segments = []
    current = ''
    for command, words in commands(text):
        current += command
        if len(words) >= 4 and words[0] == 'fix' and words[3] == 'external':
            segments.append(Segment(current, words[1]))
            current = ''
    segments.append(Segment(current, None))
    return segments


def split_runs(text: str) -> list[str]:
    """Cut a piece of script after every ``run`` and ``minimize`` command, so that each run can be reported when it
    ends (not for a script with ``jump``: its loops need the script whole)."""
    pieces, current = [], ''
    for command, words in commands(text):
        current += command
        if words[:1] in (['run'], ['minimize']):
            pieces.append(current)
            current = ''
    return [*pieces, current] if current else pieces


def check_script(text: str) -> None:
    """Refuse, before LAMMPS runs anything, what the script states plainly wrong: a time step <= 0."""
    for _, words in commands(text):
        if len(words) >= 2 and words[0] == 'timestep':
            try:
                timestep = float(words[1])
            except ValueError:  # a variable, or a word LAMMPS refuses itself
                continue
            check_timestep(timestep)


def enable_pair_style() -> None:
    """Put ``pair_style glassceramic`` on ``LAMMPS_PLUGIN_PATH`` (building it if needed); a warning if that fails."""
    from .lammps_plugin import PluginBuildError, ensure_plugin

    try:
        folder = str(ensure_plugin().parent)
    except PluginBuildError as error:
        sys.stderr.write(f'WARNING: glassceramic-lmp: pair_style glassceramic unavailable: {error}\n')
        return
    known = os.environ.get('LAMMPS_PLUGIN_PATH', '').split(os.pathsep)
    if folder not in known:
        os.environ['LAMMPS_PLUGIN_PATH'] = os.pathsep.join([folder, *filter(None, known)])


def load_potential_file(path: str, dtype: str | None, device: str) -> Potential:
    """The project's neural network potential from its model file (glibc then keeps freed memory for the next step)."""
    if not Path(path).is_file():
        raise DriverError(f'{VARIABLE_POTENTIAL} `{path}`: no such file (working directory {Path.cwd()})')
    from .io import load_potential
    from .model import keep_freed_memory

    keep_freed_memory()
    return load_potential(path, dtype=dtype, device=device)


class Driver:
    """One LAMMPS instance that runs input scripts and attaches potentials to their ``fix external`` commands."""

    def __init__(
        self,
        lammps_args: Sequence[str] = (),
        loader: Loader = load_potential_file,
        on_error: Callable[[object, BaseException], None] = abort_run,
    ):
        preload_mpi_library()
        enable_pair_style()
        import lammps

        self.lmp = lammps.lammps(cmdargs=list(lammps_args))
        self.loader = loader
        self.on_error = on_error
        self.couplings: dict[str, FixExternalCoupling] = {}
        self._potentials: dict[tuple[str, str | None, str], Potential] = {}

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Shut LAMMPS down (it prints the total wall time) after counting the potential's warnings on stderr."""
        for fix_id, coupling in self.couplings.items():
            for kind, count in coupling.warning_counts.items():
                sys.stderr.write(f'glassceramic-lmp: fix {fix_id}: {kind} in {count} force calls\n')
        if self.lmp is not None:
            self.lmp.close()
            self.lmp = None

    def run_file(self, path: str | Path) -> None:
        """Run a script file; a script without ``fix external`` goes to LAMMPS as it is."""
        text = Path(path).read_text()
        if len(split_script(text)) == 1:
            self.lmp.file(str(path))
            return
        self.run_text(text)

    def run_text(self, text: str) -> None:
        """Run a script given as text, attaching the potential after each ``fix ... external`` command."""
        loops = any(words[:1] == ['jump'] for _, words in commands(text))
        with tempfile.TemporaryDirectory(prefix='glassceramic-lmp-') as folder:
            for number, segment in enumerate(split_script(text)):
                for part, piece in enumerate([segment.text] if loops else split_runs(segment.text)):
                    path = Path(folder) / f'input-part{number}-{part}.in'
                    path.write_text(piece)
                    self.lmp.file(str(path))
                    self.report_extrapolation()
                if segment.fix_id is not None:
                    self.attach(self.lmp.expand(segment.fix_id) if '$' in segment.fix_id else segment.fix_id)

    def report_extrapolation(self) -> None:
        """Print the extrapolation line of each run finished since the last report on LAMMPS' screen and log."""
        for coupling in self.couplings.values():
            for line in coupling.report_lines():
                self.lmp.command(f'print "{line}"')

    def attach(self, fix_id: str) -> FixExternalCoupling:
        """Attach the potential named by the script's ``nnp_*`` variables to the fix ``fix_id``."""
        elements = parse_elements(self._variable(VARIABLE_ELEMENTS, '"Li P S"'))
        potential = self._potential(
            self._variable(VARIABLE_POTENTIAL, 'potential.pt'),
            self._variable(VARIABLE_DTYPE, None),
            self._variable(VARIABLE_DEVICE, None) or 'cpu',
        )
        skin = self._variable(VARIABLE_SKIN, None)
        if skin is not None:
            set_skin(potential, skin)
        coupling = FixExternalCoupling(self.lmp, fix_id, potential, elements, on_error=self.on_error).attach()
        self.couplings[fix_id] = coupling
        return coupling

    def _variable(self, name: str, example: str | None) -> str | None:
        import lammps

        if name not in self.lmp.available_ids('variable'):
            if example is None:
                return None
            raise DriverError(
                f'variable `{name}` is not defined: add `variable {name} string {example}` before the '
                f'`fix ... external` command or pass `-var {name} {example.strip(chr(34))!r}`'
            )
        value = self.lmp.extract_variable(name, vartype=lammps.LMP_VAR_STRING)
        return str(value).strip()

    def _potential(self, path: str, dtype: str | None, device: str) -> Potential:
        if dtype is not None and dtype not in DTYPES:
            raise DriverError(f'{VARIABLE_DTYPE} `{dtype}`: give one of {", ".join(DTYPES)} or leave the variable out')
        if device != 'cpu' and not device.startswith('cuda'):
            raise DriverError(f'{VARIABLE_DEVICE} `{device}`: give cpu, cuda or cuda:N (N: the GPU)')
        key = (str(Path(path).resolve()), dtype, device)
        if key not in self._potentials:
            try:
                self._potentials[key] = self.loader(path, dtype, device)
            except DriverError:
                raise
            except Exception as error:
                raise DriverError(
                    f'{VARIABLE_POTENTIAL} `{path}`: cannot load a potential from it ({type(error).__name__}: '
                    f'{error}); give a model file written by glassceramic-train or save_potential'
                ) from error
        return self._potentials[key]


def set_skin(potential: Potential, text: str) -> None:
    """Give the potential's own neighbour list a skin (A) so that it is reused between steps."""
    try:
        skin = float(text)
    except ValueError:
        skin = -1.0
    if not skin >= 0.0:
        raise DriverError(f'{VARIABLE_SKIN} `{text}`: give a distance >= 0 in A, e.g. 1.0')
    if not hasattr(potential, 'skin'):
        raise DriverError(f'{VARIABLE_SKIN}: this potential keeps no neighbour list of its own; leave the variable out')
    potential.skin = skin


def report(lmp, message: str) -> None:
    """An error on stderr and, as ``ERROR:`` line, on LAMMPS' screen and log (what aiida-lammps' parser looks for)."""
    sys.stderr.write(f'ERROR: glassceramic-lmp: {message}\n')
    sys.stderr.flush()
    if lmp is not None:
        safe = message.replace('"', "'").replace('$', 'S')
        try:
            lmp.command(f'print """ERROR: glassceramic-lmp: {safe}"""')
        except Exception:  # LAMMPS may already be in an error state; stderr has the message
            pass


def run(argv: Sequence[str], loader: Loader = load_potential_file) -> int:
    """Run LAMMPS with ``lmp``'s command line; return the exit code."""
    try:
        input_path, lammps_args = split_command_line(argv)
        if input_path is not None and not Path(input_path).is_file():
            raise DriverError(f'-in `{input_path}`: no such input script (working directory {Path.cwd()})')
        text = sys.stdin.read() if input_path is None else Path(input_path).read_text()
        check_script(text)
    except (DriverError, CouplingError) as error:
        report(None, str(error))
        return 2
    try:
        driver = Driver(lammps_args, loader=loader)
    except Exception as error:  # LAMMPS refused a switch; it has printed its ERROR line
        report(None, f'LAMMPS did not start with the switches {" ".join(lammps_args)!r}: {error}')
        return 2
    try:
        if input_path is None:
            driver.run_text(text)
        else:
            driver.run_file(input_path)
    except (DriverError, CouplingError) as error:
        report(driver.lmp, str(error))
        return 2
    except Exception as error:  # LAMMPS raises plain Exception; it has printed ERROR already
        message = str(error)
        if 'callback function not set' in message:
            message += f'; {HINT_PLACEMENT}'
        sys.stderr.write(f'{message}\n')
        return 1
    finally:
        driver.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point ``glassceramic-lmp``."""
    return run(sys.argv[1:] if argv is None else argv)


if __name__ == '__main__':
    sys.exit(main())
