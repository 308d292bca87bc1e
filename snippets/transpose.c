// Write the (batch-summed) delay gradient of spatial synapse i -> j into
// its mirror's array at the mirror synapse's index: j * num_pre + i for a
// DENSE connection (the mirror runs j -> i), the synapse's own index for a
// SPARSE one (the mirror runs i -> j with the same rows, see
// mirror_rows.c). Each synapse owns its element: no atomics needed.
$synapse_ends
const unsigned int mirrorIndex = $mirror_index;
DelayGradientT[mirrorIndex] = Gradient;
$zero_source
$wiring
