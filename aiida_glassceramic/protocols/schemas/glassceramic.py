"""Settings of the whole study (glassceramic.yaml): the stage protocols, the MD cell and the structure analyses."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from ..validation import Section


class Stages(Section):
    """The protocol of each stage, in its own file."""

    reference_data: str = Field(description='protocol of reference_data.yaml')
    train: str = Field(description='protocol of train.yaml')
    md: str = Field(description='protocol of md.yaml, every MD stage')


class PairDistribution(Section):
    """Radial distribution functions g(r)."""

    rmax_A: PositiveFloat = Field(description='largest distance of g(r) (A)')
    nbins: PositiveInt = Field(description='bins of g(r)')


class Xrd(Section):
    """Simulated X-ray diffraction and the crystallinity from it."""

    wavelength_A: PositiveFloat = Field(description='X-ray wavelength (A; Cu K-alpha 1.54184)')
    two_theta_range_deg: list[float] = Field(min_length=2, max_length=2, description='2-theta range (deg)')
    step_deg: PositiveFloat = Field(description='2-theta step (deg)')
    fwhm_deg: PositiveFloat = Field(description='peak width (deg)')

    @model_validator(mode='after')
    def _range(self):
        low, high = self.two_theta_range_deg
        if not 0.0 < low < high < 180.0:
            raise ValueError(f'two_theta_range_deg = {[low, high]}: need 0 < low < high < 180')
        return self


class Fingerprint(Section):
    """Entropy fingerprint of each atom of a species."""

    species: str = Field(description='atoms that get a fingerprint')
    cutoff_A: PositiveFloat = Field(description='r_m of the pair distribution (A)')
    sigma_A: PositiveFloat = Field(description='Gaussian smearing (A)')
    average_cutoff_A: PositiveFloat | None = Field(description='r_a of the neighbour average (A; null: none)')
    sublattice: bool = Field(description='pair distribution of the species alone')


class Speciation(Section):
    """Anion units (PS4, P2S7, ...) from bond cut-offs."""

    cutoffs_A: dict[str, PositiveFloat] = Field(description='bond cut-offs of P-S, P-P and S-S (A)')


class Domains(Section):
    """Crystalline domains: ordered P and their clusters."""

    threshold_kB: float | Literal['midpoint'] = Field(description="ordered P below this fingerprint ('midpoint')")
    cutoff_A: PositiveFloat = Field(description='ordered P closer than this are one domain (A)')


class Analysis(Section):
    """The structure analyses of the crystal, the glass and every snapshot."""

    pair_distribution: PairDistribution
    xrd: Xrd
    fingerprint: Fingerprint
    speciation: Speciation
    domains: Domains


class GlassCeramicProtocol(Section):
    """One protocol of glassceramic.yaml, with the overrides of each stage's own protocol."""

    stages: Stages
    reference_engine: Literal['vasp', 'tblite', 'chgnet', 'sevennet'] = Field(description='reference engine')
    supercell: list[PositiveInt] = Field(min_length=3, max_length=3, description='repeats of the crystal for the MD')
    dynamics_snapshots: Literal['all', 'last'] = Field(description='snapshots that get diffusion and VDOS runs')
    analysis: Analysis
    reference_data: dict[str, Any] = Field(default_factory=dict, description='overrides of the reference stage')
    train: dict[str, Any] = Field(default_factory=dict, description='overrides of the training stage')
    md: dict[str, Any] = Field(default_factory=dict, description='overrides of every MD stage')
