"""Mini-batch training of a reference network with mlGeNN's Adam.

Weights, positions (populations touched by a spatial connection) and,
optionally, per-synapse delays are updated in place from the gradients of
:meth:`~ml_genn_spatial.reference.EventProp.run`, each group with its own
optimiser (so with its own learning rate).

Differences from mlGeNN's ``CompiledTrainingNetwork.train`` (deliberate):
mlGeNN applies the gradient of batch ``n`` at the end of batch ``n+1`` and
drops the last batch of every epoch (its backward pass would run in the
next epoch's first batch, whose ``Trial == 0`` disables the drive); here
every batch's gradient is applied right after it. The optimiser step index
counts applied updates from 0 (mlGeNN passes the global batch index).
"""
import numpy as np

from ..geometry import _check_int, as_rng, check_finite_scalar
from .network import Network


def _decay(value, name: str) -> float:
    value = check_finite_scalar(value, name, minimum=0.0)
    if value >= 1.0:
        raise ValueError(f"{name} must be in [0, 1), not {value}")
    return value


class Adam:
    """mlGeNN's Adam (``ml_genn/optimisers/adam.py``)::

        M = beta1 M + (1 - beta1) g
        V = beta2 V + (1 - beta2) g^2
        x -= alpha M / (1 - beta1^(step+1)) / (sqrt(V / (1 - beta2^(step+1)))
                                              + epsilon)

    Args:
        alpha:      Learning rate
        beta1:      Decay rate of the first moment
        beta2:      Decay rate of the second moment
        epsilon:    Added to the square root of the second moment
    """

    def __init__(self, alpha: float = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, epsilon: float = 1e-8):
        self.alpha = check_finite_scalar(alpha, "alpha", minimum=0.0)
        self.beta1 = _decay(beta1, "beta1")
        self.beta2 = _decay(beta2, "beta2")
        self.epsilon = check_finite_scalar(epsilon, "epsilon")
        if self.epsilon <= 0.0:
            raise ValueError(f"epsilon must be > 0, not {self.epsilon}")

    def init_state(self, shape):
        """Zero moments ``(M, V)`` for a variable of ``shape``."""
        return np.zeros(shape), np.zeros(shape)

    def update(self, variable: np.ndarray, gradient, state, step: int):
        """Apply one update in place.

        Args:
            variable:   Array to update (in place)
            gradient:   Its gradient (mlGeNN's ``Gradient``)
            state:      ``(M, V)`` from :meth:`init_state`, updated in place
            step:       Update index, from 0
        """
        if step < 0:
            raise ValueError(f"step must be >= 0, not {step}")
        m, v = state
        moment_scale_1 = 1.0 / (1.0 - (self.beta1 ** (step + 1)))
        moment_scale_2 = 1.0 / (1.0 - (self.beta2 ** (step + 1)))
        m *= self.beta1
        m += (1.0 - self.beta1) * gradient
        v *= self.beta2
        v += (1.0 - self.beta2) * gradient * gradient
        variable -= ((self.alpha * m * moment_scale_1)
                     / (np.sqrt(v * moment_scale_2) + self.epsilon))


def _project(bounds, name, positions):
    if isinstance(bounds, dict):
        bounds = bounds.get(name)
    if bounds is None:
        return positions
    if hasattr(bounds, "project"):
        return bounds.project(positions)
    if callable(bounds):
        return bounds(positions)
    raise TypeError("position_bounds must be a callable, an object with "
                    ".project(positions) (e.g. a Space) or a dict of them "
                    "by population name")


def _select(spikes, indices):
    if isinstance(spikes, dict):
        return {k: _select(v, indices) for k, v in spikes.items()}
    if isinstance(spikes, np.ndarray) and spikes.ndim == 3:
        return spikes[:, indices]
    return [spikes[i] for i in indices]


def _count(spikes):
    if isinstance(spikes, dict):
        sizes = {_count(v) for v in spikes.values()}
        if len(sizes) != 1:
            raise ValueError("every input needs the same number of examples")
        return sizes.pop()
    if isinstance(spikes, np.ndarray) and spikes.ndim == 3:
        return spikes.shape[1]
    return len(spikes)


def evaluate(network: Network, model, spikes, labels, batch_size: int):
    """Loss and accuracy of ``network`` over a data set (forward only).

    Args:
        network:    The reference :class:`Network`
        model:      An :class:`~ml_genn_spatial.reference.EventProp`
        spikes:     Per-example spike trains (see ``EventProp.forward``)
        labels:     Integer labels, one per example
        batch_size: Trials per forward pass (also the loss's ``num_batch``)

    Returns:
        ``(loss, accuracy)``: mean per-example loss and fraction correct
    """
    batch_size = _check_int(batch_size, "batch_size", 1)
    labels = np.asarray(labels)
    n = _count(spikes)
    total = 0.0
    correct = 0
    for lo in range(0, n, batch_size):
        idx = np.arange(lo, min(lo + batch_size, n))
        record = model.forward(network, _select(spikes, idx), labels[idx],
                               num_batch=batch_size)
        total += float(record.trial_loss.sum())
        correct += int(np.sum(record.predictions == labels[idx]))
    return total / n, correct / n


