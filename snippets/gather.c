// Sum this neuron's position gradient over the batch lanes, and clear the
// lanes for the next batch
$zero
for (unsigned int b = 0; b < NumBatch; b++) {
    const unsigned int base = ((b * num_neurons) + id) * $dimensions;
$sum
}
$store
