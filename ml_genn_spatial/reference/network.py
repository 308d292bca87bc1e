"""Network description for the NumPy reference model (no GeNN).

The objects mirror the mlGeNN surface a user already knows: neuron models
with mlGeNN's parameter names (``v_thresh``, ``v_reset``, ``tau_mem``,
``tau_refrac``, readouts by their mlGeNN names), populations, and
connections with an exponential synapse (``tau_syn``) and a delay mode. They
hold the trainable values (weights, per-synapse delays, positions) as plain
NumPy arrays; :class:`~ml_genn_spatial.reference.EventProp` simulates them
and :func:`~ml_genn_spatial.reference.train` updates them in place.

Delay modes of a :class:`Connection`:

* ``delay=None``: no delay; a spike emitted at step ``s`` reaches the
  postsynaptic neuron at step ``s + 1`` (GeNN's ``addToPost``).
* per-synapse delays: an array (or scalar) ``d`` [timesteps], used as
  mlGeNN's learnable-delay model uses its ``d`` variable:
  ``clamp(round_half_away(d), 0, max_delay_steps)``; a spike emitted at step
  ``s`` arrives at step ``s + 1 + delay`` (``addToPostDelay``).
* :class:`SpatialDelay`: delays from the distances between the positions of
  the two populations, ``clamp(round_half_away(offset + scale * dist), 0,
  max_delay_steps)`` (:func:`ml_genn_spatial.geometry.delay_steps`).
"""
import numbers

import numpy as np

from ..geometry import (check_finite_scalar, check_max_delay_steps,
                        delay_steps, distance, round_half_away,
                        validate_positions)

_LIF_READOUTS = (None, "first_spike_time")
_LI_READOUTS = ("sum_var", "avg_var", "avg_var_exp_weight")


def _positive(value, name: str) -> float:
    value = check_finite_scalar(value, name)
    if value <= 0.0:
        raise ValueError(f"{name} must be > 0, not {value}")
    return value


class SpikeInput:
    """Input neurons that emit given spike trains (mlGeNN's ``SpikeInput``).

    A spike at time ``t`` [ms] is emitted in the first timestep ``s`` with
    ``s * dt >= t`` (float32, as GeNN compares ``t >= SpikeTimes[...]``), and
    a neuron emits at most one spike per timestep: a further spike due in
    the same step is emitted in the next one.
    """
    readout = None

    def __repr__(self):
        return "SpikeInput()"


class LeakyIntegrateFire:
    """Leaky integrate-and-fire neuron as mlGeNN's EventProp compiler
    builds it (``scale_i=True``, absolute reset, no integration while
    refractory): ``V = Alpha V + (1 - Alpha) Isyn``, spike when
    ``V >= v_thresh``, then ``V = v_reset``.

    Args:
        v_thresh:   Membrane voltage firing threshold
        v_reset:    Value ``V`` is set to after a spike (absolute reset).
                    EventProp's jump condition uses ``v_thresh`` only, so its
                    gradients are exact only for ``v_reset = 0``.
        tau_mem:    Time constant of membrane voltage [ms]
        tau_refrac: None, or the refractory period [ms] after a spike, in
                    which ``V`` stays at ``v_reset`` and no spike fires
                    (mlGeNN's ``integrate_during_refrac=False``). The
                    adjoint ignores it, as mlGeNN's does, which is exact
                    when it outlasts the trial: every neuron then spikes at
                    most once per trial (the SpSNN paper's neurons)
        readout:    None (hidden) or ``"first_spike_time"`` (output with
                    mlGeNN's time-to-first-spike cross-entropy)
    """

    def __init__(self, v_thresh: float = 1.0, v_reset: float = 0.0,
                 tau_mem: float = 20.0, tau_refrac=None, readout=None):
        if readout not in _LIF_READOUTS:
            raise ValueError(f"LeakyIntegrateFire readout must be one of "
                             f"{_LIF_READOUTS}, not {readout!r}")
        self.v_thresh = check_finite_scalar(v_thresh, "v_thresh")
        self.v_reset = check_finite_scalar(v_reset, "v_reset")
        if self.v_thresh <= 0.0:
            raise ValueError(f"v_thresh must be > 0, not {self.v_thresh}")
        self.tau_mem = _positive(tau_mem, "tau_mem")
        self.tau_refrac = (None if tau_refrac is None
                           else _positive(tau_refrac, "tau_refrac"))
        self.readout = readout

    def __repr__(self):
        return (f"LeakyIntegrateFire(v_thresh={self.v_thresh}, "
                f"v_reset={self.v_reset}, tau_mem={self.tau_mem}, "
                f"tau_refrac={self.tau_refrac}, "
                f"readout={self.readout!r})")


