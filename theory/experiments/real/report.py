r"""The escape statistics of the real-data study as Markdown and JSON (what ``python -m theory.experiments.real`` writes).

Paired comparisons use only the images whose local-maximum search converged at
both scales (or after both epoch counts); their number is given with every row.
"""

from __future__ import annotations


from theory.experiments.real import constants as C
from theory.experiments.real.summary import paired_comparison, panel_summary
from theory.testing.statistics import proportion_ci

__all__ = ["scale_comparisons", "training_comparisons", "study_json", "study_markdown", "verdict"]


def verdict(row, alpha=C.REPORT_ALPHA) -> str:
    """'smaller scale faster', 'smaller scale slower' or 'no significant difference' at level ``alpha`` (one-sided, each way)."""
    if row["p_small_faster"] < alpha:
        return "faster"
    if row["p_small_slower"] < alpha:
        return "slower"
    return "no significant difference"


def scale_comparisons(study, small=None, large=None):
    """Per ratio and convention: the paired comparison of the smallest and the largest scale of ``study``."""
    scales = sorted({s for s, _ in study.panels})
    small = scales[0] if small is None else small
    large = scales[-1] if large is None else large
    rows = []
    for ratio in sorted({r for _, r in study.panels}):
        a, b = study.panels[(small, ratio)], study.panels[(large, ratio)]
        both = a.found & b.found
        for convention in a.times:
            row = paired_comparison(a.times[convention][both], b.times[convention][both]) if both.any() else None
            if row is not None:
                row.update(ratio=ratio, convention=convention, small=small, large=large, verdict=verdict(row))
                rows.append(row)
    return rows


def training_comparisons(training):
    """Per scale and convention: escape after the most epochs against epoch 0 (the 'smaller' side is epoch 0)."""
    rows = []
    for scale in sorted({s for s, _ in training.panels}):
        epochs = sorted({e for s, e in training.panels if s == scale})
        (a, _), (b, _) = training.panels[(scale, epochs[0])], training.panels[(scale, epochs[-1])]
        both = a.found & b.found
        for convention in a.times:
            if both.any():
                row = paired_comparison(a.times[convention][both], b.times[convention][both])
                row.update(scale=scale, convention=convention, before=epochs[0], after=epochs[-1],
                           harder=row["p_small_faster"] < C.REPORT_ALPHA,
                           easier=row["p_small_slower"] < C.REPORT_ALPHA)
                rows.append(row)
    return rows


def study_json(study, training=None):
    """Everything the Markdown shows, as plain data."""
    out = dict(seed=study.seed, images=len(study.images), steps=study.steps, epochs=study.epochs,
               test_size=study.test_size,
               accuracy={str(s): a for s, a in study.accuracy.items()},
               panels=[panel_summary(p, c, study.steps) for p in study.panels.values() for c in p.times],
               comparisons=scale_comparisons(study))
    if training is not None:
        out["training"] = dict(
            ratio=training.ratio,
            panels=[dict(panel_summary(p, c, training.steps), epochs=e, accuracy=acc)
                    for (s, e), (p, acc) in training.panels.items() for c in p.times],
            comparisons=training_comparisons(training))
    return out


def _ci(pair, fmt="{:.2f}"):
    return "[" + ", ".join(fmt.format(v) for v in pair) + "]"


def study_markdown(summary) -> str:
    """The Markdown of :func:`study_json`'s output."""
    n_test = summary["images"]
    lines = [f"# Escape from local maxima on the digits (seed {summary['seed']}, {n_test} test images, "
             f"T = {summary['steps']} steps)", "",
             "Held-out accuracy of the CNN per input scale (natural training, "
             f"{summary['epochs']} epochs; {summary['test_size']} test images; exact 95 % interval):", ""]
    n_acc = summary["test_size"]
    for s, a in summary["accuracy"].items():
        ci = _ci(proportion_ci(int(round(a * n_acc)), n_acc), "{:.1%}") if n_acc else ""
        lines.append(f"- s = {float(s):g}: {a:.1%} {ci}")
    lines += ["", "## Smaller against larger input scale (Figure 2), paired over images", "",
              f"Escape time τ: steps until L has moved {C.ESCAPE_FRACTION:g} of the way from L(δ₀) to L(δ_T) "
              f"(T + 1 if it did not escape). q = share of differing pairs where the smaller scale is slower, "
              f"exact 95 % interval; one-sided sign tests; verdict at level {C.REPORT_ALPHA:g}.", "",
              "| ratio r | convention | pairs | smaller faster | slower | ties | q | p (smaller slower) | p (smaller faster) | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in summary["comparisons"]:
        lines.append(f"| {r['ratio']:g} | {r['convention']} | {r['n']} | {r['faster']} | {r['slower']} | {r['ties']} | "
                     f"{r['q_slower']:.2f} {_ci(r['q_slower_ci'])} | {r['p_small_slower']:.2g} | "
                     f"{r['p_small_faster']:.2g} | smaller scale: {r['verdict']} |")
    lines += ["", "## Per panel", "",
              "| s | r | ε | convention | first step / ε (median) | median τ [95 % CI] | not escaped [95 % CI] | maximum found | ∂L = 0 at start |",
              "|---|---|---|---|---|---|---|---|---|"]
    for p in summary["panels"]:
        lines.append(f"| {p['scale']:g} | {p['ratio']:g} | {p['eps']:.3g} | {p['convention']} | "
                     f"{p['median_first_step']:.2g} | {p['median_time']:g} "
                     f"{_ci(p['median_time_ci'], '{:g}')} | {p['not_escaped']:.0%} {_ci(p['not_escaped_ci'], '{:.0%}')} | "
                     f"{p['found']:.0%} | {p['zero_gradient']:.0%} |")
    training = summary.get("training")
    if training:
        lines += ["", f"## Adversarial training (Figure 3), r = {training['ratio']:g}", "",
                  "| s | epochs | accuracy | convention | median τ [95 % CI] | not escaped | maximum found |",
                  "|---|---|---|---|---|---|---|"]
        for p in training["panels"]:
            lines.append(f"| {p['scale']:g} | {p['epochs']} | {p['accuracy']:.1%} | {p['convention']} | "
                         f"{p['median_time']:g} {_ci(p['median_time_ci'], '{:g}')} | {p['not_escaped']:.0%} | "
                         f"{p['found']:.0%} |")
        lines += ["", "Paired over images, after the most epochs against epoch 0 (harder = slower after training):", "",
                  "| s | convention | pairs | slower after training | faster | ties | p (harder) | p (easier) | verdict |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in training["comparisons"]:
            v = "harder" if r["harder"] else "easier" if r["easier"] else "no significant difference"
            lines.append(f"| {r['scale']:g} | {r['convention']} | {r['n']} | {r['faster']} | {r['slower']} | "
                         f"{r['ties']} | {r['p_small_faster']:.2g} | {r['p_small_slower']:.2g} | {v} |")
    return "\n".join(lines) + "\n"
