// Mirror synapse of spatial synapse i -> j (j -> i for a DENSE
// connection, i -> j for a SPARSE one). DelayGradientT holds the
// batch-summed dL/d(delay) of i -> j at this mirror synapse's index, per
// ms of delay as mlGeNN's DelayGradient; a delay of Scale * dist
// timesteps is dt * Scale * dist ms. The mirror's events of timestep t
// are handled in timestep t + 1 = component + 1: for component k < D of
// the position gradient it adds, with dx = x_post - x_pre of the mirror,
//     -dt * Scale * G_ij * dx_k / dist_ij   to its presynaptic neuron
//     +dt * Scale * G_ij * dx_k / dist_ij   to its postsynaptic neuron
// (the derivatives of dist_ij, whichever way the mirror runs; plus, with
// a wiring cost, strength * |w_ij| * dx_k / dist_ij the same way),
// through GeNN's own accumulation (atomic on GPUs). Only batch lane 0
// emits these events (the mirror's event condition).
// Clamped delays (and zero distance) pass no gradient through the delay.
const int component = (int)round(t / dt) - 1;
const scalar delayGradient = DelayGradientT[id_syn];
$wiring_load
if (delayGradient != 0.0$wiring_nonzero) {
$distance
    if (dist > 0.0) {
        const scalar delayTerm = (rawDelay >= 0.0 && rawDelay <= MaxDelay) ?
            (dt * Scale * delayGradient) : 0.0;
        const scalar direction = $direction;
        const scalar v = ((delayTerm + $wiring_term) * direction) / dist;
        addToPost(v);
        addToPre(-v);
    }
}
