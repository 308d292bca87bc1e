// Distance-aware DEEP R's copy of the target population's positions,
// refreshed after each optimiser step: TargetPositions[j * D + k] = x_j,k
$copies
