// DEEP R regrowth with distance-aware target choice. Each of this row's
// NumActivations new synapses goes to an unconnected target j drawn with
// probability proportional to exp(-dist_ij / RegrowthLength): a uniform
// candidate is accepted with that probability (rejection sampling), so
// nearer targets are more likely. After MaxTries rejected candidates
// (every free target far away) the next free candidate is taken, so the
// loop always ends. The new synapse's delay needs nothing here: it follows
// from the positions (stored delays are recomputed at the start of the
// next batch, before its first spike).
uint32_t *rowConnectivity = Connectivity + (NumRowWords * id_pre);
for(unsigned int a = 0; a < NumActivations; a++) {
    unsigned int tries = 0;
    while(true) {
        const unsigned int j = gennrand() % num_post;
        if(!(rowConnectivity[j / 32] & (1u << (j % 32)))) {
$displacements
            const scalar dist = sqrt($squared_sum + (Eps * Eps));
            tries++;
            if(tries > MaxTries || gennrand_uniform() < exp(-dist / RegrowthLength)) {
                add_synapse(j);
                rowConnectivity[j / 32] |= (1u << (j % 32));
                break;
            }
        }
    }
}
