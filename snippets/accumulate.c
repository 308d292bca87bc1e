// In scatter timestep s = 1 ... D of a training batch, component s - 1 of
// this neuron's position gradient arrives through PositionGradientIn; it is
// added to a per-batch-lane array, so the neuron's variables are untouched
// in every other timestep
if (ScatterEnabled) {
    const int scatterStep = (int)round(t / dt);
    if (scatterStep >= 1 && scatterStep <= $dimensions) {
        PositionGradientAcc[(((batch * num_neurons) + id) * $dimensions) + scatterStep - 1] += PositionGradientIn;
    }
}
