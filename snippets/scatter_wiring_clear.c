    WiringT[id_syn] = 0.0;
