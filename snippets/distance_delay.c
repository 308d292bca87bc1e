// Distance between the two neurons of this synapse in their shared space
// [space units] and the axonal delay it implies [timesteps]:
// delay = clamp(round(Offset + Scale * dist), 0, MaxDelay)
$displacements
const scalar dist = sqrt($squared_sum + (Eps * Eps));
const scalar rawDelay = Offset + (Scale * dist);
const int delay = max(0, min(MaxDelay, (int)round(rawDelay)));
