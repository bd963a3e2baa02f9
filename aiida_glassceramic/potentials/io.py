"""Saving and loading a potential: one file, ``torch.save`` of ``{'metadata': dict, 'state_dict': ...}``."""

from __future__ import annotations

from pathlib import Path

import torch

from aiida_glassceramic.descriptors import SymmetryFunctionParameters

from .model import DTYPES, NNPotential

RANGE_BUFFERS = ('feature_min', 'feature_max')


class PotentialFileError(ValueError):
    """A file that is not a potential written by :func:`save_potential`."""


def save_potential(model: NNPotential, path: str | Path) -> Path:
    """Write the model (metadata + weights) to ``path``; returns the path."""
    path = Path(path)
    state = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    torch.save({'metadata': model.metadata(), 'state_dict': state}, path)
    return path


def read_potential_metadata(path: str | Path) -> dict:
    """The metadata dict of a potential file (elements, cut-off, descriptor, scaling, metrics, ...)."""
    return _read(path)['metadata']


def load_potential(path: str | Path, dtype: torch.dtype | str | None = None, device: str = 'cpu') -> NNPotential:
    """Rebuild the model of a potential file, optionally in another dtype (``'float32'``) or on another device."""
    content = _read(path)
    metadata = content['metadata']
    model = NNPotential(
        SymmetryFunctionParameters.from_dict(metadata['descriptor']),
        hidden=metadata['hidden'],
        activation=metadata['activation'],
        dtype=metadata['dtype'],
        skin=metadata.get('skin', 0.0),
    )
    # potentials saved before the feature ranges were recorded keep the model's NaN: no extrapolation counts
    model.load_state_dict({**{name: getattr(model, name) for name in RANGE_BUFFERS}, **content['state_dict']})
    model.metrics = dict(metadata.get('metrics', {}))
    if dtype is not None:
        dtype = DTYPES.get(dtype, dtype) if isinstance(dtype, str) else dtype
        if dtype not in DTYPES.values():
            raise PotentialFileError(f'dtype `{dtype}`: choose float64 or float32')
        model.to(dtype)
    return model.to(device).eval()


def _read(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise PotentialFileError(f'potential file `{path}`: does not exist')
    try:
        content = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:
        raise PotentialFileError(f'potential file `{path}`: not readable as a potential ({error})') from None
    if not isinstance(content, dict) or content.get('metadata', {}).get('format') != 'aiida-glassceramic-nnp':
        raise PotentialFileError(f'potential file `{path}`: not written by save_potential')
    return content
