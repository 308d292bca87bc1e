// Row id_pre of a SPARSE spatial synapse group, copied for its mirror
// (custom connectivity update on the spatial group): the postsynaptic
// index of every synapse in the group's own order, then -1 up to the row
// stride. The copy travels in the mirror's DelayGradientT (indices are
// exact in it below 2^24 neurons); the mirror's rebuild reads it and
// zeroes the slots it used, and the transpose then fills those with
// delay gradients (nothing reads the -1 padding beyond them).
const unsigned int rowStart = id_pre * row_stride;
unsigned int length = 0;
for_each_synapse {
    DelayGradientT[rowStart + length] = (scalar)id_post;
    length++;
}
for (unsigned int k = length; k < row_stride; k++) {
    DelayGradientT[rowStart + k] = -1.0;
}
