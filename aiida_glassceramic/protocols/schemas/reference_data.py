"""Settings of the reference-data stage (reference_data.yaml); the engine sections are checked by their engine."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, PositiveFloat, PositiveInt

from ..validation import Section


class Conditions(Section):
    """The grid of AIMD conditions: every crystal x cell size x strain x defect x (temperature or quench)."""

    cell_sizes: list[PositiveInt] = Field(min_length=1, description='atoms of the pristine cell, repeated along a')
    strains: list[float] = Field(min_length=1, description='isotropic strains (fraction)')
    defects: list[str] = Field(min_length=1, description='pristine, li_vacancy, li2s_vacancy')
    temperatures: list[PositiveFloat] = Field(min_length=1, description='AIMD temperatures (K)')
    quenches: list[Annotated[list[PositiveFloat], Field(min_length=2, max_length=2)]] = Field(
        [], description='AIMD with the temperature ramped linearly from the first to the second value (K)'
    )
    defect_seed: int = Field(0, description='which Li / S is removed')


class Md(Section):
    """AIMD of every condition."""

    timestep: PositiveFloat = Field(description='AIMD timestep (fs)')
    steps: PositiveInt = Field(description='AIMD steps per condition')
    snapshot_fraction: float = Field(gt=0, le=1, description='fraction of the steps taken as snapshots, uniformly')
    max_restarts: int = Field(ge=0, description='continuations of a killed AIMD')
    seed: int = Field(0, description='thermostat seed of the embedded engines')


class Screening(Section):
    """Duplicates among the snapshots, by fingerprint distance."""

    threshold: float = Field(ge=0, description='RMS fingerprint distance below which snapshots are duplicates')
    cutoff: PositiveFloat = Field(description="the potential's symmetry-function cut-off (A)")


class Static(Section):
    """Jobs in flight and the static labels of the snapshots."""

    max_concurrent: PositiveInt = Field(description='jobs in flight at any time (AIMD and static)')
    structures_per_job: PositiveInt = Field(1, description='structures per static job of the embedded engines')


class ReferenceDataProtocol(Section):
    """One protocol of reference_data.yaml."""

    crystals: list[str] = Field(min_length=1, description='bundled crystal models used when no structures are given')
    conditions: Conditions
    md: Md
    screening: Screening
    static: Static
    vasp: dict[str, Any] = Field(description='VASP: POTCARs, INCAR and k-points of the AIMD and static runs')
    tblite: dict[str, Any] = Field(description='tblite: calculator and thermostat')
    chgnet: dict[str, Any] = Field(description='CHGNet: model and thermostat')
    sevennet: dict[str, Any] = Field(description='SevenNet: model and thermostat')
