"""What the training scripts in ``examples/`` share, public and tested:

- :mod:`.options`: the command-line options of every script, each checked
  when parsed (argparse's one-line ``error:`` naming the option, exit
  status 2);
- :mod:`.folder`: the run folder (``results.json``, one checkpoint per
  epoch, ``--resume`` from the last good one, ``--overwrite``,
  ``hidden_class_counts.npy``) and :func:`exit_on_error`, which turns user
  errors and Ctrl-C into one line;
- :mod:`.layout`: ``layout.npz``, written and read here;
- :mod:`.schedule`: learning-rate schedules (warm-up, cosine decay);
- :mod:`.sweep`: the Yin-Yang sweep file (recipe, runs, medians and
  interquartile ranges) and each run's command;
- :mod:`.reference`: the Yin-Yang network on the NumPy reference model, for
  machines without GeNN;
- :mod:`.genn`: mlGeNN callbacks (progress bar that stays quiet in log
  files, learning-rate warm-up), the scripts' Adam (``--accumulate-batches``)
  and the spike format; the only module here that imports ml_genn,
  imported on first use.
"""
from importlib import import_module

from .folder import (CLASS_COUNTS_FILE, LAYOUT_FILE, RESULTS_FILE, RunError,
                     RunFolder, best_validation_epoch, exit_on_error,
                     hidden_class_counts, read_results, resume_command,
                     write_json)
from ..layout_io import ConnectionLayout, Layout, load_layout, write_layout
from .schedule import (COSINE_FINAL_FRACTION, LR_SCHEDULES,
                       learning_rate_scale)
from . import sweep
from .options import (BACKENDS, MAX_DIMENSIONS, SPACE_BOUNDS,
                      add_first_spike_loss_options, add_lr_schedule_options,
                      add_recycle_silent_option, add_single_spike_option,
                      add_spread_output_option, add_yin_yang_data_options,
                      check_input_window,
                      check_options, check_tau_mem, delay_learning_rate,
                      delay_mode, dimensions, fraction, lif_params,
                      make_parser, share,
                      max_delay_steps, non_negative_int, non_negative_real,
                      positive_int, positive_real, resolve_backend,
                      resolve_batch_size, spread_output_positions,
                      unit_interval)

_GENN_NAMES = {"ProgressBar": ".genn", "AdamWarmUp": ".genn",
               "adam": ".genn",
               "LearningRateSchedule": ".genn",
               "genn_spikes": ".genn", "round_learned_delays": ".genn",
               "train_epochs": ".genn", "test": ".genn"}


def __getattr__(name):
    if name in _GENN_NAMES:
        from .._genn import require_genn
        require_genn(f"ml_genn_spatial.runs.{name}")
        return getattr(import_module(_GENN_NAMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CLASS_COUNTS_FILE", "LAYOUT_FILE", "RESULTS_FILE", "RunError",
           "RunFolder", "best_validation_epoch", "exit_on_error",
           "hidden_class_counts", "read_results", "resume_command",
           "write_json",
           "ConnectionLayout", "Layout", "load_layout", "write_layout",
           "BACKENDS", "MAX_DIMENSIONS", "SPACE_BOUNDS",
           "add_first_spike_loss_options", "add_lr_schedule_options",
           "add_recycle_silent_option", "add_single_spike_option",
           "add_spread_output_option",
           "add_yin_yang_data_options", "check_input_window",
           "check_options", "check_tau_mem",
           "delay_learning_rate", "delay_mode",
           "dimensions", "fraction", "lif_params", "make_parser",
           "max_delay_steps",
           "non_negative_int", "non_negative_real", "positive_int",
           "positive_real", "resolve_backend", "resolve_batch_size", "share",
           "spread_output_positions", "unit_interval", "sweep",
           "COSINE_FINAL_FRACTION", "LR_SCHEDULES",
           "learning_rate_scale",
           *_GENN_NAMES]
