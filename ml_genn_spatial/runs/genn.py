"""mlGeNN callbacks and helpers of the training scripts (imports ml_genn)."""
import sys
from time import perf_counter

import numpy as np
from ml_genn.callbacks import BatchProgressBar, Callback
from ml_genn.utils.data import preprocess_spikes

from .schedule import COSINE_FINAL_FRACTION, learning_rate_scale


class ProgressBar(BatchProgressBar):
    """mlGeNN's batch progress bar on a terminal; silent when the output
    is redirected (a bar redrawn every batch makes a log file huge).

    Args:
        stream: where the bar goes (default ``sys.stderr``)
    """

    def __init__(self, stream=None):
        super().__init__()
        self._stream = stream

    def _init_prog_bar(self):
        if self._progress_bar is None:
            from tqdm.auto import tqdm
            stream = self._stream or sys.stderr
            self._progress_bar = tqdm(
                total=self._num_batches, file=stream,
                disable=not stream.isatty(), mininterval=0.1)
        self._progress_bar.reset()


class LearningRateSchedule(Callback):
    """Set every optimiser's learning rate (weights, delays and positions
    alike) before each batch to its own value times
    :func:`~.schedule.learning_rate_scale` of the batch number. Batches
    are counted from the run's first epoch (mlGeNN numbers epochs from
    ``train``'s ``start_epoch``), so a resumed run carries on where the
    interrupted one was.

    Args:
        schedule:       ``"constant"`` or ``"cosine"``
        total_steps:    batches of the whole run
        warm_up_steps:  batches of linear warm-up
        final_fraction: ``"cosine"``: last learning rate over the peak
    """

    def __init__(self, schedule: str, total_steps: int,
                 warm_up_steps: int = 0,
                 final_fraction: float = COSINE_FINAL_FRACTION):
        learning_rate_scale(schedule, 0, total_steps, warm_up_steps,
                            final_fraction)
        self.schedule, self.total_steps = schedule, total_steps
        self.warm_up_steps = warm_up_steps
        self.final_fraction = final_fraction
        self._peak = {}
        self._epoch = 0

    def scale(self, step: int) -> float:
        """Learning rate of batch ``step`` over the peak one."""
        return learning_rate_scale(self.schedule, step, self.total_steps,
                                   self.warm_up_steps, self.final_fraction)

    def set_params(self, compiled_network, num_batches=None, **kwargs):
        self._optimisers = [o for o, _ in compiled_network.optimisers]
        self._num_batches = num_batches or 0
        for o in self._optimisers:
            self._peak.setdefault(id(o), o.alpha)

    def on_epoch_begin(self, epoch):
        self._epoch = epoch

    def on_batch_begin(self, batch):
        scale = self.scale(self._epoch * self._num_batches + batch)
        for o in self._optimisers:
            o.alpha = self._peak[id(o)] * scale


class AdamWarmUp(LearningRateSchedule):
    """Warm every optimiser's learning rate up geometrically, by
    ``factor`` per batch, from ``start_fraction`` of its own value to its
    value, then hold it (2501.07331: 1e-5 to 1e-3, x1.05 per batch).

    Args:
        start_fraction: first learning rate over the final one, in (0, 1]
        factor:         growth per batch, > 1
    """

    def __init__(self, start_fraction: float = 0.01, factor: float = 1.05):
        if not 0.0 < start_fraction <= 1.0 or not factor > 1.0:
            raise ValueError("need 0 < start_fraction <= 1 and factor > 1")
        super().__init__("constant", 1)
        self.start_fraction, self.factor = start_fraction, factor

    def scale(self, step: int) -> float:
        return min(1.0, self.start_fraction * self.factor ** step)


def adam(args, alpha: float):
    """mlGeNN's Adam at learning rate ``alpha``, stepping once every
    ``--accumulate-batches`` batches with their mean gradient
    (:class:`~ml_genn_spatial.optimisers.GradientAccumulation`)."""
    from ml_genn.optimisers import Adam

    from ..optimisers import GradientAccumulation
    batches = getattr(args, "accumulate_batches", 1)
    return (Adam(alpha) if batches == 1
            else GradientAccumulation(Adam(alpha), batches))


