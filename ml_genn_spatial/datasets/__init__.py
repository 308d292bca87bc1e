"""Data sets used by the examples, as plain NumPy structures.

Nothing here imports GeNN or mlGeNN. Spike trains are lists with one
``(times [ms], ids)`` pair per example; the GeNN side turns each pair into
mlGeNN's input format with
``ml_genn.utils.data.preprocess_spikes(times, ids, num_inputs)``.
tonic and h5py, needed only by the SHD / SSC loaders, are imported when
they run.
"""
from .shd import (HEIDELBERG_NUM_CHANNELS, SHD_NUM_CLASSES, SHD_SPLITS,
                  SSC_NUM_CLASSES, SSC_SPLITS, bin_channels, blend_examples,
                  example_timesteps, latest_spike_time, load_shd, load_ssc,
                  max_spikes_per_example, shift_channels,
                  truncate_spike_trains)
from .yin_yang import (YIN_YANG_CLASS_NAMES, YIN_YANG_DT,
                       YIN_YANG_EXAMPLE_TIME, YIN_YANG_T_EARLY,
                       YIN_YANG_T_LATE, encode_latency,
                       spike_trains_from_dense, yin_yang, yin_yang_class,
                       yin_yang_splits)

__all__ = ["HEIDELBERG_NUM_CHANNELS", "SHD_NUM_CLASSES", "SHD_SPLITS",
           "SSC_NUM_CLASSES", "SSC_SPLITS", "bin_channels", "blend_examples",
           "example_timesteps", "latest_spike_time", "load_shd", "load_ssc",
           "max_spikes_per_example", "shift_channels",
           "truncate_spike_trains",
           "YIN_YANG_CLASS_NAMES", "YIN_YANG_DT", "YIN_YANG_EXAMPLE_TIME",
           "YIN_YANG_T_EARLY", "YIN_YANG_T_LATE", "encode_latency",
           "spike_trains_from_dense", "yin_yang", "yin_yang_class",
           "yin_yang_splits"]
