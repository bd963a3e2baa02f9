"""Sphinx configuration of the aiida-glassceramic documentation."""

import aiida_glassceramic

project = 'aiida-glassceramic'
author = 'The aiida-glassceramic developers'
release = aiida_glassceramic.__version__
extensions = ['myst_parser', 'sphinx.ext.autodoc', 'sphinx.ext.napoleon', 'sphinx.ext.mathjax']
myst_enable_extensions = ['colon_fence', 'dollarmath']
source_suffix = {'.md': 'markdown'}
exclude_patterns = ['_build']
autodoc_typehints = 'description'
autodoc_mock_imports = []
html_theme = 'alabaster'
nitpicky = False
