"""Pictures of learned layouts (matplotlib, Agg).

Figures are built with matplotlib's object interface (``Figure`` on an Agg
canvas), never through ``pyplot``: nothing here changes the global backend
or keeps figures alive, so it works on a machine without a display and
inside a user's notebook alike. matplotlib is imported on first use.

Every plotting function takes per-connection dictionaries
(``{connection: array}``) and returns the ``Figure``; :func:`save_figure`
writes it as a PNG.
"""
import numpy as np

from ._optional import require
from .metrics import (delay_histogram, length_histogram, principal_components,
                      weight_distance_correlation)

_POSITION_UNIT = "[space units]"
_FEATURE = "the figures of ml_genn_spatial.analysis"


def _figure(panels: int = 1, width: float = 4.5, height: float = 3.6,
            projection: str = None):
    """A Figure on an Agg canvas with one row of up to 3 panels per row."""
    require("matplotlib", _FEATURE)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    if projection == "3d":
        # Registers the 3-D projection on old matplotlib versions
        import mpl_toolkits.mplot3d  # noqa: F401
    columns = min(max(panels, 1), 3)
    rows = int(np.ceil(max(panels, 1) / columns))
    fig = Figure(figsize=(width * columns, height * rows),
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(rows, columns, k + 1, projection=projection)
            for k in range(max(panels, 1))]
    return fig, axes


def _colours(count: int):
    matplotlib = require("matplotlib", _FEATURE)
    cmap = matplotlib.colormaps["tab10" if count <= 10 else "tab20"]
    return [cmap(k % cmap.N) for k in range(count)]


def save_figure(fig, path: str, dpi: int = 150) -> str:
    """Write a figure to ``path`` (PNG) and return the path."""
    fig.savefig(path, dpi=dpi)
    return path


# ----------------------------------------------------------------------------
# Layout
# ----------------------------------------------------------------------------
def _project(groups: list):
    """Coordinates to draw (at most 3 columns) and the axis labels."""
    stacked = np.concatenate(groups, axis=0)
    dimensions = stacked.shape[1]
    if dimensions <= 3:
        return stacked, [f"x{k} {_POSITION_UNIT}" for k in range(dimensions)]
    projected, explained = principal_components(stacked, 2)
    return projected, [f"PC{k + 1} ({100 * explained[k]:.0f} % of variance) "
                       f"{_POSITION_UNIT}" for k in range(2)]


def plot_layout(positions: dict, labels=None, class_names=None,
                unlabelled: str = "no preferred class", title: str = None):
    """Scatter plot of neuron positions.

    D = 1 draws each group on its own row, D = 2 a plane, D = 3 a 3-D
    scatter, and D > 3 the first two principal components of all points
    drawn (axes in space units, with the share of variance explained).

    Args:
        positions: ``{name: positions (N, D)}`` [space units]; coloured by
            name (a population) when ``labels`` is None
        labels: with a single population, the class of each neuron
            (``-1``: no preferred class, drawn hollow grey); colours by
            class
        class_names: name of each class (default ``"class k"``)
        unlabelled: legend entry of the neurons labelled -1
        title: figure title

    Returns:
        the matplotlib Figure
    """
    names = list(positions)
    points = [np.asarray(positions[name], dtype=np.float64)
              for name in names]
    if labels is not None:
        if len(points) != 1:
            raise ValueError("colouring by class needs exactly one "
                             "population")
        labels = np.asarray(labels).ravel()
        classes = [int(c) for c in np.unique(labels) if c >= 0]
        if class_names is None:
            class_names = [f"class {c}" for c in range(max(classes,
                                                           default=-1) + 1)]
        palette = _colours(max(len(class_names), 1))
        groups = [(points[0][labels == c], class_names[c], palette[c])
                  for c in classes]
        if np.any(labels < 0):
            groups.append((points[0][labels < 0], unlabelled, None))
    else:
        groups = list(zip(points, names, _colours(len(names))))
    groups = [g for g in groups if len(g[0])]
    coordinates, axis_labels = _project([g[0] for g in groups])
    dimensions = len(axis_labels)

    fig, (ax,) = _figure(1, width=7.5, height=5.0,
                         projection="3d" if dimensions == 3 else None)
    size = 18 if len(coordinates) <= 400 else 8
    start = 0
    for row, (group, name, colour) in enumerate(groups):
        xy = coordinates[start:start + len(group)]
        start += len(group)
        columns = ([xy[:, 0], np.full(len(xy), row)] if dimensions == 1
                   else [xy[:, k] for k in range(dimensions)])
        # Unlabelled neurons: hollow grey, beneath the coloured ones
        style = ({"facecolors": "none", "edgecolors": "0.6", "zorder": 1}
                 if colour is None else
                 {"color": colour, "edgecolors": "none", "zorder": 2})
        ax.scatter(*columns, s=size, label=f"{name} ({len(group)})",
                   **style)
    ax.set_xlabel(axis_labels[0])
    if dimensions == 1:
        ax.set_yticks(range(len(groups)), [g[1] for g in groups])
        ax.set_ylim(-0.5, len(groups) - 0.5)
    else:
        ax.set_ylabel(axis_labels[1])
    if dimensions == 2:
        ax.set_aspect("equal", adjustable="datalim")
    if dimensions == 3:
        ax.set_zlabel(axis_labels[2])
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0)
    ax.set_title(title or ("Neuron positions by preferred class"
                           if labels is not None
                           else "Neuron positions by population"),
                 fontsize="medium")
    return fig


