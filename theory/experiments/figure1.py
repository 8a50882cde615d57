r"""Figure 1 of the paper for 2-D inputs, and the table of local minima per panel.

``python -m theory.experiments.figure1 [--out DIR] [--draws N] [--seed S] [--width M]``
writes into DIR (default ``figure1``):

* ``figure1.png``: a 3 × 3 grid (rows: input scales :data:`theory.experiments.scale.FIGURE_SCALES`,
  columns: perturbation ratios :data:`theory.experiments.scale.FIGURE_RATIOS`) of the loss
  L(δ) = −(y − f(x + δ))² over the square around x that holds the ball of
  radius ε = ratio · scale, with the circle ‖δ‖ = ε, the local minima (★) and
  maxima (×) of L on it from the certified circle scan, and PGD trajectories
  from uniform starts in the ball (step η as in :func:`theory.experiments.scale.escape_step_size`).
  Needs matplotlib (the optional ``plots`` extra); without it the command says
  so and writes the table only.
* ``figure1_minima.md`` and ``figure1_minima.json``: over ``--draws`` draws per
  panel, the mean and largest number of local minima on the sphere, the
  fraction of draws with exactly one, the fraction of exact (certified) counts
  and the fraction certified unique (:func:`theory.certificates.uniqueness.uniqueness_certificate`).

Every number comes from :func:`theory.experiments.scale.minima_table`, the same code the
section 5.1 checks use.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys

import numpy as np

from theory.geometry import uniform_ball
from theory.pgd import pgd
from theory.experiments.scale import (
    FIGURE_RATIOS, FIGURE_SCALES, FIGURE_WIDTH, TABLE_DRAWS, figure_problem, minima_table,
)

__all__ = ["FIGURE_STARTS", "FIGURE_STEPS", "FIGURE_GRID", "draw_figure", "table_markdown", "main"]

#: PGD starts per panel (uniform in the open ball).
FIGURE_STARTS = 6
#: PGD steps per trajectory (a step moves about 5 % of ε, so 60 steps can cross the ball).
FIGURE_STEPS = 60
#: Grid points per side of the loss image.
FIGURE_GRID = 161


def plots_available() -> bool:
    """True when matplotlib (the ``plots`` extra) can be imported."""
    return importlib.util.find_spec("matplotlib") is not None


def draw_figure(path, *, seed=0, width=FIGURE_WIDTH):
    """Draw the 3 × 3 panels for the draw ``seed`` into ``path`` (PNG). Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from theory.landscape.circle import circle_critical_points
    from theory.experiments.scale import escape_step_size

    fig, axes = plt.subplots(len(FIGURE_SCALES), len(FIGURE_RATIOS), figsize=(12, 12))
    letters = iter("abcdefghi")
    for i, scale in enumerate(FIGURE_SCALES):
        for j, ratio in enumerate(FIGURE_RATIOS):
            ax = axes[i, j]
            problem = figure_problem(seed, scale, ratio, width=width)
            eps = problem.eps
            u = np.linspace(-1.05 * eps, 1.05 * eps, FIGURE_GRID)
            grid = np.stack(np.meshgrid(u, u), axis=-1)
            loss = problem.loss_value(grid)
            ax.contourf(u / eps, u / eps, loss, levels=30, cmap="viridis")
            t = np.linspace(0, 2 * np.pi, 400)
            ax.plot(np.cos(t), np.sin(t), "w-", lw=1)
            starts = uniform_ball(np.random.default_rng([seed, 7]), FIGURE_STARTS, 2, eps)
            traj = pgd(problem, starts, eta=escape_step_size(problem, seed), steps=FIGURE_STEPS)
            for k in range(FIGURE_STARTS):
                path_k = traj.deltas[:, k, :] / eps
                ax.plot(path_k[:, 0], path_k[:, 1], "-", color="orange", lw=1)
                ax.plot(path_k[0, 0], path_k[0, 1], "o", color="orange", ms=3)
            scan = circle_critical_points(problem)
            for p in scan.points:
                marker, color = ("*", "red") if p.kind == "minimum" else ("x", "white")
                ax.plot(p.delta[0] / eps, p.delta[1] / eps, marker, color=color, ms=12, mew=2)
            n_min = sum(p.kind == "minimum" for p in scan.points)
            ax.set_title(f"({next(letters)}) |x| = {scale:g}, r = {ratio:g}: {n_min} local min"
                         + ("" if scan.certified else " (scan not certified)"), fontsize=10)
            ax.set_aspect("equal")
            ax.set_xticks([-1, 0, 1])
            ax.set_yticks([-1, 0, 1])
    fig.suptitle(f"L(δ) = −(y − f(x + δ))² around x, δ/ε shown; d = 2, m = {width}, seed {seed}; "
                 "★ local minima (adversarial maxima), × local maxima, orange: PGD", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def table_markdown(rows, *, draws, seed, width):
    """The table of :func:`theory.experiments.scale.minima_table` as Markdown."""
    lines = [f"Local minima of L on the sphere per Figure 1 panel: d = 2, m = {width}, "
             f"{draws} draws (seeds {seed}..{seed + draws - 1}).", "",
             "| input scale | ratio r | ε | mean minima | max | one minimum | exact counts | certified unique |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['scale']:g} | {r['ratio']:g} | {r['eps']:g} | {r['mean_minima']:.2f} | "
                     f"{r['max_minima']} | {r['one_minimum']:.0%} | {r['scan_certified']:.0%} | "
                     f"{r['unique_certified']:.0%} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m theory.experiments.figure1", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="figure1", help="output folder (default: figure1)")
    parser.add_argument("--draws", type=int, default=TABLE_DRAWS, help=f"draws per panel for the table (default {TABLE_DRAWS})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawn panels and first seed of the table")
    parser.add_argument("--width", type=int, default=FIGURE_WIDTH, help=f"hidden width m (default {FIGURE_WIDTH})")
    args = parser.parse_args(argv)
    if args.draws < 1 or args.width < 1 or args.seed < 0:
        parser.error("--draws and --width must be >= 1 and --seed >= 0")
    os.makedirs(args.out, exist_ok=True)
    if not plots_available():
        print("matplotlib is not installed: figure1.png skipped, table only "
              "(install the plots extra: pip install '.[plots]')", file=sys.stderr)
    else:
        draw_figure(os.path.join(args.out, "figure1.png"), seed=args.seed, width=args.width)
        print(f"wrote {os.path.join(args.out, 'figure1.png')}")
    rows = minima_table(draws=args.draws, seed=args.seed, width=args.width)
    md = table_markdown(rows, draws=args.draws, seed=args.seed, width=args.width)
    with open(os.path.join(args.out, "figure1_minima.md"), "w") as fh:
        fh.write(md)
    with open(os.path.join(args.out, "figure1_minima.json"), "w") as fh:
        json.dump(dict(d=2, width=args.width, draws=args.draws, seed=args.seed, panels=rows), fh, indent=2)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
