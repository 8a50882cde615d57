r"""Figures 2 and 3 of the paper on the digits (matplotlib, the ``plots`` extra): escape curves from local maxima.

Each panel shows, over the test images, the share of the way from L(δ_0) to
L(δ_T) that PGD has covered after t steps (0 at the start next to the local
maximum, 1 at the last step): the median and the 10–90 % band, one colour per
step-size convention. A dotted line marks the escape fraction; the legend gives
the median escape time and the share of runs that did not escape in T steps.
"""

from __future__ import annotations

import numpy as np

from theory.experiments.real import constants as C
from theory.experiments.real.escape import escape_progress

__all__ = ["COLOURS", "LABELS", "draw_panel", "figure2", "figure3"]

COLOURS = {"absolute": "tab:blue", "scale_free": "tab:orange"}
LABELS = {"absolute": f"absolute η = {C.ABSOLUTE_ETA:g}", "scale_free": f"scale-free (first step {C.FIRST_STEP_FRACTION:g} ε)"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def draw_panel(ax, panel, steps, title):
    """One panel: median and 10–90 % band of the escape progress per convention."""
    t = np.arange(steps + 1)
    for convention, losses in panel.losses.items():
        progress = escape_progress(losses)
        ok = ~np.all(np.isnan(progress), axis=0)
        times = panel.times[convention]
        label = (f"{LABELS[convention]}: median τ = {np.median(times):g}, "
                 f"{np.mean(times > steps):.0%} not escaped")
        if np.any(ok):
            p = progress[:, ok]
            ax.fill_between(t, np.quantile(p, 0.1, axis=1), np.quantile(p, 0.9, axis=1),
                            color=COLOURS[convention], alpha=0.25, lw=0)
            ax.plot(t, np.median(p, axis=1), color=COLOURS[convention], lw=1.5, label=label)
        else:
            ax.plot([], [], color=COLOURS[convention], label=label + " (L never decreased)")
    ax.axhline(C.ESCAPE_FRACTION, color="grey", ls=":", lw=1)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, loc="lower right")


def _save(fig, path_stem):
    paths = []
    for ext in ("png", "pdf"):
        path = f"{path_stem}.{ext}"
        fig.savefig(path, dpi=150 if ext == "png" else None)
        paths.append(path)
    return paths


def figure2(study, path_stem):
    """Figure 2: rows input scales, columns ratios; writes ``path_stem``.png and .pdf, returns the paths."""
    plt = _pyplot()
    scales = sorted({s for s, _ in study.panels})
    ratios = sorted({r for _, r in study.panels})
    fig, axes = plt.subplots(len(scales), len(ratios), figsize=(3.2 * len(ratios), 2.8 * len(scales)),
                             sharex=True, sharey=True, squeeze=False)
    for i, s in enumerate(scales):
        for j, r in enumerate(ratios):
            p = study.panels[(s, r)]
            draw_panel(axes[i, j], p, study.steps,
                       f"s = {s:g} (accuracy {study.accuracy[s]:.1%}), r = {r:g}, ε = {p.eps:.3g}")
        axes[i, 0].set_ylabel("share of the way\nL(δ₀) → L(δ_T)")
    for ax in axes[-1]:
        ax.set_xlabel("PGD step t")
    fig.suptitle(f"Escape from local maxima of L on the sphere: CNN on the digits, {len(study.images)} test images, "
                 f"seed {study.seed}; band 10–90 %, dotted: escape at {C.ESCAPE_FRACTION:g}", fontsize=10)
    fig.tight_layout()
    paths = _save(fig, path_stem)
    plt.close(fig)
    return paths


def figure3(panels, steps, path_stem, *, n_images, seed):
    """Figure 3: ``panels`` keyed by (scale, epochs) with accuracy; rows scales, columns epochs of adversarial training."""
    plt = _pyplot()
    scales = sorted({s for s, _ in panels})
    epochs = sorted({e for _, e in panels})
    fig, axes = plt.subplots(len(scales), len(epochs), figsize=(3.4 * len(epochs), 2.8 * len(scales)),
                             sharex=True, sharey=True, squeeze=False)
    for i, s in enumerate(scales):
        for j, e in enumerate(epochs):
            panel, acc = panels[(s, e)]
            draw_panel(axes[i, j], panel, steps, f"s = {s:g}, after {e} epochs (accuracy {acc:.1%}), r = {panel.ratio:g}")
        axes[i, 0].set_ylabel("share of the way\nL(δ₀) → L(δ_T)")
    for ax in axes[-1]:
        ax.set_xlabel("PGD step t")
    fig.suptitle(f"Escape during adversarial training (PGD inner loop at r = {C.TRAINING_RATIO:g}): "
                 f"{n_images} test images, seed {seed}", fontsize=10)
    fig.tight_layout()
    paths = _save(fig, path_stem)
    plt.close(fig)
    return paths
