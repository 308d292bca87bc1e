// Position gradient scattered to this neuron by the mirror synapses in the
// scatter timestep of component ScatterDim
$accumulate