# ----------------------------------------------------------------------------
# Per-connection distributions
# ----------------------------------------------------------------------------
def plot_delay_histogram(delays: dict, dt: float = None,
                         max_delay_steps: dict = None):
    """Histogram of synaptic delays, one panel per connection.

    Args:
        delays: ``{connection: delay of every synapse}`` [timesteps]
        dt: simulation timestep [ms]; when given the axis is in ms
        max_delay_steps: ``{connection: largest delay}`` [timesteps] to
            extend each axis to, optional

    Returns:
        the matplotlib Figure
    """
    fig, axes = _figure(len(delays))
    unit = 1.0 if dt is None else float(dt)
    for ax, (name, delay), colour in zip(axes, delays.items(),
                                         _colours(len(delays))):
        top = None if max_delay_steps is None else max_delay_steps.get(name)
        counts, steps = delay_histogram(delay, top)
        ax.bar(steps * unit, counts, width=0.9 * unit, color=colour)
        ax.set_xlabel("delay [timesteps]" if dt is None else "delay [ms]")
        ax.set_ylabel("synapses")
        ax.set_title(f"{name}: {np.size(delay)} synapses, mean "
                     f"{np.mean(delay) * unit:.3g}"
                     f"{' steps' if dt is None else ' ms'}", fontsize="medium")
    fig.suptitle("Synaptic delays")
    return fig


def plot_length_distribution(distances: dict, weights: dict = None,
                             bins: int = 30):
    """Distribution of connection lengths, one panel per connection: the
    share of synapses and, where weights are given, the share of ``|w|``.

    Args:
        distances: ``{connection: distance of every synapse}`` [space units]
        weights: ``{connection: weight of every synapse}``, optional
        bins: number of bins

    Returns:
        the matplotlib Figure
    """
    weights = weights or {}
    fig, axes = _figure(len(distances))
    for ax, (name, dist) in zip(axes, distances.items()):
        fraction, edges = length_histogram(dist, bins=bins)
        ax.stairs(fraction, edges, label="synapses", color="C0", lw=1.5)
        if weights.get(name) is not None:
            weighted, _ = length_histogram(dist, weights[name], bins=bins,
                                           value_range=(edges[0], edges[-1]))
            ax.stairs(weighted, edges, label="|w|-weighted", color="C3",
                      lw=1.5)
        ax.set_xlabel(f"connection length {_POSITION_UNIT}")
        ax.set_ylabel("fraction per bin")
        ax.set_title(name, fontsize="medium")
        ax.legend(fontsize="small")
    fig.suptitle("Connection lengths")
    return fig


def plot_weight_vs_distance(distances: dict, weights: dict,
                            max_points: int = 5000, rng=0):
    """Weight against connection length, one panel per connection, with
    Pearson's r of length and ``|w|`` in each title.

    Args:
        distances: ``{connection: distance of every synapse}`` [space units]
        weights: ``{connection: weight of every synapse}``; connections
            without weights are left out
        max_points: largest number of synapses drawn per panel (a seeded
            random subset beyond that; r uses every synapse)
        rng: seed of the subset

    Returns:
        the matplotlib Figure
    """
    rng = np.random.default_rng(rng)
    names = [n for n in distances if weights.get(n) is not None]
    fig, axes = _figure(len(names))
    for ax, name, colour in zip(axes, names, _colours(len(names))):
        dist = np.ravel(distances[name])
        w = np.ravel(weights[name])
        correlation = weight_distance_correlation(dist, w)
        shown = (np.arange(dist.size) if dist.size <= max_points
                 else rng.choice(dist.size, max_points, replace=False))
        ax.scatter(dist[shown], w[shown], s=4, alpha=0.4, color=colour,
                   edgecolors="none")
        ax.axhline(0.0, color="0.5", lw=0.8)
        ax.set_xlabel(f"connection length {_POSITION_UNIT}")
        ax.set_ylabel("weight w")
        ax.set_title(f"{name}: r(length, |w|) = "
                     f"{correlation['pearson_abs']:.2f}", fontsize="medium")
    if not names:
        axes[0].text(0.5, 0.5, "no weights in the layout", ha="center",
                     va="center", transform=axes[0].transAxes)
        axes[0].set_axis_off()
    fig.suptitle("Weight against connection length")
    return fig
