// A population's positions as one array for the PositionDelay updates of
// its connections: PositionTable[i * D + k] = x_i,k
$copies
