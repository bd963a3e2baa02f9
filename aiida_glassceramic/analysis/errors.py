"""The error raised for input the analysis cannot use."""


class AnalysisError(ValueError):
    """Input that an analysis cannot use; the message names the argument and the fix."""
