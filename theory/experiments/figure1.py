r"""Figure 1 of the paper for 2-D inputs, and the table of local minima per panel.

``python -m theory.experiments.figure1 [--out DIR] [--draws N] [--seed S] [--width M]``
writes into DIR (default ``figure1``):

* ``figure1.png`` and ``figure1.pdf``: a 3 × 3 grid (rows: input scales :data:`theory.experiments.scale.FIGURE_SCALES`,
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

__all__ = ["FIGURE_STARTS", "FIGURE_STEPS", "FIGURE_GRID", "STATIONARY_RTOL", "CONVERGED_STEP", "draw_figure",
           "interior_stationary_points", "table_markdown", "main"]

#: PGD starts per panel (uniform in the open ball).
FIGURE_STARTS = 6
#: PGD steps per trajectory (a step moves about 5 % of ε, so 60 steps can cross the ball).
FIGURE_STEPS = 60
#: Grid points per side of the loss image.
FIGURE_GRID = 161


def plots_available() -> bool:
    """True when matplotlib (the ``plots`` extra) can be imported."""
    return importlib.util.find_spec("matplotlib") is not None


#: Interior stationary points: grid minima of ‖∂L‖ refined by Newton steps; kept when
#: ‖∂L‖ falls below this share of the largest ‖∂L‖ on the grid.
STATIONARY_RTOL = 1e-8
#: A PGD path has converged when its last step moved less than this share of ε.
CONVERGED_STEP = 1e-3


def interior_stationary_points(problem, grid, grad_norm):
    """Points δ inside the ball with ∂L(δ) = 0 (to STATIONARY_RTOL), from the grid minima of ‖∂L‖; shape (k, 2)."""
    eps = problem.eps
    g = grad_norm
    inner = np.linalg.norm(grid, axis=-1) < eps
    local = np.ones_like(g, dtype=bool)
    for axis in (0, 1):
        for shift in (1, -1):
            local &= g <= np.roll(g, shift, axis=axis)
    found = []
    for start in grid[local & inner][:50]:
        delta = start.copy()
        for _ in range(30):
            step = np.linalg.lstsq(problem.loss_hessian(delta), -problem.loss_grad(delta), rcond=None)[0]
            delta = delta + step
            if np.linalg.norm(delta) >= eps or np.linalg.norm(step) < 1e-14 * eps:
                break
        if (np.linalg.norm(delta) < eps and np.linalg.norm(problem.loss_grad(delta)) <= STATIONARY_RTOL * g.max()
                and not any(np.linalg.norm(delta - q) < 1e-6 * eps for q in found)):
            found.append(delta)
    return np.array(found).reshape(-1, 2)


def draw_figure(path, *, seed=0, width=FIGURE_WIDTH):
    """Draw the 3 × 3 panels for the draw ``seed`` into ``path`` (PNG) and beside it the same as PDF; returns both paths.

    Every panel has its colour bar (L), axes δ₁/ε and δ₂/ε, the circle ‖δ‖ = ε, the
    local minima (★) and maxima (×) of L on it, PGD paths from uniform starts (dots),
    interior stationary points of L (◆) and the last iterates of the paths that had
    not converged after FIGURE_STEPS steps (□: the last step moved more than
    CONVERGED_STEP · ε). Needs matplotlib.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from theory.landscape.circle import circle_critical_points
    from theory.experiments.scale import escape_step_size

    fig, axes = plt.subplots(len(FIGURE_SCALES), len(FIGURE_RATIOS), figsize=(13, 12.5))
    letters = iter("abcdefghi")
    notes = []
    for i, scale in enumerate(FIGURE_SCALES):
        for j, ratio in enumerate(FIGURE_RATIOS):
            ax = axes[i, j]
            letter = next(letters)
            problem = figure_problem(seed, scale, ratio, width=width)
            eps = problem.eps
            u = np.linspace(-1.05 * eps, 1.05 * eps, FIGURE_GRID)
            grid = np.stack(np.meshgrid(u, u), axis=-1)
            loss, grad = problem.value_and_grad(grid)
            cs = ax.contourf(u / eps, u / eps, loss, levels=30, cmap="viridis")
            bar = fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.03)
            bar.set_label("L(δ)", fontsize=8)
            bar.ax.tick_params(labelsize=6)
            t = np.linspace(0, 2 * np.pi, 400)
            ax.plot(np.cos(t), np.sin(t), "w-", lw=1)
            starts = uniform_ball(np.random.default_rng([seed, 7]), FIGURE_STARTS, 2, eps)
            traj = pgd(problem, starts, eta=escape_step_size(problem, seed), steps=FIGURE_STEPS)
            unconverged, stalled = 0, []
            for k in range(FIGURE_STARTS):
                path_k = traj.deltas[:, k, :] / eps
                ax.plot(path_k[:, 0], path_k[:, 1], "-", color="orange", lw=1)
                ax.plot(path_k[0, 0], path_k[0, 1], "o", color="orange", ms=3)
                if np.linalg.norm(path_k[-1] - path_k[-2]) > CONVERGED_STEP:
                    unconverged += 1
                    stalled.append(float(np.linalg.norm(problem.loss_grad(traj.deltas[-1, k, :]))))
                    ax.plot(path_k[-1, 0], path_k[-1, 1], "s", mfc="none", mec="red", ms=7, mew=1.5)
            scan = circle_critical_points(problem)
            for p in scan.points:
                marker, color = ("*", "red") if p.kind == "minimum" else ("x", "white")
                ax.plot(p.delta[0] / eps, p.delta[1] / eps, marker, color=color, ms=12, mew=2)
            stationary = interior_stationary_points(problem, grid, np.linalg.norm(grad, axis=-1))
            if len(stationary):
                ax.plot(stationary[:, 0] / eps, stationary[:, 1] / eps, "D", mfc="cyan", mec="k", ms=6)
            n_min = sum(p.kind == "minimum" for p in scan.points)
            ax.set_title(f"({letter}) ‖x‖ = {scale:g}, r = {ratio:g}: {n_min} local min"
                         + ("" if scan.certified else " (scan not certified)"), fontsize=10)
            share = float(np.median(stalled) / np.linalg.norm(grad, axis=-1).max()) if stalled else float("nan")
            notes.append((letter, scale, ratio, unconverged, len(stationary), share))
            ax.set_aspect("equal")
            ax.set_xticks([-1, 0, 1])
            ax.set_yticks([-1, 0, 1])
            if i == len(FIGURE_SCALES) - 1:
                ax.set_xlabel("δ₁/ε")
            if j == 0:
                ax.set_ylabel("δ₂/ε")
    handles = [Line2D([], [], ls="none", marker="*", color="red", ms=10, label="local minimum of L on the sphere (adversarial maximum)"),
               Line2D([], [], ls="none", marker="x", color="grey", ms=8, mew=2, label="local maximum of L on the sphere"),
               Line2D([], [], color="orange", marker="o", ms=3, label=f"PGD path ({FIGURE_STEPS} steps) from a uniform start"),
               Line2D([], [], ls="none", marker="D", mfc="cyan", mec="k", label="stationary point of L inside the ball (∂L = 0)"),
               Line2D([], [], ls="none", marker="s", mfc="none", mec="red", mew=1.5,
                      label=f"last iterate of a path not converged (last step > {CONVERGED_STEP:g} ε)")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=9, frameon=False)
    last = notes[-1]
    explanation = (f"L(δ) = −(y − f(x + δ))², d = 2, m = {width}, seed {seed}. Panel ({last[0]}), ‖x‖ = {last[1]:g}, "
                   f"r = {last[2]:g}: {last[3]} of {FIGURE_STARTS} paths had not converged after {FIGURE_STEPS} steps "
                   f"(□; several end at the same point), where ‖∂L‖ is {last[5]:.2g} of its largest value on the panel "
                   f"(median): outside Theorem 3.1's regime the gradient nearly vanishes in a valley inside the ball, "
                   f"where PGD stalls and zigzags; {last[4]} exact stationary points inside the ball (◆).")
    fig.text(0.5, 0.075, explanation, ha="center", fontsize=9, wrap=True)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    pdf = os.path.splitext(str(path))[0] + ".pdf"
    fig.savefig(path, dpi=110)
    fig.savefig(pdf)
    plt.close(fig)
    return [str(path), pdf]


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
        for written in draw_figure(os.path.join(args.out, "figure1.png"), seed=args.seed, width=args.width):
            print(f"wrote {written}")
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
