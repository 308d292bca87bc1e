// The synapse's presynaptic and postsynaptic neurons. GeNN 5.4.0's CUDA
// code for a custom update on DENSE connectivity declares its pre and post
// index variables without their semicolons, so code reading them does not
// compile: derive both from the row-major synapse index (num_post synapses
// per row)
const unsigned int pre = id_syn / num_post;
const unsigned int post = id_syn % num_post;
