// Delay of spatial synapse i -> j [timesteps], computed once per batch
// from the positions of its two neurons (the tables PreTable[i * D + k],
// PostTable[j * D + k]) and stored once, shared by every batch lane and
// read by both passes:
// delay = clamp(round(Offset + Scale * sqrt(|x_j - x_i|^2 + Eps^2)), 0, MaxDelay)
$synapse_ends
$displacements
const scalar dist = sqrt($squared_sum + (Eps * Eps));
const scalar rawDelay = Offset + (Scale * dist);
$delay_var = max(0, min(MaxDelay, (int)round(rawDelay)));
