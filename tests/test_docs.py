"""The documentation builds without a single warning."""

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).parent.parent / 'docs'


def test_docs_build_without_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-b', 'html', str(DOCS), str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'structures.html').is_file()
