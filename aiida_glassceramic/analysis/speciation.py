"""Thiophosphate anion speciation from a bond graph.

Bonds (defaults, A): P-S < 2.5 (PS4 P-S is 2.0-2.07), P-P < 2.5 (the P-P bond of P2S6 is ~2.2),
S-S < 2.4 (an S-S bond is ~2.05-2.1, while the S-S edge of a PS4 tetrahedron is ~3.3). Each connected
group of P and S atoms is one unit: PS4 (1 P, 4 S), P2S6 (2 P bonded to each other, 6 S), P2S7 (2 P
sharing one bridging S, 7 S); S atoms without any P or S partner are isolated sulfide (S2-, the Li2S-like
species). Every other group is counted as ``other``; S-S bonds, P-P bonds and bridging S (bonded to two
P) are counted wherever they occur.
"""

from __future__ import annotations

from collections.abc import Mapping

import ase
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ._common import check_range, periodic_cell
from .errors import AnalysisError
from .neighbours import neighbour_list

BOND_CUTOFFS = {('P', 'S'): 2.5, ('P', 'P'): 2.5, ('S', 'S'): 2.4}
BOND_RANGE = (1.5, 3.0)  # A: beyond every P-S, P-P and S-S bond (~2.0-2.2), below the PS4 S-S edge (~3.3)
UNITS = ('PS4', 'P2S6', 'P2S7', 'isolated_S', 'other')


def anion_speciation(atoms: ase.Atoms, cutoffs: Mapping[tuple[str, str], float] | None = None) -> dict[str, int]:
    """Counts of PS4, P2S6, P2S7, isolated S and other units, and of S-S bonds, P-P bonds and bridging S."""
    cutoffs = {**BOND_CUTOFFS, **_checked(cutoffs or {})}
    cell = periodic_cell(atoms)
    symbols = np.asarray(atoms.get_chemical_symbols())
    anion = np.flatnonzero(np.isin(symbols, ['P', 'S']))
    counts = dict.fromkeys((*UNITS, 'S_S_bonds', 'P_P_bonds', 'bridging_S'), 0)
    if anion.size == 0:
        return counts
    kinds = symbols[anion]
    pairs = neighbour_list(atoms.positions[anion], cell, max(cutoffs.values()), full=False)
    a, b = kinds[pairs.i], kinds[pairs.j]
    limit = np.zeros(len(pairs.i))
    for (x, y), value in cutoffs.items():
        limit[((a == x) & (b == y)) | ((a == y) & (b == x))] = value
    bonded = pairs.distances < limit
    i, j, a, b = pairs.i[bonded], pairs.j[bonded], a[bonded], b[bonded]
    n = anion.size
    _, label = connected_components(coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)), directed=False)
    is_p = kinds == 'P'
    p_neighbours = np.bincount(np.where(a == 'P', j, i)[(a == 'P') != (b == 'P')], minlength=n)
    any_bond = np.bincount(np.concatenate([i, j]), minlength=n)
    bridging = (~is_p) & (p_neighbours >= 2)
    p_p = (a == 'P') & (b == 'P')
    s_s = (a == 'S') & (b == 'S')
    counts['S_S_bonds'] = int(s_s.sum())
    counts['P_P_bonds'] = int(p_p.sum())
    counts['bridging_S'] = int(bridging.sum())
    n_p = np.bincount(label, weights=is_p)
    n_s = np.bincount(label, weights=~is_p)
    n_pp = np.bincount(label[i[p_p]], minlength=len(n_p))
    n_ss = np.bincount(label[i[s_s]], minlength=len(n_p))
    n_bridge = np.bincount(label[bridging], minlength=len(n_p))
    isolated = (n_p == 0) & (n_s == 1) & (np.bincount(label, weights=any_bond) == 0)
    plain = n_ss == 0
    kinds_of_unit = {
        'PS4': plain & (n_p == 1) & (n_s == 4) & (n_pp == 0),
        'P2S6': plain & (n_p == 2) & (n_s == 6) & (n_pp == 1) & (n_bridge == 0),
        'P2S7': plain & (n_p == 2) & (n_s == 7) & (n_pp == 0) & (n_bridge == 1),
        'isolated_S': isolated,
    }
    for name, mask in kinds_of_unit.items():
        counts[name] = int(mask.sum())
    counts['other'] = int(len(n_p) - sum(int(mask.sum()) for mask in kinds_of_unit.values()))
    return counts


def _checked(cutoffs: Mapping[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    """Bond cut-offs keyed as in ``BOND_CUTOFFS`` (either order), each within ``BOND_RANGE``."""
    checked = {}
    for key, value in cutoffs.items():
        pair = tuple(key) if isinstance(key, tuple | list) else (key,)
        canonical = next((known for known in BOND_CUTOFFS if sorted(known) == sorted(pair)), None)
        if canonical is None:
            raise AnalysisError(
                f'cutoffs `{key}`: not a bond of the speciation; give cut-offs for {[*BOND_CUTOFFS]} only'
            )
        checked[canonical] = check_range(f'cutoffs {key}', value, *BOND_RANGE)
    return checked
