"""SevenNet (a universal potential trained on PBE) molecular dynamics and single points as a CalcJob."""

from __future__ import annotations

from ..runners.sevennet import SEVENNET
from .reference_engine import ReferenceEngineCalculation


class SevennetCalculation(ReferenceEngineCalculation):
    """Runs ``glassceramic-sevennet``: NVT MD (labelled frames + restart) or single points (labels) with SevenNet.

    ``misc['engine']`` records the model, the sevenn version and the SHA-256 of the weights.
    """

    ENGINE = SEVENNET
    PARSER = 'glassceramic.sevennet'
    STDOUT = 'sevennet.out'
    FAILURE = ('ERROR_CALCULATION_FAILED', 'SevenNet refused {what}')
