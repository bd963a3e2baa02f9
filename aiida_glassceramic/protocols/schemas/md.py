"""Settings of the MD work chains (md.yaml): units metal (K, bar, ps, fs, eV, A); times become steps with
``timestep_fs``."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, PositiveFloat, PositiveInt, model_validator

from ..validation import Section


def _one_over_k(value: float) -> float:
    if not 0.0 < value <= 1.0 or not math.isclose(1.0 / value, round(1.0 / value), rel_tol=1e-9):
        raise ValueError('give 1/k for a whole k (0.5, 0.25, ...; 1 switches the remedy off)')
    return value


class CoreRepulsion(Section):
    """ZBL repulsion at short range, switched off where the network was trained."""

    inner_fraction: float = Field(
        gt=0, lt=1, description='ZBL alone below this fraction of the shortest training distance'
    )
    outer_fraction: float = Field(gt=0, le=1, description='ZBL off above this fraction')

    @model_validator(mode='after')
    def _ordered(self):
        if not self.inner_fraction < self.outer_fraction:
            raise ValueError('inner_fraction must be below outer_fraction')
        return self


class Common(Section):
    """Settings every MD run shares; they are merged into each run's ``parameters``."""

    timestep_fs: PositiveFloat = Field(description='MD timestep (fs)')
    seed: int = Field(ge=1, le=899_999_999, description='velocity seed (LAMMPS: 1 .. 899999999)')
    tdamp_ps: PositiveFloat = Field(description='Nose-Hoover thermostat damping (ps)')
    pdamp_ps: PositiveFloat = Field(description='Nose-Hoover barostat damping (ps)')
    thermo_interval_steps: PositiveInt = Field(description='steps between thermo rows')
    timestep_remedy: Annotated[float, AfterValidator(_one_over_k)] = Field(
        0.5, description='dynamics that blow up run once more with the timestep times this (1/k; 1: never)'
    )
    core_repulsion: CoreRepulsion | None = Field(None, description='ZBL core of neural network potentials (null: none)')
    potential_engine: Literal['pair_style', 'fix_external'] = Field(
        'pair_style', description='pair_style glassceramic (native, MPI) or the fix external driver (one rank)'
    )


class CommonSettings(Common):
    """``common`` of md.yaml: the shared run settings plus those of the calculations."""

    max_iterations: PositiveInt = Field(3, description='attempts per calculation (an incomplete run is repeated)')
    options: dict[str, Any] = Field(default_factory=dict, description='metadata options of every LAMMPS calculation')


class MeltQuench(Section):
    """NVT: heat from ``t_initial`` to ``t_melt``, hold, cool to ``t_final``, hold."""

    t_initial: PositiveFloat = Field(description='start temperature (K)')
    t_melt: PositiveFloat = Field(description='melt temperature (K)')
    heating_rate_k_per_ps: PositiveFloat = Field(description='heating rate (K/ps)')
    melt_hold_ps: float = Field(ge=0, description='time at t_melt (ps)')
    cooling_rate_k_per_ps: PositiveFloat = Field(description='cooling rate (K/ps)')
    t_final: PositiveFloat = Field(description='end temperature (K)')
    final_hold_ps: float = Field(ge=0, description='time at t_final (ps)')

    @model_validator(mode='after')
    def _melts(self):
        if not self.t_melt > max(self.t_initial, self.t_final):
            raise ValueError(f't_melt = {self.t_melt} K must be above t_initial and t_final')
        return self


class Anneal(Section):
    """NPT from the glass in restartable chunks, with a series of snapshots."""

    temperature: PositiveFloat = Field(description='anneal temperature (K)')
    pressure_bar: float = Field(description='pressure (bar)')
    total_ps: PositiveFloat = Field(description='length of the anneal (ps)')
    chunk_ps: PositiveFloat = Field(description='length of one calculation (ps); a killed chunk is rerun')
    snapshot_interval_ps: PositiveFloat = Field(description='time between snapshots (ps)')
    snapshot_start_ps: float = Field(ge=0, description='first snapshot (ps), a multiple of the interval')

    @model_validator(mode='after')
    def _snapshots_inside(self):
        if self.snapshot_start_ps > self.total_ps or self.snapshot_interval_ps > self.total_ps:
            raise ValueError(
                f'snapshots from {self.snapshot_start_ps} ps every {self.snapshot_interval_ps} ps fall after the end '
                f'of the {self.total_ps} ps anneal; give snapshot_start_ps and snapshot_interval_ps <= total_ps'
            )
        return self


