// The synapse's delay [timesteps], stored by the PositionDelay update at
// the start of every batch (positions change only between batches)
const int delay = $delay_var;
