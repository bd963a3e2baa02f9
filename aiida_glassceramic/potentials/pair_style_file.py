"""The potential as a text file for LAMMPS' ``pair_style glassceramic`` (format described in docs/potential.md).

Every number is written as Python's shortest round-trip decimal, so the pair style reads the model's float64
values bit for bit. The file is line oriented: a keyword, then its values; ``#`` starts a comment.
"""

from __future__ import annotations

from pathlib import Path

import ase.data
import torch

from .model import NNPotential

FORMAT_NAME = 'glassceramic_potential'
FORMAT_VERSION = 2  # 2: with the training range of every feature (the pair style reads 1 and 2)
PAIR_STYLE = 'glassceramic'
PAIR_STYLE_FILENAME = 'potential.glassceramic'


def _numbers(values) -> str:
    return ' '.join(repr(float(value)) for value in values)


def pair_style_lines(model: NNPotential) -> list[str]:
    """The lines of the pair-style file of ``model`` (its weights in float64)."""
    descriptor = model.descriptor
    elements = list(model.elements)
    state = {name: tensor.detach().to('cpu', torch.float64) for name, tensor in model.state_dict().items()}
    lines = [
        f'# neural network potential for LAMMPS: pair_style {PAIR_STYLE}; pair_coeff * * FILE {" ".join(elements)}',
        f'{FORMAT_NAME} {FORMAT_VERSION}',
        f'elements {len(elements)} {" ".join(elements)}',
        f'masses {_numbers(ase.data.atomic_masses[ase.data.atomic_numbers[symbol]] for symbol in elements)}',
        f'cutoff {float(descriptor.cutoff)!r}',
        f'cutoff_function {descriptor.cutoff_function}',
        f'radial {len(descriptor.radial)}',
        *(_numbers((f.eta, f.rs)) for f in descriptor.radial),
        f'angular {len(descriptor.angular)}',
        *(f'{_numbers((f.eta, f.zeta, f.lambda_, f.rs))} {f.kind}' for f in descriptor.angular),
        f'activation {model.activation}',
        f'hidden {len(model.hidden)} {" ".join(str(width) for width in model.hidden)}',
        f'reference_energy {_numbers(state["reference_energy"].tolist())}',
        f'feature_ranges {"yes" if model.has_feature_ranges else "no"}',
    ]
    for index, symbol in enumerate(elements):
        lines += [
            f'network {symbol}',
            f'shift {_numbers(state["feature_shift"][index].tolist())}',
            f'scale {_numbers(state["feature_scale"][index].tolist())}',
        ]
        if model.has_feature_ranges:
            lines += [
                f'minimum {_numbers(state["feature_min"][index].tolist())}',
                f'maximum {_numbers(state["feature_max"][index].tolist())}',
            ]
        linear = [module for module in model.networks[index] if isinstance(module, torch.nn.Linear)]
        for layer, module in enumerate(linear):
            prefix = f'networks.{index}.{list(model.networks[index]).index(module)}'
            weight, bias = state[f'{prefix}.weight'], state[f'{prefix}.bias']
            lines.append(f'layer {layer + 1} {weight.shape[0]} {weight.shape[1]}')
            lines += [_numbers(row) for row in weight.tolist()]
            lines.append(f'bias {_numbers(bias.tolist())}')
    lines.append('end')
    return lines


def write_pair_style_file(model: NNPotential, path: str | Path) -> Path:
    """Write the pair-style file of ``model`` to ``path``; returns the path."""
    path = Path(path)
    path.write_text('\n'.join(pair_style_lines(model)) + '\n')
    return path
