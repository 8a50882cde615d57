"""What a drawn figure shows, as data: the checks compare Figures 1-3 with a golden description.

:func:`describe_figure` lists a matplotlib figure's size, texts, legends and, per axes, the
title, labels, scales, limits, ticks, lines (marker, style, colours, sizes, number of points),
filled areas and texts, each number to 4 significant digits. :func:`drawn` runs a drawing
function with ``savefig`` recording that description instead of writing files.
``python -m checks.suite.figure_support`` rewrites ``figures_golden.json`` after a deliberate
change of a figure (it needs the ``plots`` and ``real`` extras); review the diff. The file records
the matplotlib release it was drawn with: automatic limits and default sizes may change with
another, so the checks compare under that release only (:func:`other_matplotlib`).
"""

import json
from pathlib import Path

GOLDEN_FIGURES = Path(__file__).resolve().parent / "figures_golden.json"


def _num(value):
    return float(f"{float(value):.4g}")


def _colour(value):
    from matplotlib.colors import to_hex

    try:
        return to_hex(value, keep_alpha=True)
    except (ValueError, TypeError):
        return str(value)


def _text(t):
    patch = t.get_bbox_patch()
    return {"text": t.get_text(), "size": _num(t.get_fontsize()),
            "box": None if patch is None else [_colour(patch.get_facecolor()), _colour(patch.get_edgecolor())]}


def _line(line):
    return {"marker": str(line.get_marker()), "ls": line.get_linestyle(), "lw": _num(line.get_linewidth()),
            "color": _colour(line.get_color()), "ms": _num(line.get_markersize()),
            "mew": _num(line.get_markeredgewidth()), "mfc": _colour(line.get_markerfacecolor()),
            "mec": _colour(line.get_markeredgecolor()), "points": len(line.get_xdata()),
            "label": None if line.get_label().startswith("_") else line.get_label()}


def _collection(c):
    cmap = getattr(c, "get_cmap", lambda: None)()
    faces = c.get_facecolor()
    return {"kind": type(c).__name__, "alpha": None if c.get_alpha() is None else _num(c.get_alpha()),
            "cmap": None if cmap is None or c.get_array() is None else cmap.name,
            "face": _colour(faces[0]) if len(faces) else None}


def _axes(ax):
    return {"title": _text(ax.title), "xlabel": ax.get_xlabel(), "ylabel": _text(ax.yaxis.label),
            "xscale": ax.get_xscale(), "yscale": ax.get_yscale(),
            "xlim": [_num(v) for v in ax.get_xlim()], "ylim": [_num(v) for v in ax.get_ylim()],
            "xticks": [_num(v) for v in ax.get_xticks()], "aspect": str(ax.get_aspect()),
            "lines": [_line(line) for line in ax.get_lines()],
            "collections": [_collection(c) for c in ax.collections], "texts": [_text(t) for t in ax.texts]}


def _legend(legend):
    return {"texts": [t.get_text() for t in legend.get_texts()], "size": _num(legend.get_texts()[0].get_fontsize()),
            "title": _text(legend.get_title()), "columns": legend._ncols, "frame": legend.get_frame_on(),
            "handles": [_line(h) for h in legend.legend_handles]}


def describe_figure(fig):
    """The figure as data (module docstring)."""
    return {"size": [_num(v) for v in fig.get_size_inches()], "texts": [_text(t) for t in fig.texts],
            "suptitle": None if fig._suptitle is None else _text(fig._suptitle),
            "legends": [_legend(legend) for legend in fig.legends], "axes": [_axes(ax) for ax in fig.axes]}


def drawn(draw, *args, **kwargs):
    """``(draw(*args, **kwargs), [{"files": [...], "figure": description}])``, writing no file (one entry
    per figure: the files a figure is saved to share its description)."""
    from unittest import mock

    from matplotlib.figure import Figure

    seen = []

    def record(fig, path, *a, **k):
        seen.append((str(path), describe_figure(fig)))

    with mock.patch.object(Figure, "savefig", record):
        out = draw(*args, **kwargs)
    merged = []
    for path, description in seen:
        if merged and merged[-1]["figure"] == description:
            merged[-1]["files"].append(path)
        else:
            merged.append({"files": [path], "figure": description})
    return out, merged


def figure1():
    from theory.experiments.figure1 import draw_figure

    return drawn(draw_figure, "figure1.png", seed=0)[1]


def figures_2_and_3():
    from theory.experiments.real.figures import figure2, figure3

    from .report_support import synthetic_study

    study, training = synthetic_study()
    return (drawn(figure2, study, "figure2")[1]
            + drawn(figure3, training.panels, training.steps, "figure3", n_images=6, seed=0)[1])


def golden_figures():
    return json.loads(GOLDEN_FIGURES.read_text(encoding="utf-8"))


def other_matplotlib():
    """Why the golden description does not apply here (another matplotlib release), or None."""
    import matplotlib

    recorded = golden_figures()["matplotlib"]
    return None if matplotlib.__version__ == recorded else f"drawn with matplotlib {recorded}, here {matplotlib.__version__}"


if __name__ == "__main__":
    import matplotlib

    GOLDEN_FIGURES.write_text(json.dumps({"matplotlib": matplotlib.__version__, "figure1": figure1(),
                                          "figures_2_and_3": figures_2_and_3()},
                                         indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN_FIGURES}")