class LeakyIntegrate:
    """Leaky integrator output neuron as mlGeNN's EventProp compiler builds
    it (``scale_i=True``): ``V = Alpha V + (1 - Alpha) Isyn + Bias``.

    Args:
        tau_mem:    Time constant of membrane voltage [ms]
        bias:       Constant bias added each timestep (not trained)
        readout:    ``"sum_var"``, ``"avg_var"`` or ``"avg_var_exp_weight"``
                    (softmax cross-entropy on the read-out value)
    """

    def __init__(self, tau_mem: float = 20.0, bias: float = 0.0,
                 readout: str = "sum_var"):
        if readout not in _LI_READOUTS:
            raise ValueError(f"LeakyIntegrate readout must be one of "
                             f"{_LI_READOUTS}, not {readout!r}")
        self.tau_mem = _positive(tau_mem, "tau_mem")
        self.bias = check_finite_scalar(bias, "bias")
        self.readout = readout

    def __repr__(self):
        return (f"LeakyIntegrate(tau_mem={self.tau_mem}, bias={self.bias}, "
                f"readout={self.readout!r})")


class Population:
    """A group of neurons of one model, optionally placed in a space.

    Args:
        neuron:     :class:`SpikeInput`, :class:`LeakyIntegrateFire` or
                    :class:`LeakyIntegrate`
        size:       Number of neurons
        name:       Unique name (keys of gradients and results)
        positions:  Positions of the neurons, shape ``(size, D)`` [space
                    units], needed by spatial connections; None otherwise
    """

    def __init__(self, neuron, size: int, name: str, positions=None):
        if not isinstance(neuron, (SpikeInput, LeakyIntegrateFire,
                                   LeakyIntegrate)):
            raise TypeError(f"neuron must be SpikeInput, LeakyIntegrateFire "
                            f"or LeakyIntegrate, not {type(neuron).__name__}")
        if (isinstance(size, (bool, np.bool_))
                or not isinstance(size, numbers.Integral) or size < 1):
            raise ValueError(f"size must be an int >= 1, not {size!r}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, not {name!r}")
        self.neuron = neuron
        self.size = int(size)
        self.name = name
        self.positions = positions

    @property
    def positions(self):
        """Neuron positions, shape ``(size, D)`` [space units], or None."""
        return self._positions

    @positions.setter
    def positions(self, positions):
        self._positions = (None if positions is None
                           else validate_positions(positions, n=self.size,
                                                   name=f"{self.name} "
                                                   "positions"))

    @property
    def is_input(self) -> bool:
        return isinstance(self.neuron, SpikeInput)

    def __repr__(self):
        return f"Population({self.neuron!r}, {self.size}, {self.name!r})"


class SpatialDelay:
    """Delays of a connection derived from neuron positions:
    ``clamp(round_half_away(offset + scale * dist_ij), 0, max_delay_steps)``
    with ``dist_ij = sqrt(|x_i - x_j|^2 + eps^2)``.

    Args:
        scale:              Delay per unit distance [timesteps / space unit]
        max_delay_steps:    Largest delay [timesteps]; sets the delay buffer
        offset:             Delay at zero distance [timesteps]
        eps:                Softening length of the distance [space units]
    """

    def __init__(self, scale: float, max_delay_steps: int,
                 offset: float = 0.0, eps: float = 0.0):
        # A negative scale or offset would clamp delays at 0 and silently
        # stop position learning
        self.scale = check_finite_scalar(scale, "scale", minimum=0.0)
        self.max_delay_steps = check_max_delay_steps(max_delay_steps)
        self.offset = check_finite_scalar(offset, "offset", minimum=0.0)
        self.eps = check_finite_scalar(eps, "eps", minimum=0.0)

    def __repr__(self):
        return (f"SpatialDelay(scale={self.scale}, max_delay_steps="
                f"{self.max_delay_steps}, offset={self.offset}, "
                f"eps={self.eps})")


