"""Codes of the reference-data tests: the CHGNet and SevenNet runners, the VASP stand-in and a fake POTCAR family."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

STAND_IN = Path(__file__).parent / 'stand_in_vasp' / 'vasp_stand_in.py'
INTERRUPTED_CHGNET = Path(__file__).parent / 'interrupted_chgnet.py'
FAKE_FAMILY = 'FAKE_PBE'
# element, POTCAR name, valence, mass (the values of the real PBE.54 Li_sv, P, S files)
FAKE_POTCARS = (('Li', 'Li_sv', 3.0, 6.941), ('P', 'P', 5.0, 30.974), ('S', 'S', 6.0, 32.066))


def write_fake_potcar(path: Path, name: str, valence: float, mass: float) -> None:
    """A POTCAR that carries the header fields aiida-vasp reads, without a real pseudopotential."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'  PAW_PBE {name} 06Sep2000\n {valence:.10f}\n parameters from PSCTR are:\n'
        f'   VRHFIN ={name.split("_", maxsplit=1)[0]}: fake\n   LEXCH  = PE\n   TITEL  = PAW_PBE {name} 06Sep2000\n'
        f'   POMASS =   {mass:.3f}; ZVAL   =    {valence:.3f}    mass and valenz\n'
        '   ENMAX  =  250.000; ENMIN  =  200.000 eV\n END of PSCTR-controll parameters\n End of Dataset\n'
    )


@pytest.fixture(scope='session')
def potcar_family(aiida_profile, tmp_path_factory) -> str:
    from aiida_vasp.data.potcar import PotcarData

    root = tmp_path_factory.mktemp('potcars')
    for _, name, valence, mass in FAKE_POTCARS:
        write_fake_potcar(root / name / 'POTCAR', name, valence, mass)
    if PotcarData.get_potcar_group(FAKE_FAMILY) is None:
        PotcarData.upload_potcar_family(str(root), FAKE_FAMILY, 'fake POTCARs of the tests')
    return FAKE_FAMILY


@pytest.fixture
def vasp_code(aiida_code_installed):
    return aiida_code_installed(
        label='stand-in-vasp',
        default_calc_job_plugin='vasp.vasp',
        filepath_executable=str(STAND_IN),
        prepend_text=f'export OMP_NUM_THREADS=1\nexport PATH={Path(sys.executable).parent}:$PATH',
        with_mpi=False,
    )


@pytest.fixture
def stand_in_environment(monkeypatch):
    """Set stand-in failure flags for the jobs launched by this test (they inherit the environment)."""

    def set_flags(**flags):
        for key, value in flags.items():
            monkeypatch.setenv(f'STAND_IN_VASP_{key.upper()}', str(value))

    for key in list(os.environ):
        if key.startswith('STAND_IN_VASP_'):
            monkeypatch.delenv(key)
    return set_flags


@pytest.fixture
def chgnet_code(package_code):
    """``glassceramic-chgnet`` of this virtualenv on localhost, one thread per job."""
    return package_code('glassceramic-chgnet')


@pytest.fixture
def sevennet_code(package_code):
    """``glassceramic-sevennet`` of this virtualenv on localhost, one thread per job."""
    return package_code('glassceramic-sevennet')


@pytest.fixture
def interrupted_chgnet_code(aiida_code_installed):
    """The CHGNet runner behind ``interrupted_chgnet.py``: jobs stopped every few steps, one killed at start."""
    from tests.conftest import CODE_PREPEND

    return aiida_code_installed(
        label='interrupted-chgnet',
        filepath_executable=str(INTERRUPTED_CHGNET),
        default_calc_job_plugin='glassceramic.chgnet',
        prepend_text=f'{CODE_PREPEND}\nexport PATH={Path(sys.executable).parent}:$PATH',
    )
