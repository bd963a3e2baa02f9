#!/usr/bin/env python
"""``glassceramic-chgnet`` as a scheduler that stops jobs would leave it: each MD job runs at most
``INTERRUPTED_CHGNET_CHUNK`` steps past its restart point (the parser sees an incomplete run, exit 310), and the job
number ``INTERRUPTED_CHGNET_SILENT`` (1-based, counted in ``INTERRUPTED_CHGNET_STATE``) dies before it writes a
file. The MD itself is the real runner's."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from aiida_glassceramic.runners.chgnet import main
from aiida_glassceramic.runners.reference_engine import RESTART

if __name__ == '__main__':
    state = Path(os.environ['INTERRUPTED_CHGNET_STATE'])
    with state.open('a') as handle:
        handle.write('job\n')
    if len(state.read_text().splitlines()) == int(os.environ['INTERRUPTED_CHGNET_SILENT']):
        sys.exit(137)
    config = json.loads(Path('input.json').read_text())
    start = int(np.load(RESTART)['step']) if Path(RESTART).is_file() else 0
    config['md']['steps'] = min(int(config['md']['steps']), start + int(os.environ['INTERRUPTED_CHGNET_CHUNK']))
    Path('input.json').write_text(json.dumps(config))
    sys.exit(main(sys.argv[1:]))
