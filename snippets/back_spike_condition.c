// The EventProp backward pass of a synapse runs at the back-spikes of its
// presynaptic neuron (mlGeNN's BackSpike)
BackSpike_pre
