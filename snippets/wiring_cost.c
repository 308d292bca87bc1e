// Wiring cost strength * |w| * dist of this synapse: its weight part
// d/dw = strength * sign(w) * dist goes into the weight gradient (once per
// batch, shared across the batch lanes; dist from the position tables,
// which hold the positions of this batch), its position part is scattered
// by the mirror from strength * |w|
$displacements
const scalar dist = sqrt($squared_sum + (Eps * Eps));
WiringT[mirrorIndex] = WiringCost * fabs(Weight);
const scalar weightSign = (Weight > 0.0) ? 1.0 : ((Weight < 0.0) ? -1.0 : 0.0);
WeightGradient += (WiringCost * weightSign * dist) / num_batch;
