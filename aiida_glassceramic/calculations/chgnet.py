"""CHGNet (a universal potential trained on PBE) molecular dynamics and single points as a CalcJob."""

from __future__ import annotations

from ..runners.chgnet import CHGNET
from .reference_engine import ReferenceEngineCalculation


class ChgnetCalculation(ReferenceEngineCalculation):
    """Runs ``glassceramic-chgnet``: NVT MD (labelled frames + restart) or single points (labels) with CHGNet.

    ``misc['engine']`` records the model, the chgnet version and the SHA-256 of the weights.
    """

    ENGINE = CHGNET
    PARSER = 'glassceramic.chgnet'
    STDOUT = 'chgnet.out'
    FAILURE = ('ERROR_CALCULATION_FAILED', 'CHGNet refused {what}')
