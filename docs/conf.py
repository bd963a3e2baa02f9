"""Sphinx configuration of the aiida-glassceramic documentation."""

import os
import sys
import tempfile
from pathlib import Path

# The work chain directives read process specifications through a loaded profile: a temporary one in memory, with a
# configuration folder of its own unless one is set.
os.environ.setdefault('AIIDA_PATH', tempfile.mkdtemp(prefix='aiida-glassceramic-docs-'))

from aiida import load_profile
from aiida.storage.sqlite_temp import SqliteTempBackend

import aiida_glassceramic

load_profile(SqliteTempBackend.create_profile('docs'), allow_switch=True)
sys.path.insert(0, str(Path(__file__).parent / '_ext'))

project = 'aiida-glassceramic'
author = 'The aiida-glassceramic developers'
release = aiida_glassceramic.__version__
extensions = ['myst_parser', 'sphinx.ext.autodoc', 'sphinx.ext.napoleon', 'sphinx.ext.mathjax', 'aiida.sphinxext', 'protocol_table']
myst_enable_extensions = ['colon_fence', 'dollarmath']
source_suffix = {'.md': 'markdown'}
exclude_patterns = ['_build']
autodoc_typehints = 'description'
autodoc_mock_imports = []
html_theme = 'alabaster'
nitpicky = False
