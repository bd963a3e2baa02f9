"""Analysis of structures and trajectories: plain numpy/scipy on :class:`ase.Atoms` and arrays, no AiiDA.

g(r), XRD and crystallinity, the entropy fingerprint, crystalline domains and their percolation, anion speciation,
contacts (S around each P, shortest pairs), MSD/diffusion/Arrhenius/Nernst-Einstein with uncertainties, Li
displacement maps and Li displacement near ordered P, and the VDOS, with streaming trajectory readers.
"""

from .contacts import shortest_pairs, sulfur_per_phosphorus
from .diffusion import (
    ArrheniusFit,
    DiffusionFit,
    arrhenius_fit,
    centre_of_mass_positions,
    diffusion_coefficient,
    mean_square_displacement,
    nernst_einstein,
)
from .displacement_map import DisplacementMap, displacement_map
from .domains import Clusters, CrystallineDomains, crystalline_domains, periodic_clusters
from .errors import AnalysisError
from .fingerprint import EntropyFingerprint, crystalline_fraction, entropy_fingerprint
from .li_order import DisplacementByOrder, displacement_by_order, nearest_site
from .neighbours import NeighbourList, neighbour_list
from .rdf import PairDistribution, pair_distribution
from .speciation import BOND_CUTOFFS, anion_speciation
from .trajectory import iter_frames, iter_lammps_dump, velocities
from .unwrap import Unwrapper, unwrapped_positions
from .vdos import PAPER_GROUPS, VibrationalDOS, vibrational_dos
from .xrd import Crystallinity, Reflections, XRDPattern, crystallinity, reflections, xrd_pattern

__all__ = (
    'BOND_CUTOFFS',
    'PAPER_GROUPS',
    'AnalysisError',
    'ArrheniusFit',
    'Clusters',
    'CrystallineDomains',
    'Crystallinity',
    'DiffusionFit',
    'DisplacementByOrder',
    'DisplacementMap',
    'EntropyFingerprint',
    'NeighbourList',
    'PairDistribution',
    'Reflections',
    'Unwrapper',
    'VibrationalDOS',
    'XRDPattern',
    'anion_speciation',
    'arrhenius_fit',
    'centre_of_mass_positions',
    'crystalline_domains',
    'crystalline_fraction',
    'crystallinity',
    'diffusion_coefficient',
    'displacement_by_order',
    'displacement_map',
    'entropy_fingerprint',
    'iter_frames',
    'iter_lammps_dump',
    'mean_square_displacement',
    'nearest_site',
    'neighbour_list',
    'nernst_einstein',
    'pair_distribution',
    'periodic_clusters',
    'reflections',
    'shortest_pairs',
    'sulfur_per_phosphorus',
    'unwrapped_positions',
    'velocities',
    'vibrational_dos',
    'xrd_pattern',
)
