"""Training on energies per atom, forces and (optionally) virials per atom: Adam, early stopping on a validation
subset of the training part, RMSEs on train, validation and test, parity plot."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from ase import units

from aiida_glassceramic.descriptors import NeighbourList, SymmetryFunctionParameters, default_parameters

from ..training_set import TrainingSet
from .data_checks import TrainingDataError, check_training_data
from .model import NNPotential
from .training_parameters import TrainingParameterError, TrainingParameters, check_stress_labels


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite."""


class _Batch:
    """Structures merged into one neighbour list, with fixed shift vectors (cells do not change)."""

    def __init__(self, model: NNPotential, data: TrainingSet) -> None:
        dtype = model.dtype
        offsets = data.offsets
        centres, neighbours, shifts, first, second = [], [], [], [], []
        types = model.types(data.numbers)
        n_pairs = 0
        for index in range(len(data)):
            start, stop = offsets[index], offsets[index + 1]
            nl = model.neighbour_list(types[start:stop], data.positions[start:stop], data.cells[index])
            centres.append(nl.centres + start)
            neighbours.append(nl.neighbours + start)
            shifts.append(nl.shifts @ data.cells[index])
            if model.descriptor.needs_triplets:
                first.append(nl.triplet_first + n_pairs)
                second.append(nl.triplet_second + n_pairs)
            n_pairs += nl.n_pairs
        # pairs stay sorted by (centre, neighbour element) and triplets grouped by (element pair, centre):
        # structures never share a centre, so the per-structure lists can be concatenated
        triplets = (np.concatenate(first), np.concatenate(second)) if first else None
        self.nl = NeighbourList(
            np.concatenate(centres),
            np.concatenate(neighbours),
            np.zeros((n_pairs, 3), dtype=np.int64),
            model.cutoff,
            triplets,
        )
        self.shift_vectors = torch.as_tensor(np.concatenate(shifts), dtype=dtype)
        self.centres = torch.as_tensor(self.nl.centres)
        self.neighbours = torch.as_tensor(self.nl.neighbours)
        self.types = torch.as_tensor(types)
        self.positions = torch.as_tensor(data.positions, dtype=dtype)
        self.structure = torch.as_tensor(np.repeat(np.arange(len(data)), data.natoms))
        self.natoms = torch.as_tensor(data.natoms, dtype=dtype)
        self.energies = torch.as_tensor(data.energies, dtype=dtype)
        self.forces = torch.as_tensor(data.forces, dtype=dtype)
        self.stresses = None if data.stresses is None else torch.as_tensor(data.stresses, dtype=dtype)
        self.volumes = torch.as_tensor(np.abs(np.linalg.det(data.cells)), dtype=dtype)
        self.pair_structure = self.structure[self.centres]
        self.n_structures = len(data)

    def vectors(self, positions: torch.Tensor) -> torch.Tensor:
        return positions[self.neighbours] - positions[self.centres] + self.shift_vectors

    def predict(self, model: NNPotential, create_graph: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Energies per structure, forces and stresses (ASE convention: Voigt xx yy zz yz xz xy, eV/A^3), all from
        the gradient of the energy in the pair vectors; differentiable in the weights when ``create_graph``."""
        vectors = self.vectors(self.positions).requires_grad_()
        features = model.symmetry_functions()(vectors, self.nl, self.types, len(self.types))
        atomic = model.atomic_energies(features, self.types)
        energies = atomic.new_zeros(self.n_structures).index_add(0, self.structure, atomic)
        (gradient,) = torch.autograd.grad(energies.sum(), vectors, create_graph=create_graph)
        forces = torch.zeros_like(self.positions).index_add(0, self.centres, gradient)
        forces = forces.index_add(0, self.neighbours, -gradient)
        # dE/d(strain) = sum over pairs of r_ij (x) dE/dr_ij, per structure
        pairs = vectors[:, :, None] * gradient[:, None, :]
        virials = pairs.new_zeros(self.n_structures, 3, 3).index_add(0, self.pair_structure, pairs)
        virials = 0.5 * (virials + virials.transpose(1, 2))
        stresses = virials.reshape(-1, 9)[:, [0, 4, 8, 5, 2, 1]] / self.volumes[:, None]
        return energies, forces, stresses

    def features(self, model: NNPotential) -> torch.Tensor:
        with torch.no_grad():
            return model.symmetry_functions()(self.vectors(self.positions), self.nl, self.types, len(self.types))


def train(
    train_set: TrainingSet,
    parameters: dict | TrainingParameters | None = None,
    test_set: TrainingSet | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[NNPotential, dict]:
    """Fit a potential; without ``test_set`` the data are split at random (``test_fraction``, ``seed``).

    A random ``validation_fraction`` of the training part (at least one structure) is held out for early
    stopping: the weights of the epoch with the lowest validation loss are kept, and training stops after
    ``patience`` epochs without improvement; the test set plays no part in the fit. Returns the model and its
    metrics (RMSE of energy in meV/atom and of force components in meV/A, on the fitted structures
    ``_train``, the validation structures ``_validation`` and the test set ``_test``).

    First the data (``train_set`` and ``test_set`` together) go through the sanity checks of
    :func:`.data_checks.check_training_data`: their warnings are logged and kept in ``metrics['warnings']``;
    with ``strict`` they refuse the data (:class:`.data_checks.TrainingDataError`).
    """
    started = time.perf_counter()
    log = log or (lambda _: None)
    if not isinstance(parameters, TrainingParameters):
        parameters = TrainingParameters.from_dict(parameters)
    check_stress_labels(
        {'stress_weight': parameters.stress_weight},
        (data.stresses is not None for data in (train_set, test_set) if data is not None),
    )
    warnings = check_training_data(train_set if test_set is None else TrainingSet.merge(train_set, test_set))
    if warnings and parameters.strict:
        raise TrainingDataError(
            f'training data refused (strict): {" | ".join(warnings)}; or set `strict` to false to train anyway'
        )
    for warning in warnings:
        log(f'warning: {warning}')
    if test_set is None:
        train_set, test_set = split_test(train_set, parameters)
    log(f'training on {len(train_set)} structures, testing on {len(test_set)}')
    train_set, validation_set = _carve_validation(train_set, parameters)
    torch.manual_seed(parameters.seed)
    species = sorted(set(train_set.species) | set(validation_set.species) | set(test_set.species))
    descriptor = (
        SymmetryFunctionParameters.from_dict(parameters.descriptor)
        if parameters.descriptor
        else default_parameters(species, parameters.cutoff, cutoff_function=parameters.cutoff_function)
    )
    model = NNPotential(descriptor, parameters.hidden, parameters.activation, parameters.dtype)
    model.types(np.concatenate([train_set.numbers, validation_set.numbers, test_set.numbers]))  # all known
    rng = np.random.default_rng(parameters.seed)
    order = rng.permutation(len(train_set))
    train_batches = [
        _Batch(model, train_set.subset(np.sort(order[start : start + parameters.batch_size])))
        for start in range(0, len(order), parameters.batch_size)
    ]
    validation_batches, test_batches = (
        _batches(model, validation_set, parameters),
        _batches(model, test_set, parameters),
    )
    _fit_scaling(model, train_set, train_batches, validation_batches)
    optimiser = torch.optim.Adam(model.parameters(), lr=parameters.learning_rate)
    schedule = (
        torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, parameters.epochs)
        if parameters.learning_rate_schedule == 'cosine'
        else None
    )
    best_loss, best_epoch, best_state, epoch = math.inf, 0, copy.deepcopy(model.state_dict()), 0
    for epoch in range(1, parameters.epochs + 1):
        for index in rng.permutation(len(train_batches)):
            optimiser.zero_grad()
            loss = _loss(model, train_batches[index], parameters, create_graph=True)
            if not torch.isfinite(loss):
                raise TrainingDivergedError(f'training diverged at epoch {epoch}: loss is {loss.item()}')
            loss.backward()
            optimiser.step()
        if schedule is not None:
            schedule.step()
        loss = sum(float(_loss(model, batch, parameters, create_graph=False)) for batch in validation_batches)
        if not math.isfinite(loss):
            raise TrainingDivergedError(f'training diverged at epoch {epoch}: validation loss is {loss}')
        if loss < best_loss:
            best_loss, best_epoch, best_state = loss, epoch, copy.deepcopy(model.state_dict())
        if epoch == 1 or epoch % 10 == 0:
            log(f'epoch {epoch}: validation loss {loss:.6g} (best {best_loss:.6g} at epoch {best_epoch})')
        if epoch - best_epoch >= parameters.patience:
            break
    model.load_state_dict(best_state)
    metrics = {
        **{f'{key}_train': value for key, value in rmse(model, train_batches).items()},
        **{f'{key}_validation': value for key, value in rmse(model, validation_batches).items()},
        **{f'{key}_test': value for key, value in rmse(model, test_batches).items()},
        'n_train': len(train_set),
        'n_validation': len(validation_set),
        'n_test': len(test_set),
        'epochs': epoch,
        'best_epoch': best_epoch,
        'wall_time_s': time.perf_counter() - started,
        'warnings': warnings,
    }
    model.metrics = metrics
    model.eval()
    return model, metrics


def split_test(data: TrainingSet, parameters: TrainingParameters) -> tuple[TrainingSet, TrainingSet]:
    """The (train, test) split that :func:`train` makes when it is given no test set."""
    return data.split(1.0 - parameters.test_fraction, parameters.seed)


def _carve_validation(data: TrainingSet, parameters: TrainingParameters) -> tuple[TrainingSet, TrainingSet]:
    """Split the training part into fitted structures and a random validation subset (at least one each)."""
    if len(data) < 2:
        raise TrainingParameterError(
            f'training set: {len(data)} structure(s) after the test split; at least 2 are needed (one for the '
            'validation that stops the training): add structures or lower `test_fraction`'
        )
    count = min(len(data) - 1, max(1, round(parameters.validation_fraction * len(data))))
    order = np.random.default_rng(parameters.seed + 1).permutation(len(data))
    return data.subset(np.sort(order[count:])), data.subset(np.sort(order[:count]))


def _batches(model: NNPotential, data: TrainingSet, parameters: TrainingParameters) -> list[_Batch]:
    return [
        _Batch(model, data.subset(np.arange(start, min(start + parameters.batch_size, len(data)))))
        for start in range(0, len(data), parameters.batch_size)
    ]


def _loss(model: NNPotential, batch: _Batch, parameters: TrainingParameters, create_graph: bool) -> torch.Tensor:
    """Weighted mean squares of the errors of the energy per atom (eV), the force components (eV/A) and, with a
    positive ``stress_weight``, the virial components per atom (stress x volume / atoms, eV)."""
    energies, forces, stresses = batch.predict(model, create_graph)
    energy_error = ((energies - batch.energies) / batch.natoms).square().mean()
    force_error = (forces - batch.forces).square().mean()
    loss = parameters.energy_weight * energy_error + parameters.force_weight * force_error
    if parameters.stress_weight > 0:
        virial_error = ((stresses - batch.stresses) * (batch.volumes / batch.natoms)[:, None]).square().mean()
        loss = loss + parameters.stress_weight * virial_error
    return loss if create_graph else loss.detach()


SCALE_FLOOR = 1e-2


def _fit_scaling(
    model: NNPotential, data: TrainingSet, batches: list[_Batch], validation_batches: list[_Batch]
) -> None:
    """Feature mean/std per element, per-element reference energies (least squares) and closest distances, all over
    the fitted structures ``data`` (in ``batches``); the range of each feature per element over these and the
    validation structures (every structure of the training set: an element absent from it has the empty range
    ``[inf, -inf]``)."""
    features = [batch.features(model) for batch in batches]
    types = torch.cat([batch.types for batch in batches])
    features = torch.cat(features)
    seen = torch.cat([features, *(batch.features(model) for batch in validation_batches)])
    seen_types = torch.cat([types, *(batch.types for batch in validation_batches)])
    with torch.no_grad():
        for index in range(len(model.elements)):
            chosen = seen[seen_types == index]
            model.feature_min[index] = chosen.amin(0) if len(chosen) else torch.inf
            model.feature_max[index] = chosen.amax(0) if len(chosen) else -torch.inf
        for index in range(len(model.elements)):
            chosen = features[types == index]
            if len(chosen):
                model.feature_shift[index] = chosen.mean(0)
                std = chosen.std(0, unbiased=False) if len(chosen) > 1 else torch.ones_like(chosen[0])
                # a nearly constant feature is not blown up: at most 1/SCALE_FLOOR times its largest magnitude
                floor = SCALE_FLOOR * chosen.abs().amax(0)
                model.feature_scale[index] = torch.where(std > 1e-8, std.maximum(floor), torch.ones_like(std))
        types_all = model.types(data.numbers)
        structure = np.repeat(np.arange(len(data)), data.natoms)
        counts = np.zeros((len(data), len(model.elements)))
        np.add.at(counts, (structure, types_all), 1.0)
        reference = np.linalg.lstsq(counts, data.energies, rcond=None)[0]
        model.reference_energy.copy_(torch.as_tensor(reference))
        closest = np.full((len(model.elements),) * 2, np.inf)
        for batch in batches:
            distance = torch.linalg.vector_norm(batch.vectors(batch.positions), dim=1).numpy()
            a, b = batch.types.numpy()[batch.nl.centres], batch.types.numpy()[batch.nl.neighbours]
            np.minimum.at(closest, (a, b), distance)
        model.min_distance.copy_(torch.as_tensor(np.where(np.isfinite(closest), closest, 0.0)))


def rmse(model: NNPotential, batches: list[_Batch]) -> dict[str, float]:
    """RMSE of the energy per atom (meV/atom), of the force components (meV/A) and, when every structure carries a
    stress, of the stress components (GPa)."""
    energy_errors, force_errors, stress_errors = [], [], []
    for batch in batches:
        energies, forces, stresses = batch.predict(model, create_graph=False)
        energy_errors.append(((energies.detach() - batch.energies) / batch.natoms).numpy())
        force_errors.append((forces.detach() - batch.forces).numpy().reshape(-1))
        if batch.stresses is not None:
            stress_errors.append((stresses.detach() - batch.stresses).numpy().reshape(-1))
    metrics = {
        'rmse_energy': 1000.0 * float(np.sqrt(np.mean(np.concatenate(energy_errors) ** 2))),
        'rmse_forces': 1000.0 * float(np.sqrt(np.mean(np.concatenate(force_errors) ** 2))),
    }
    if stress_errors and len(stress_errors) == len(batches):
        metrics['rmse_stress'] = float(np.sqrt(np.mean(np.concatenate(stress_errors) ** 2))) / units.GPa
    return metrics


def predictions(model: NNPotential, data: TrainingSet) -> dict[str, np.ndarray]:
    """Reference and predicted energies per atom and force components of a data set."""
    batch = _Batch(model, data)
    energies, forces, _ = batch.predict(model, create_graph=False)
    return {
        'energy_reference': data.energies / data.natoms,
        'energy_predicted': energies.detach().numpy() / data.natoms,
        'forces_reference': data.forces.reshape(-1),
        'forces_predicted': forces.detach().numpy().reshape(-1),
    }


def parity_plot(model: NNPotential, train_set: TrainingSet, test_set: TrainingSet, path: str | Path) -> Path:
    """PNG with predicted vs reference energies per atom and forces, train and test."""
    import matplotlib

    matplotlib.use('Agg')
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, 2, figsize=(10, 4.6))
    for label, data in (('train', train_set), ('test', test_set)):
        values = predictions(model, data)
        axes[0].scatter(values['energy_reference'], values['energy_predicted'], s=6, label=label)
        axes[1].scatter(values['forces_reference'], values['forces_predicted'], s=2, label=label)
    for axis, unit, name in ((axes[0], 'eV/atom', 'energy'), (axes[1], 'eV/A', 'force')):
        low, high = axis.get_xlim()
        axis.plot([low, high], [low, high], color='black', linewidth=0.8)
        axis.set_xlabel(f'reference {name} ({unit})')
        axis.set_ylabel(f'predicted {name} ({unit})')
        axis.legend()
    metrics = model.metrics
    if metrics:
        axes[0].set_title(f'RMSE test {metrics["rmse_energy_test"]:.2f} meV/atom')
        axes[1].set_title(f'RMSE test {metrics["rmse_forces_test"]:.1f} meV/A')
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
    return path
