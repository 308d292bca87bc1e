// Forward pass: the spike arrives after the distance-derived delay
addToPostDelay(g, delay);
