"""The Yin-Yang network of ``examples/yin_yang.py`` on the NumPy reference
model (:mod:`ml_genn_spatial.reference`), for machines without GeNN: same
network, options and run folder (checkpoints in mlGeNN's Numpy serialiser
layout, so GeNN can load them). No DEEP R. The reference applies every
batch's gradient at once where mlGeNN applies it one batch later.
"""
import os
from time import perf_counter

import numpy as np

from .. import reference as ref
from ..datasets import YIN_YANG_EXAMPLE_TIME
from ..geometry import delay_steps, distance
from ..space import Space
from .folder import RunFolder
from ..layout_io import write_layout
from .schedule import learning_rate_scale
from .options import (SPACE_BOUNDS, delay_learning_rate, delay_mode,
                      lif_params, max_delay_steps, spread_output_positions)

#: Batch size when none is given: the reference simulates a batch's trials
#: at once, so small batches trade speed for updates
REFERENCE_BATCH_SIZE = 8

#: (source, target, weight mean, weight sd) of mlGeNN's Yin-Yang example
#: (the recurrent connection is ours)
_CONNECTIONS = (("input", "hidden", 1.5, 0.78), ("hidden", "hidden", 0.0, 0.1),
                ("hidden", "output", 0.93, 0.1))


def build_yin_yang(args, num_inputs: int, num_classes: int):
    """The reference network of the options: input -> hidden (-> hidden)
    -> output, every connection delayed as ``--dimensions`` says.

    Returns:
        ``(network, {name: synapse indices (pre_ind, post_ind) or None})``
    """
    mode = delay_mode(args.dimensions)
    steps = max_delay_steps(args) if mode != "none" else None
    rng = np.random.default_rng(args.seed)
    space = (Space(args.dimensions, bounds=SPACE_BOUNDS, rng=rng)
             if mode == "spatial" else None)
    lif = lif_params(args, YIN_YANG_EXAMPLE_TIME)
    sizes = {"input": num_inputs, "hidden": args.hidden,
             "output": num_classes}
    neurons = {"input": ref.SpikeInput(), "hidden": ref.LeakyIntegrateFire(
        **lif), "output": ref.LeakyIntegrateFire(
        **lif, readout="first_spike_time")}
    pops = {name: ref.Population(
        neurons[name], size, name, positions=(
            space.initial_positions(size) if space else None))
        for name, size in sizes.items()}
    spread = spread_output_positions(args, num_classes)
    if spread is not None:
        pops["output"].positions = spread
    conns, synapses = [], {}
    for source, target, mean, sd in _CONNECTIONS:
        if source == target and not args.recurrent:
            continue
        name = f"{source}_{target}"
        shape = (sizes[source], sizes[target])
        thinned = args.sparsity > 0.0 and (
            source == target or args.sparse_connections == "all")
        keep = 1.0 - args.sparsity if thinned else 1.0
        # Kept weights scaled so a neuron's expected input stays the dense
        # draw's (mean / keep, spread / sqrt(keep))
        weight = rng.normal(mean / keep, sd / np.sqrt(keep), shape)
        mask = None
        if thinned:
            mask = rng.random(shape) < keep
            if source == target:
                np.fill_diagonal(mask, False)
            weight = np.where(mask, weight, 0.0)
        synapses[name] = np.nonzero(mask) if thinned else None
        delay = None
        if mode == "spatial":
            delay = ref.SpatialDelay(steps / (np.sqrt(args.dimensions) * (
                SPACE_BOUNDS[1] - SPACE_BOUNDS[0])), steps)
        elif mode == "per_synapse":
            delay = rng.uniform(0.0, steps, shape) * (
                1.0 if mask is None else mask)
        conns.append(ref.Connection(
            pops[source], pops[target], weight, tau_syn=5.0, delay=delay,
            max_delay_steps=steps if mode == "per_synapse" else None,
            mask=mask, wiring_cost=args.wiring_cost if space else 0.0,
            name=name))
    return ref.Network(list(pops.values()), conns), synapses, space


def _values(conn, synapses, dense):
    return dense if synapses is None else dense[synapses]


