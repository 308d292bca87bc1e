// The synapse's presynaptic and postsynaptic neurons (SPARSE connectivity)
const unsigned int pre = id_pre;
const unsigned int post = id_post;