class Connection:
    """Dense (or masked sparse) connection with an exponential synapse.

    Args:
        source:         Presynaptic :class:`Population`
        target:         Postsynaptic :class:`Population` (not an input)
        weight:         Weights, shape ``(source.size, target.size)``
        tau_syn:        Synaptic time constant [ms] (mlGeNN's
                        ``Exponential(tau)``); every connection into one
                        population must share it, as in mlGeNN
        delay:          None (no delay), per-synapse delays [timesteps]
                        (scalar or array of shape ``(source.size,
                        target.size)``, may be fractional as mlGeNN's
                        learnable ``d``) or a :class:`SpatialDelay`
        max_delay_steps: Largest delay [timesteps] of per-synapse delays;
                        default: the largest rounded initial delay. Ignored
                        for a :class:`SpatialDelay` (which carries its own).
        mask:           Boolean array ``(source.size, target.size)``; False
                        entries are absent synapses (weight 0, no gradient)
        wiring_cost:    Strength lambda of the wiring cost
                        ``lambda * sum_ij |w_ij| dist_ij`` (spatial
                        connections only); its gradient is added to the
                        weight and position gradients
        name:           Unique name (default ``"source_target"``)
    """

    def __init__(self, source: Population, target: Population, weight,
                 tau_syn: float = 5.0, delay=None, max_delay_steps=None,
                 mask=None, wiring_cost: float = 0.0, name: str = None):
        if not isinstance(source, Population) or not isinstance(
                target, Population):
            raise TypeError("source and target must be Population objects")
        if target.is_input:
            raise ValueError(f"connection into input population "
                             f"{target.name!r}: inputs have no synapses")
        self.source = source
        self.target = target
        self.name = name if name is not None else f"{source.name}_" \
                                                  f"{target.name}"
        self.tau_syn = _positive(tau_syn, "tau_syn")
        self.shape = (source.size, target.size)
        if mask is None:
            self.mask = None
        else:
            self.mask = np.asarray(mask)
            if self.mask.shape != self.shape or self.mask.dtype != bool:
                raise ValueError(f"mask of {self.name} must be a bool array "
                                 f"of shape {self.shape}")
        self.weight = weight
        self.wiring_cost = check_finite_scalar(wiring_cost, "wiring_cost",
                                               minimum=0.0)

        self.spatial = None
        self.delay = None
        if isinstance(delay, SpatialDelay):
            for pop in (source, target):
                if pop.positions is None:
                    raise ValueError(f"spatial connection {self.name} needs "
                                     f"positions on population {pop.name!r}")
            if source.positions.shape[1] != target.positions.shape[1]:
                raise ValueError(f"spatial connection {self.name}: source and "
                                 f"target positions must share one space "
                                 f"(same D)")
            self.spatial = delay
            self.max_delay_steps = delay.max_delay_steps
        elif delay is not None:
            d = np.broadcast_to(np.asarray(delay, dtype=np.float64),
                                self.shape).copy()
            if not np.all(np.isfinite(d)):
                raise ValueError(f"delays of {self.name} must be finite")
            if max_delay_steps is None:
                max_delay_steps = int(max(0.0, round_half_away(d.max())))
            self.max_delay_steps = check_max_delay_steps(max_delay_steps)
            self.delay = d
        else:
            self.max_delay_steps = 0
        if self.wiring_cost > 0.0 and self.spatial is None:
            raise ValueError(f"wiring_cost on {self.name} needs a "
                             f"SpatialDelay (positions)")

    @property
    def weight(self) -> np.ndarray:
        """Weights, shape ``(source.size, target.size)``; zero where masked."""
        return self._weight

    @weight.setter
    def weight(self, weight):
        weight = np.array(weight, dtype=np.float64)
        if weight.shape != self.shape:
            raise ValueError(f"weight of {self.name} must have shape "
                             f"{self.shape}, not {weight.shape}")
        if not np.all(np.isfinite(weight)):
            raise ValueError(f"weight of {self.name} must be finite")
        if self.mask is not None:
            weight[~self.mask] = 0.0
        self._weight = weight

    @property
    def has_delay(self) -> bool:
        """True for per-synapse and spatial delays (a delay buffer)."""
        return self.spatial is not None or self.delay is not None

    def distance(self) -> np.ndarray:
        """Distances ``(source.size, target.size)`` [space units] of a
        spatial connection."""
        if self.spatial is None:
            raise ValueError(f"{self.name} is not a spatial connection")
        return distance(self.source.positions, self.target.positions,
                        self.spatial.eps)

    def delay_steps(self) -> np.ndarray:
        """Integer delays [timesteps] as the simulation uses them, shape
        ``(source.size, target.size)``; None without a delay."""
        if self.spatial is not None:
            return delay_steps(self.distance(), self.spatial.scale,
                               self.spatial.offset,
                               self.spatial.max_delay_steps)
        if self.delay is not None:
            return np.clip(round_half_away(self.delay), 0,
                           self.max_delay_steps).astype(np.int64)
        return None

    def __repr__(self):
        return f"Connection({self.source.name!r} -> {self.target.name!r})"