def genn_spikes(trains, num_inputs: int) -> list:
    """mlGeNN's input format of ``(times [ms], ids)`` spike trains."""
    return [preprocess_spikes(np.asarray(t, dtype=np.float64),
                              np.asarray(i, dtype=np.int64), num_inputs)
            for t, i in trains]


def round_learned_delays(connections, max_delay_steps: int) -> None:
    """Round learned per-synapse delays (real numbers that training rounds
    on use, half away from zero) for inference, whose delays are integers
    [timesteps]."""
    for conn in connections:
        delay = np.asarray(conn.connectivity.delay, dtype=np.float64)
        conn.connectivity.delay = np.clip(np.floor(delay + 0.5), 0,
                                          max_delay_steps)


def train_epochs(compiled, run, serialiser, x: dict, y: dict, output,
                 start_epoch: int, num_epochs: int, validation=None,
                 callbacks=(), sparse_connections=(), augment=None) -> None:
    """Train a compiled network epoch by epoch, checkpointing each epoch
    and recording it in the run folder (one line printed per epoch).

    Args:
        compiled:   an mlGeNN compiled training network, open
        run:        the :class:`~ml_genn_spatial.runs.RunFolder`
        serialiser: where checkpoints go (``Numpy(run.checkpoint_dir)``)
        x, y:       training inputs and labels (mlGeNN dicts by population)
        output:     the output population (its metric is the accuracy)
        start_epoch: first epoch; training ends before ``num_epochs``
        validation: ``(x, y)`` tested after every epoch, or None
        callbacks:  further training callbacks (their data, e.g.
                    ``connectivity_<name>``, goes into results.json)
        sparse_connections: whose synapses are checkpointed too (DEEP R
                    rewires them, FixedProbability draws them)
        augment:    optional ``augment(epoch) -> (x, y)`` giving each
                    epoch's training data
    """
    labels = next(iter(y.values()))
    num_batches = -(-len(labels) // compiled.genn_model.batch_size)
    kwargs = {}
    if validation is not None:
        kwargs = dict(validation_x=validation[0], validation_y=validation[1],
                      validation_callbacks=[ProgressBar()])
    for epoch in range(start_epoch, num_epochs):
        clock = perf_counter()
        if augment is not None:
            x, y = augment(epoch)
        metrics, *rest = compiled.train(
            x, y, num_epochs=1, start_epoch=epoch, shuffle=True,
            callbacks=[ProgressBar(), *callbacks], **kwargs)
        compiled.save((epoch,), serialiser)
        if sparse_connections:
            compiled.save_connectivity((epoch,), serialiser)
        run.record_structure(rest[1] if validation else rest[0], num_batches)
        run.record_epoch(
            epoch, checkpointed=True, time_s=perf_counter() - clock,
            train_accuracy=float(metrics[output].result),
            validation_accuracy=(float(rest[0][output].result)
                                 if validation else None))
        print(run.epoch_line(epoch), flush=True)


def test(compiled, run, x: dict, y: dict, output, hidden,
         num_classes: int) -> dict:
    """Evaluate a compiled inference network, write the hidden spike
    counts per class and finish the run.

    Returns:
        the results record
    """
    from ml_genn.callbacks import SpikeRecorder

    labels = np.asarray(next(iter(y.values())))
    clock = perf_counter()
    metrics, recorded = compiled.evaluate(x, y, callbacks=[
        ProgressBar(), SpikeRecorder(hidden, key="counts",
                                     record_counts=True)])
    run.save_class_counts(np.asarray(recorded["counts"])[:len(labels)],
                          labels, num_classes)
    return run.finish(test_accuracy=float(metrics[output].result),
                      test_time_s=perf_counter() - clock)
