// Adjoint current fed back to a presynaptic LIF neuron
addToPre(g * (LambdaV_post[delay] - LambdaI_post[delay]));
