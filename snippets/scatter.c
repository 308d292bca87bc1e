// Mirror synapse j -> i of spatial synapse i -> j. DelayGradientT holds the
// batch-summed dL/d(delay) of i -> j at this mirror synapse's index, per ms
// of delay as mlGeNN's DelayGradient; a delay of Scale * dist timesteps is
// dt * Scale * dist ms. The mirror's events of timestep t are handled in
// timestep t + 1 = component + 1: for component k < D of the position
// gradient it adds
//     dt * Scale * G_ij * (x_i - x_j)_k / dist_ij   to neuron i (addToPost)
//     dt * Scale * G_ij * (x_j - x_i)_k / dist_ij   to neuron j (addToPre)
// (plus, with a wiring cost, strength * |w_ij| * (x_i - x_j)_k / dist_ij),
// through GeNN's own accumulation (atomic on GPUs). Only batch lane 0
// emits these events (the mirror's event condition). Clamped delays (and
// zero distance) pass no gradient through the delay.
const int component = (int)round(t / dt) - 1;
if (component < $dimensions) {
    const scalar delayGradient = DelayGradientT[id_syn];
$wiring_load
    // Most elements of a sparse connection's mirror are zero: skip them
    if ($work_condition) {
$distance
$record_distance
        if ((delayGradient != 0.0$wiring_nonzero) && dist > 0.0) {
            const scalar delayTerm = (rawDelay >= 0.0 && rawDelay <= MaxDelay) ?
                (dt * Scale * delayGradient) : 0.0;
            const scalar direction = $direction;
            const scalar v = ((delayTerm + $wiring_term) * direction) / dist;
            addToPost(v);
            addToPre(-v);
        }
    }
}
// Sparse connections only: one more event step clears the elements
// (synapses removed by rewiring must leave no stale value behind; dense
// ones are overwritten every batch)
else {
    DelayGradientT[id_syn] = 0.0;
$wiring_clear
}