def train_yin_yang(args, run: RunFolder, data: dict, num_classes: int,
                   start_epoch: int) -> dict:
    """Train, checkpoint, test and export the Yin-Yang network of the
    options on the reference model.

    Args:
        args:       the script's options
        run:        the run folder, started
        data:       ``{"train", "validation" (or None), "test"}`` splits of
                    ``(spike trains, labels)``
        num_classes: output classes
        start_epoch: first epoch to train (after a resume)

    Returns:
        the results record
    """
    trains, labels = data["train"]
    network, synapses, space = build_yin_yang(args, 4, num_classes)
    # Its batches are one step each: --accumulate-batches widens them
    batch_size = ((args.batch_size or REFERENCE_BATCH_SIZE)
                  * getattr(args, "accumulate_batches", 1))
    mode = delay_mode(args.dimensions)
    model = ref.EventProp(int(np.ceil(YIN_YANG_EXAMPLE_TIME / args.dt)),
                          dt=args.dt,
                          softmax_temperature=args.softmax_temperature,
                          ttfs_alpha=args.ttfs_alpha)
    folder = run.checkpoint_dir

    def save(epoch):
        for c in network.connections:
            np.save(os.path.join(folder, f"{epoch}-{c.name}-g.npy"),
                    _values(c, synapses[c.name], c.weight))
            if c.delay is not None:
                np.save(os.path.join(folder, f"{epoch}-{c.name}-d.npy"),
                        _values(c, synapses[c.name], c.delay))
        for p in network.populations:
            for k in range(0 if p.positions is None else
                           p.positions.shape[1]):
                np.save(os.path.join(folder, f"{epoch}-{p.name}-X{k}.npy"),
                        p.positions[:, k])

    def load(epoch):
        def read(name):
            return np.load(os.path.join(folder, f"{epoch}-{name}.npy"))
        for c in network.connections:
            for var, attr in (("g", "weight"), ("d", "delay")):
                if var == "g" or c.delay is not None:
                    values = read(f"{c.name}-{var}")
                    if synapses[c.name] is not None:
                        dense = np.zeros(c.shape)
                        dense[synapses[c.name]] = values
                        values = dense
                    setattr(c, attr, values)
        for p in network.populations:
            if p.positions is not None:
                p.positions = np.stack([read(f"{p.name}-X{k}") for k in
                                        range(p.positions.shape[1])], 1)

    if start_epoch > 0:
        load(start_epoch - 1)
    run.results.update(batch_size=batch_size,
                       example_timesteps=model.example_timesteps)
    num_batches = -(-len(labels) // batch_size)
    clock, tally = [perf_counter()], [0, 0]
    optimisers = [ref.Adam(rate) for rate in (
        args.lr, args.position_lr if space else None,
        delay_learning_rate(args) if mode == "per_synapse" else None)
        if rate is not None]
    peaks = [o.alpha for o in optimisers]

    def schedule(step):
        scale = learning_rate_scale(
            args.lr_schedule, step,
            args.epochs * num_batches, args.lr_warm_up, args.lr_final)
        for o, peak in zip(optimisers, peaks):
            o.alpha = peak * scale

    schedule(start_epoch * num_batches)

    def end_of_batch(epoch, batch, result):
        schedule((epoch + start_epoch) * num_batches + batch + 1)
        tally[0] += int(np.sum(result.record.predictions
                               == result.record.labels))
        tally[1] += len(result.record.labels)
        if batch != num_batches - 1:
            return
        epoch += start_epoch
        save(epoch)
        values = {"train_accuracy": tally[0] / tally[1],
                  "time_s": perf_counter() - clock[0]}
        if data.get("validation") is not None:
            values["validation_accuracy"] = ref.evaluate(
                network, model, *data["validation"], batch_size)[1]
        run.record_epoch(epoch, checkpointed=True, **values)
        print(run.epoch_line(epoch), flush=True)
        tally[:], clock[0] = [0, 0], perf_counter()

    if start_epoch < args.epochs:
        print(f"Training the NumPy reference model, batch size {batch_size},"
              f" {model.example_timesteps} timesteps of {args.dt} ms")
        ref.train(network, model, trains, labels,
                  num_epochs=args.epochs - start_epoch,
                  batch_size=batch_size, optimiser=optimisers[0],
                  position_optimiser=optimisers[1] if space else None,
                  delay_optimiser=(optimisers[1] if mode == "per_synapse"
                                   else None),
                  position_bounds=space, rng=args.seed + start_epoch,
                  callback=end_of_batch)

    # Test the best validation epoch's checkpoint, counting hidden spikes
    # per class
    load(run.choose_test_epoch())
    test_trains, test_labels = data["test"]
    start, correct, counts = perf_counter(), 0, []
    for lo in range(0, len(test_labels), batch_size):
        batch_labels = test_labels[lo:lo + batch_size]
        record = model.forward(network, test_trains[lo:lo + batch_size],
                               batch_labels, num_batch=batch_size)
        correct += int(np.sum(record.predictions == batch_labels))
        counts.append(record.spike_count["hidden"])
    run.save_class_counts(np.concatenate(counts), test_labels, num_classes)
    if space is not None:
        write_layout(run.layout_path, *layout(network, synapses))
    return run.finish(test_accuracy=correct / len(test_labels),
                      test_time_s=perf_counter() - start)


def layout(network, synapses) -> tuple:
    """``(positions, connections)`` of a spatial reference network for
    :func:`~ml_genn_spatial.layout_io.write_layout`."""
    positions = {p.name: p.positions for p in network.populations
                 if p.positions is not None}
    connections = {}
    for c in network.connections:
        pre_ind, post_ind = (synapses[c.name] if synapses[c.name] is not None
                             else (None, None))
        dist = distance(c.source.positions, c.target.positions,
                        eps=c.spatial.eps, pre_ind=pre_ind,
                        post_ind=post_ind)
        connections[c.name] = {
            "source": c.source.name, "target": c.target.name,
            "distance": dist, "weight": _values(c, synapses[c.name],
                                                c.weight),
            "delay": delay_steps(dist, c.spatial.scale, c.spatial.offset,
                                 c.spatial.max_delay_steps),
            "pre_ind": pre_ind, "post_ind": post_ind, "eps": c.spatial.eps,
            "scale": c.spatial.scale, "offset": c.spatial.offset,
            "max_delay_steps": c.spatial.max_delay_steps}
    return positions, connections