class Relax(Section):
    """Energy minimisation of each snapshot."""

    cell: Literal['iso', 'aniso', 'tri'] | None = Field(description='fix box/relax coupling (null: fixed cell)')
    pressure_bar: float = Field(description='target pressure of the box relaxation (bar)')
    vmax: PositiveFloat = Field(description='largest volume change per iteration (fraction)')
    min_style: Literal['cg', 'sd', 'hftn', 'fire', 'quickmin'] = Field(description='LAMMPS min_style')
    etol: float = Field(ge=0, description='energy tolerance (relative)')
    ftol: float = Field(ge=0, description='force tolerance (eV/A)')
    maxiter: PositiveInt = Field(description='largest number of iterations')
    maxeval: PositiveInt = Field(description='largest number of force evaluations')
    thermo_interval_steps: PositiveInt = Field(description='iterations between thermo rows')


class Diffusion(Section):
    """NVT per structure and temperature; D from the MSD, Arrhenius fit, conductivity."""

    temperatures: list[PositiveFloat] = Field(min_length=1, description='run temperatures (K)')
    time_ps: PositiveFloat = Field(description='production time per run (ps)')
    equilibration_ps: float = Field(ge=0, description='NVT time before production (ps)')
    dump_interval_ps: PositiveFloat = Field(description='time between trajectory frames (ps)')
    species: list[str] = Field(min_length=1, description='diffusing species')
    fit_start_ps: float = Field(ge=0, description='start of the MSD fit window (ps)')
    fit_stop_ps: PositiveFloat = Field(description='end of the MSD fit window (ps)')
    conductivity_temperature: PositiveFloat = Field(description='temperature of the conductivity (K)')
    haven_ratio: PositiveFloat = Field(description='Haven ratio of the Nernst-Einstein relation')
    displacement_window_ps: PositiveFloat = Field(description='window of the Li displacement map (ps)')
    displacement_bins: list[PositiveInt] = Field(
        min_length=3, max_length=3, description='bins of the map along a, b, c'
    )

    @model_validator(mode='after')
    def _windows_inside(self):
        if not self.fit_start_ps < self.fit_stop_ps <= self.time_ps:
            raise ValueError(
                f'fit window {self.fit_start_ps}-{self.fit_stop_ps} ps: need fit_start_ps < fit_stop_ps <= time_ps '
                f'({self.time_ps} ps)'
            )
        if self.dump_interval_ps > self.fit_stop_ps - self.fit_start_ps:
            raise ValueError('dump_interval_ps is longer than the fit window: give more frames')
        if not self.dump_interval_ps <= self.displacement_window_ps <= self.time_ps:
            raise ValueError('displacement_window_ps must lie between dump_interval_ps and time_ps')
        return self


class Vdos(Section):
    """NVT; velocities -> vibrational density of states per species."""

    temperature: PositiveFloat = Field(description='temperature (K)')
    time_ps: PositiveFloat = Field(description='production time (ps)')
    equilibration_ps: float = Field(ge=0, description='NVT time before production (ps)')
    dump_interval_fs: PositiveFloat = Field(description='time between velocity frames (fs)')
    segment_frames: int = Field(ge=4, description='frames per Welch segment')

    @model_validator(mode='after')
    def _segments_fit(self):
        frames = self.time_ps * 1000.0 / self.dump_interval_fs
        if self.segment_frames > frames:
            raise ValueError(f'segment_frames = {self.segment_frames} exceeds the {frames:.0f} frames of the run')
        return self


STAGES = {'melt_quench': MeltQuench, 'anneal': Anneal, 'relax': Relax, 'diffusion': Diffusion, 'vdos': Vdos}


class MdProtocol(Section):
    """One protocol of md.yaml."""

    common: CommonSettings
    melt_quench: MeltQuench
    anneal: Anneal
    relax: Relax
    diffusion: Diffusion
    vdos: Vdos


def parameters_model(stage: str) -> type[Section]:
    """The model of one MD work chain's ``parameters``: the shared settings and those of ``stage``."""
    return _PARAMETERS[stage]


_PARAMETERS = {
    name: type(f'{model.__name__}Parameters', (Common, model), {'__doc__': model.__doc__})
    for name, model in STAGES.items()
}
