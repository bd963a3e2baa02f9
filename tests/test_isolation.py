"""The tests never write into the user's AiiDA configuration: a run of tests that use a profile, with HOME pointing
to an empty folder, leaves no ``.aiida`` there."""

import os
import subprocess
import sys
from pathlib import Path


def test_tests_with_a_profile_leave_home_untouched(tmp_path):
    home = tmp_path / 'home'
    home.mkdir()
    environment = {key: value for key, value in os.environ.items() if key not in ('AIIDA_PATH', 'CI')}
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests/data'],
        cwd=Path(__file__).parent.parent,
        env={**environment, 'HOME': str(home)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert ' passed' in result.stdout
    assert list(home.iterdir()) == [], f'written into HOME: {sorted(p.name for p in home.iterdir())}'
