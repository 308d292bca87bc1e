// Radial projection of a position into the ball of radius Radius
// [space units] around the centre (Centre0, Centre1, ...)
$offsets
const scalar norm = sqrt($squared_sum);
if (norm > Radius) {
    const scalar shrink = Radius / norm;
$shrink
}