def train(network: Network, model, spikes, labels, num_epochs: int,
          batch_size: int, optimiser: Adam = None,
          position_optimiser: Adam = None, delay_optimiser: Adam = None,
          position_bounds=None, shuffle: bool = True, rng=None,
          callback=None):
    """Train ``network`` in place with EventProp gradients and Adam.

    Args:
        network:            The reference :class:`Network` (updated in place)
        model:              An :class:`~ml_genn_spatial.reference.EventProp`
        spikes:             Per-example spike trains (list of ``(times,
                            ids)``, a raster ``(T, n, n_in)`` or a dict of
                            those by input name)
        labels:             Integer labels, one per example
        num_epochs:         Passes over the data
        batch_size:         Trials per mini-batch (every batch, including a
                            short last one, is scaled with this size, as
                            mlGeNN's compiled batch size)
        optimiser:          Adam for the weights (default ``Adam(0.001)``)
        position_optimiser: Adam for the positions, or None to keep them
        delay_optimiser:    Adam for per-synapse delays (clamped to ``[0,
                            max_delay_steps]`` after each step, as mlGeNN),
                            or None to keep them
        position_bounds:    Projection applied to positions after each
                            step: a callable ``f(positions) -> positions``,
                            an object with ``.project(positions)`` (e.g. a
                            :class:`~ml_genn_spatial.Space`), or a dict of
                            those by population name
        shuffle:            Shuffle the examples every epoch
        rng:                Seed or ``np.random.Generator`` for shuffling
        callback:           Optional ``callback(epoch, batch, result)``
                            called after every update

    Returns:
        dict with per-epoch lists ``"loss"`` (mean per-example loss over the
        epoch's training batches, before each batch's update) and
        ``"accuracy"``
    """
    if optimiser is None:
        optimiser = Adam()
    for name, value in (("optimiser", optimiser),
                        ("position_optimiser", position_optimiser),
                        ("delay_optimiser", delay_optimiser)):
        if value is not None and not isinstance(value, Adam):
            raise ValueError(f"{name} must be a reference Adam, not "
                             f"{type(value).__name__}")
    num_epochs = _check_int(num_epochs, "num_epochs", 1)
    batch_size = _check_int(batch_size, "batch_size", 1)
    rng = as_rng(rng)
    labels = np.asarray(labels)
    n = _count(spikes)
    if len(labels) != n:
        raise ValueError(f"{n} examples but {len(labels)} labels")

    weight_state = {c.name: optimiser.init_state(c.shape)
                    for c in network.connections}
    spatial_pops = []
    for c in network.connections:
        if c.spatial is not None:
            for p in (c.source, c.target):
                if p not in spatial_pops:
                    spatial_pops.append(p)
    position_state = ({p.name: position_optimiser.init_state(
        p.positions.shape) for p in spatial_pops}
        if position_optimiser is not None else {})
    delay_conns = [c for c in network.connections if c.delay is not None]
    delay_state = ({c.name: delay_optimiser.init_state(c.shape)
                    for c in delay_conns}
                   if delay_optimiser is not None else {})

    history = {"loss": [], "accuracy": []}
    step = 0
    for epoch in range(num_epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        total = 0.0
        correct = 0
        for batch, lo in enumerate(range(0, n, batch_size)):
            idx = order[lo:lo + batch_size]
            result = model.run(network, _select(spikes, idx), labels[idx],
                               num_batch=batch_size)
            total += float(result.record.trial_loss.sum())
            correct += int(np.sum(result.record.predictions == labels[idx]))
            grads = result.gradients

            for c in network.connections:
                weight = c.weight.copy()
                optimiser.update(weight, grads.weight[c.name],
                                 weight_state[c.name], step)
                c.weight = weight
            for p in spatial_pops:
                if p.name in position_state and p.name in grads.position:
                    positions = p.positions.copy()
                    position_optimiser.update(positions,
                                              grads.position[p.name],
                                              position_state[p.name], step)
                    p.positions = _project(position_bounds, p.name,
                                           positions)
            for c in delay_conns:
                if c.name in delay_state:
                    delay = c.delay.copy()
                    delay_optimiser.update(delay, grads.delay[c.name],
                                           delay_state[c.name], step)
                    c.delay = np.clip(delay, 0.0, c.max_delay_steps)
            step += 1
            if callback is not None:
                callback(epoch, batch, result)
        history["loss"].append(total / n)
        history["accuracy"].append(correct / n)
    return history
