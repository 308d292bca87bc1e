// The mirror emits one event per neuron in timesteps 0 ... D - 1 of a
// training batch (ScatterSteps = D), in batch lane 0 only: the transposed
// gradient it scatters is already the sum over the lanes
ScatterEnabled && batch == 0 && t < ((ScatterSteps - 0.5) * dt)
