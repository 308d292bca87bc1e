// Rebuild row id_pre of a SPARSE connection's mirror (custom connectivity
// update on the mirror) as the spatial group's row that mirror_rows.c left
// in DelayGradientT: remove every synapse, then add the listed targets in
// order. Synapse k of the row then has index id_pre * row_stride + k in
// both groups, which is where the transpose writes and the scatter reads.
for_each_synapse {
    remove_synapse();
}
const unsigned int rowStart = id_pre * row_stride;
for (unsigned int k = 0; k < row_stride; k++) {
    const scalar target = DelayGradientT[rowStart + k];
    if (target < 0.0) {
        break;
    }
    add_synapse((unsigned int)target);
    DelayGradientT[rowStart + k] = 0.0;
}
