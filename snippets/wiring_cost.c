// Wiring cost strength * |w| * dist of this synapse: its weight part
// d/dw = strength * sign(w) * dist goes into the weight gradient (once per
// batch, shared across the batch lanes; dist as the mirror measured it in
// this batch), its position part is scattered by the mirror from
// strength * |w|
WiringT[mirrorIndex] = WiringCost * fabs(Weight);
const scalar weightSign = (Weight > 0.0) ? 1.0 : ((Weight < 0.0) ? -1.0 : 0.0);
WeightGradient += (WiringCost * weightSign * DistanceT[mirrorIndex]) / num_batch;
