// Mirror synapse j -> i of spatial synapse i -> j. DelayGradientT holds the
// batch-summed dL/d(delay) of i -> j at this mirror synapse's index. The
// mirror's events of timestep t are handled in timestep t + 1 = component
// + 1: for component k < D of the position gradient it adds
//     scale * G_ij * (x_i - x_j)_k / dist_ij   to neuron i (addToPost)
//     scale * G_ij * (x_j - x_i)_k / dist_ij   to neuron j (addToPre)
// (plus, with a wiring cost, strength * |w_ij| * (x_i - x_j)_k / dist_ij).
// Both go through GeNN's own accumulation (atomic on GPUs). Every batch
// lane adds the same value, hence the division by num_batch before the
// batch sum. Clamped delays (and zero distance) pass no gradient.
const int component = (int)round(t / dt) - 1;
const scalar delayGradient = DelayGradientT[id_syn];
$wiring_load
if (component < $dimensions) {
    if (delayGradient != 0.0$wiring_nonzero) {
        $displacements
        const scalar dist = sqrt($squared_sum + (Eps * Eps));
        const scalar rawDelay = Offset + (Scale * dist);
        // dL/d(dist): through the delay (none where it is clamped), plus
        // the wiring cost strength * |w| when there is one
        const scalar delayTerm = (rawDelay >= 0.0 && rawDelay <= MaxDelay) ?
            (Scale * delayGradient) : 0.0;
        const scalar distanceGradient = delayTerm + $wiring_term;
        if (dist > 0.0) {
            const scalar direction = $direction;
            const scalar v = (distanceGradient * direction) / (dist * num_batch);
            addToPost(v);
            addToPre(-v);
        }
    }
$record_distance
}
// Sparse connections only: one more event step, after every lane has read
// every component, clears the element (synapses removed by rewiring must
// leave no stale value behind; dense ones are overwritten every batch)
else if (batch == 0) {
    DelayGradientT[id_syn] = 0.0;
}
