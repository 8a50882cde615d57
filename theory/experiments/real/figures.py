r"""Figures 2 and 3 of the paper on the digits (matplotlib, the ``plots`` extra): escape curves from local maxima.

Each panel shows, over the test images whose run escaped, the share of the way
from L(δ_0) to L(δ_T) that PGD has covered after t steps (0 at the start next to
the local maximum, 1 at the last step): the median and the 10–90 % band, one
colour per step-size convention. A dotted line marks the escape fraction; each
panel's box gives the median escape time τ (T + 1 = did not escape) and the share
of runs that stayed.
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
    """One panel: median and 10–90 % band of the escape progress over the runs that escaped, per convention."""
    t = np.arange(steps + 1)
    lines = []
    for convention, losses in panel.losses.items():
        times = panel.times[convention]
        escaped = times <= steps
        short = "abs" if convention == "absolute" else "s-f"
        lines.append(f"{short}: τ = {np.median(times):g}, {np.mean(~escaped):.0%} stay")
        if np.any(escaped):
            p = escape_progress(losses[:, escaped])
            ax.fill_between(t, np.quantile(p, 0.1, axis=1), np.quantile(p, 0.9, axis=1),
                            color=COLOURS[convention], alpha=0.25, lw=0)
            ax.plot(t, np.median(p, axis=1), color=COLOURS[convention], lw=1.5)
    ax.axhline(C.ESCAPE_FRACTION, color="grey", ls=":", lw=1)
    ax.text(0.97, 0.04, "\n".join(lines), transform=ax.transAxes, ha="right", va="bottom", fontsize=6.5,
            bbox=dict(boxstyle="round", fc="white", ec="none", alpha=0.8))
    ax.set_xscale("symlog", linthresh=10)
    ax.set_ylim(-0.05, 1.1)
    ax.set_title(title, fontsize=9)


def _legend(fig, steps):
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=COLOURS[c], lw=2, label=LABELS[c]) for c in C.CONVENTIONS]
    handles.append(Line2D([], [], color="grey", ls=":", label=f"escape: {C.ESCAPE_FRACTION:g} of the way"))
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=9, frameon=False,
               title=(f"median and 10–90 % band over the runs that escaped; τ: median escape time "
                      f"({steps + 1} = did not escape);\n'stay': share of runs that did not escape in {steps} steps"),
               title_fontsize=8)


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
    fig, axes = plt.subplots(len(scales), len(ratios), figsize=(max(3.2 * len(ratios), 11.0), 2.8 * len(scales) + 0.8),
                             sharex=True, sharey=True, squeeze=False)
    for i, s in enumerate(scales):
        for j, r in enumerate(ratios):
            p = study.panels[(s, r)]
            draw_panel(axes[i, j], p, study.steps, f"s = {s:g}, r = {r:g} (ε = {p.eps:.2g})")
        axes[i, 0].set_ylabel(f"s = {s:g} (accuracy {study.accuracy[s]:.1%})\nshare of the way L(δ₀) → L(δ_T)",
                              fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("PGD step t")
    fig.suptitle(f"Escape from local maxima of L on the sphere: softplus CNN on the digits, "
                 f"{len(study.images)} test images, seed {study.seed}", fontsize=10)
    _legend(fig, study.steps)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    paths = _save(fig, path_stem)
    plt.close(fig)
    return paths


def figure3(panels, steps, path_stem, *, n_images, seed):
    """Figure 3: ``panels`` keyed by (scale, epochs) with accuracy; rows scales, columns epochs of adversarial training."""
    plt = _pyplot()
    scales = sorted({s for s, _ in panels})
    epochs = sorted({e for _, e in panels})
    fig, axes = plt.subplots(len(scales), len(epochs), figsize=(max(3.4 * len(epochs), 11.0), 2.8 * len(scales) + 0.8),
                             sharex=True, sharey=True, squeeze=False)
    for i, s in enumerate(scales):
        for j, e in enumerate(epochs):
            panel, acc = panels[(s, e)]
            draw_panel(axes[i, j], panel, steps, f"s = {s:g}, {e} epochs (accuracy {acc:.1%})")
        axes[i, 0].set_ylabel(f"s = {s:g}\nshare of the way L(δ₀) → L(δ_T)", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("PGD step t")
    fig.suptitle(f"Escape after epochs of adversarial training (PGD inner loop and escape at r = {C.TRAINING_RATIO:g}): "
                 f"{n_images} test images, seed {seed}", fontsize=10)
    _legend(fig, steps)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    paths = _save(fig, path_stem)
    plt.close(fig)
    return paths
