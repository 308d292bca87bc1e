"""Learning-rate schedules of the training scripts, as pure functions of
the batch number (no GeNN import); :class:`~.genn.LearningRateSchedule`
applies one to mlGeNN's optimisers, the reference model's loop to its
own."""
import math

#: ``--lr-schedule`` values
LR_SCHEDULES = ("constant", "cosine")

#: The cosine schedule ends at this fraction of the peak learning rate
#: (arXiv 2512.10011's Yin-Yang code: optax's warm-up-cosine to a tenth)
COSINE_FINAL_FRACTION = 0.1


def learning_rate_scale(schedule: str, step: int, total_steps: int,
                        warm_up_steps: int = 0,
                        final_fraction: float = COSINE_FINAL_FRACTION
                        ) -> float:
    """Learning rate of batch ``step`` over the peak learning rate.

    ``constant``: 1 after the warm-up. ``cosine``: half a cosine from 1
    at the end of the warm-up down to ``final_fraction`` at
    ``total_steps``, then held. The warm-up rises linearly,
    ``(step + 1) / warm_up_steps``.

    Args:
        schedule:       one of :data:`LR_SCHEDULES`
        step:           batch number, from 0 (counted over all epochs)
        total_steps:    batches of the whole run
        warm_up_steps:  batches of linear warm-up (0: none)
        final_fraction: last learning rate over the peak, in [0, 1]

    Raises:
        ValueError: on an unknown schedule, a negative step count or a
            final fraction outside [0, 1]
    """
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"schedule must be one of {LR_SCHEDULES}, not "
                         f"{schedule!r}")
    if step < 0 or total_steps < 1 or warm_up_steps < 0:
        raise ValueError("need step >= 0, total_steps >= 1 and "
                         "warm_up_steps >= 0")
    if not 0.0 <= final_fraction <= 1.0:
        raise ValueError(f"final_fraction must be in [0, 1], not "
                         f"{final_fraction}")
    if step < warm_up_steps:
        return (step + 1) / warm_up_steps
    if schedule == "constant":
        return 1.0
    decay_steps = max(1, total_steps - warm_up_steps)
    progress = min(1.0, (step - warm_up_steps) / decay_steps)
    return final_fraction + (1.0 - final_fraction) * 0.5 * (
        1.0 + math.cos(math.pi * progress))
