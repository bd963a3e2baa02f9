"""AiiDA plugin for machine-learning molecular dynamics of glass-ceramic solid electrolytes."""

__version__ = '0.1.0'
