// EventProp adjoint at a back-spike of the presynaptic neuron, read from
// the postsynaptic adjoints at the time this spike arrived:
// dL/dw and dL/d(delay) of this synapse, as mlGeNN's learnable delays
Gradient -= LambdaI_post[delay] * TauSyn;
PositionDelayGradient -= g * (LambdaI_post[delay] - LambdaV_post[delay]);
