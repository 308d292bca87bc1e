// Write the (batch-summed) delay gradient of spatial synapse i -> j into
// the dense array of its mirror j -> i, at the mirror's synapse index
// j * num_pre + i. Each synapse owns its element: no atomics needed.
$synapse_ends
const unsigned int mirrorIndex = (post * num_pre) + pre;
DelayGradientT[mirrorIndex] = Gradient;
$zero_source
$wiring
