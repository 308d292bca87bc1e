// strength * |w_ij| of the wiring cost, handed over by the transpose
const scalar wiring = WiringT[id_syn];
