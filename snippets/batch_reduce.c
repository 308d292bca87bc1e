// Sum of this synapse's delay gradient over the batch lanes, into a shared
// variable (Reduced has REDUCE_SUM access: GeNN sums the lanes' values),
//     Reduced = sum_b Gradient_b
// and the lanes' accumulators start the next batch from zero
Reduced = Gradient;
Gradient = 0.0;