class Network:
    """Populations and the connections between them.

    Exactly one population must have a readout (the output). Every
    connection into one population must share ``tau_syn`` (mlGeNN's
    EventProp compiler has the same restriction).

    Args:
        populations:    Sequence of :class:`Population`
        connections:    Sequence of :class:`Connection`
    """

    def __init__(self, populations, connections):
        self.populations = list(populations)
        self.connections = list(connections)
        names = [p.name for p in self.populations]
        if len(set(names)) != len(names):
            raise ValueError(f"population names must be unique: {names}")
        conn_names = [c.name for c in self.connections]
        if len(set(conn_names)) != len(conn_names):
            raise ValueError(f"connection names must be unique: "
                             f"{conn_names}")
        for c in self.connections:
            if (c.source not in self.populations
                    or c.target not in self.populations):
                raise ValueError(f"connection {c.name} joins a population "
                                 f"that is not in the network")
        outputs = [p for p in self.populations
                   if not p.is_input and p.neuron.readout is not None]
        if len(outputs) != 1:
            raise ValueError(f"the network needs exactly one population with "
                             f"a readout, found {len(outputs)}")
        self.output = outputs[0]
        if not isinstance(self.output.neuron, (LeakyIntegrate,
                                               LeakyIntegrateFire)):
            raise ValueError("the output must be LeakyIntegrate or "
                             "LeakyIntegrateFire")
        for c in self.connections:
            if c.source is self.output:
                raise NotImplementedError(
                    f"connection {c.name} leaves the output population; the "
                    f"reference model supports no outgoing connections from "
                    f"the output")
        self.tau_syn = {}
        for p in self.populations:
            incoming = [c for c in self.connections if c.target is p]
            if p.is_input:
                continue
            if not incoming:
                raise ValueError(f"population {p.name!r} has no incoming "
                                 f"connection")
            taus = {c.tau_syn for c in incoming}
            if len(taus) != 1:
                raise NotImplementedError(
                    f"connections into {p.name!r} have different tau_syn "
                    f"{sorted(taus)}; EventProp needs one synaptic time "
                    f"constant per population")
            self.tau_syn[p.name] = taus.pop()
            if (isinstance(p.neuron, (LeakyIntegrateFire, LeakyIntegrate))
                    and p.neuron.tau_mem == self.tau_syn[p.name]):
                raise ValueError(f"tau_mem == tau_syn in {p.name!r}: "
                                 f"EventProp's A = tau_mem / (tau_mem - "
                                 f"tau_syn) is undefined")
        if not any(p.is_input for p in self.populations):
            raise ValueError("the network needs an input population")

    def population(self, name: str) -> Population:
        """The population called ``name``."""
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(f"no population {name!r}")

    def connection(self, name: str) -> Connection:
        """The connection called ``name``."""
        for c in self.connections:
            if c.name == name:
                return c
        raise KeyError(f"no connection {name!r}")

    @property
    def inputs(self):
        """Input populations, in order."""
        return [p for p in self.populations if p.is_input]
