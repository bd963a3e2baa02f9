"""fix external coupling against LAMMPS' own pair style: a Lennard-Jones object behind the driver must reproduce
``pair_style lj/cut`` in energy, forces, all six pressure components on a sheared cell, and NVT/NPT trajectories."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_glassceramic.potentials.lammps_driver import Driver

from .conftest import QUIET, by_tag, fix_external, native_pair_style

THERMO = ('pe', 'pxx', 'pyy', 'pzz', 'pxy', 'pxz', 'pyz', 'vol', 'etotal')


def setup_script(data) -> str:
    return f'units metal\natom_style atomic\nread_data {data}\n'


def lj_driver(lennard_jones) -> Driver:
    return Driver(QUIET, loader=lambda path, dtype, device: lennard_jones)


def thermo(lmp) -> dict[str, float]:
    return {key: lmp.get_thermo(key) for key in THERMO}


def minimum_image(lmp, delta: np.ndarray) -> np.ndarray:
    """Differences of positions reduced to the nearest periodic image of the current box."""
    boxlo, boxhi, xy, yz, xz, _, _ = lmp.extract_box()
    cell = np.array([[boxhi[0] - boxlo[0], 0, 0], [xy, boxhi[1] - boxlo[1], 0], [xz, yz, boxhi[2] - boxlo[2]]])
    fractional = delta @ np.linalg.inv(cell)
    return (fractional - np.round(fractional)) @ cell


def test_static_energy_forces_and_pressure_tensor(lammps_module, lennard_jones, sheared_lj_data):
    native = lammps_module.lammps(cmdargs=list(QUIET))
    native.commands_string(setup_script(sheared_lj_data) + native_pair_style() + 'run 0\n')
    expected, expected_forces = thermo(native), by_tag(native, 'f')
    box = native.extract_box()
    native.close()
    assert min(abs(box[2]), abs(box[3]), abs(box[4])) > 0.5, 'the cell must be sheared in xy, xz and yz'

    with lj_driver(lennard_jones) as driver:
        driver.run_text(setup_script(sheared_lj_data) + fix_external() + 'run 0\n')
        got, forces = thermo(driver.lmp), by_tag(driver.lmp, 'f')

    assert lennard_jones.calls == 1
    assert abs(expected['pe']) > 1.0 and np.abs(expected_forces).max() > 0.1
    for key in THERMO:
        assert got[key] == pytest.approx(expected[key], rel=1e-11, abs=1e-9), key
    for key in ('pxy', 'pxz', 'pyz'):
        assert abs(expected[key]) > 0.5, f'{key} must be non-zero for the test to tell the components apart'
    np.testing.assert_allclose(forces, expected_forces, rtol=0, atol=1e-11)


@pytest.mark.parametrize(
    'ensemble',
    ['nvt temp 300 300 0.1', 'npt temp 300 300 0.1 tri 0 0 0.5'],
    ids=['nvt', 'npt-triclinic'],
)
def test_trajectory_equals_native(lammps_module, lennard_jones, sheared_lj_data, ensemble):
    md = f'velocity all create 300 4928459 mom yes rot no\ntimestep 0.002\nfix md all {ensemble}\n'
    native = lammps_module.lammps(cmdargs=list(QUIET))
    native.commands_string(setup_script(sheared_lj_data) + native_pair_style() + md)
    native.command('run 0')
    start, start_volume = by_tag(native, 'x'), native.get_thermo('vol')
    with lj_driver(lennard_jones) as driver:
        driver.run_text(setup_script(sheared_lj_data) + fix_external() + md + 'run 0\n')
        for _ in range(4):
            native.command('run 50')
            driver.lmp.command('run 50')
            expected, got = thermo(native), thermo(driver.lmp)
            for key in THERMO:
                assert got[key] == pytest.approx(expected[key], rel=1e-8, abs=1e-6), key
        delta = minimum_image(native, by_tag(driver.lmp, 'x') - by_tag(native, 'x'))
        travelled = minimum_image(native, by_tag(native, 'x') - start)
        assert np.abs(delta).max() < 1e-8
        assert np.abs(travelled).max() > 0.1, 'the trajectory must go somewhere'
        if 'npt' in ensemble:
            assert abs(native.get_thermo('vol') / start_volume - 1) > 1e-3, 'the barostat must act'
        assert np.array(driver.lmp.extract_box()[:2]) == pytest.approx(np.array(native.extract_box()[:2]), abs=1e-9)
    native.close()
    assert lennard_jones.calls == 1 + 4 * 51


def test_loops_and_labels_after_the_fix_keep_working(lammps_module, lennard_jones, sheared_lj_data):
    loop = 'variable i loop 3\nlabel again\nrun 10\nnext i\njump SELF again\n'
    md = 'velocity all create 100 87287 mom yes\nfix md all nve\n'
    native = lammps_module.lammps(cmdargs=list(QUIET))
    native.commands_string(setup_script(sheared_lj_data) + native_pair_style() + md + 'run 30\n')
    expected = thermo(native)
    native.close()
    with lj_driver(lennard_jones) as driver:
        driver.run_text(setup_script(sheared_lj_data) + fix_external() + md + loop)
        got = thermo(driver.lmp)
    assert lennard_jones.calls == 3 * 11
    for key in THERMO:
        assert got[key] == pytest.approx(expected[key], rel=1e-10, abs=1e-8), key
