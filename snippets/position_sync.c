// A synapse group's own copy of a population's positions, refreshed after
// each optimiser step: copy_k = x_k for k = 0 ... D - 1
$copies
