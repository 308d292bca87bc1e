// In scatter timestep s = 1 ... D, component s - 1 of this neuron's
// position gradient arrives through PositionGradientIn (in batch lane 0,
// the only lane whose mirrors emit); it is added to an array, so the
// neuron's variables are untouched in every other timestep
const int scatterStep = (int)round(t / dt);
if (batch == 0 && scatterStep >= 1 && scatterStep <= $dimensions) {
    PositionGradientAcc[(id * $dimensions) + scatterStep - 1] += PositionGradientIn;
}
