"""GFN1-xTB (tblite) molecular dynamics and single points as a CalcJob: an embedded reference engine."""

from __future__ import annotations

from ..runners.tblite import TBLITE
from .reference_engine import ReferenceEngineCalculation


class TbliteCalculation(ReferenceEngineCalculation):
    """Runs ``glassceramic-tblite``: NVT MD (trajectory + restart) or single points (labels) with GFN1-xTB."""

    ENGINE = TBLITE
    PARSER = 'glassceramic.tblite'
    STDOUT = 'tblite.out'
    FAILURE = ('ERROR_SCF_NOT_CONVERGED', 'SCF not converged for {what}')
