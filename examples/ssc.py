"""Train a spatial spiking network on the Spiking Speech Commands.

700 input channels -> 128 recurrent LIF hidden neurons -> 35 leaky
integrators, trained with EventProp on GeNN; validation accuracy on the
published validation split after every epoch. With --dimensions D > 0 the
input and hidden neurons have learnable positions in [-1, 1]^D and every
input->hidden and hidden->hidden delay is their distance; --dimensions inf
learns one delay per synapse instead (mlGeNN's delay learning) and 0
trains without delays.

    python3 examples/ssc.py --data DATA_FOLDER --output runs/ssc

DATA_FOLDER holds ssc_train.h5, ssc_valid.h5 and ssc_test.h5 (from
https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/). The run
writes results.json, checkpoints/ (one per epoch; --resume continues from
the last), layout.npz and hidden_class_counts.npy into --output.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ml_genn_spatial.datasets import SSC_NUM_CLASSES, load_ssc  # noqa: E402

from spatial_examples import heidelberg_main  # noqa: E402


def main(argv=None) -> dict:
    return heidelberg_main("ssc", __doc__.split("\n\n")[0], load_ssc,
                           SSC_NUM_CLASSES, has_validation=True, argv=argv)


if __name__ == "__main__":
    main()
