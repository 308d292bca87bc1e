// Hand this neuron's position gradient to the optimiser and clear the
// array for the next batch
$copy
