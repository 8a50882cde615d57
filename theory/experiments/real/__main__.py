r"""``python -m theory.experiments.real [--out DIR] [--images N] [--seed S]``: Figures 2 and 3 on the digits, and the escape statistics.

Writes into DIR (default ``real``): ``figure2.png``/``.pdf`` and ``figure3.png``/``.pdf``
(with matplotlib, the ``plots`` extra), ``escape.md`` and ``escape.json`` (the
tables of :mod:`theory.experiments.real.report`). ``--images N`` uses every k-th
test image so that N are used (default: all 539). Needs the ``real`` extra (torch
and scikit-learn); without it the command says so and exits with 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

__all__ = ["run", "main", "image_subset"]


def image_subset(n_test, n):
    """Indices of ``n`` test images spread evenly over the ``n_test`` (all when n >= n_test)."""
    if n >= n_test:
        return np.arange(n_test)
    return np.unique(np.linspace(0, n_test - 1, n).round().astype(int))


def run(out, *, images=None, seed=0, figures=True):
    """Run both studies, write the files into ``out``; returns (the JSON summary, the files written)."""
    from theory.experiments.real import data, require
    from theory.experiments.real.report import study_json, study_markdown
    from theory.experiments.real.study import escape_study, training_study

    require()
    os.makedirs(out, exist_ok=True)
    n_test = len(data.load(1.0).y_test)
    chosen = image_subset(n_test, n_test if images is None else images)
    study = escape_study(seed=seed, images=chosen)
    training = training_study(seed=seed, images=chosen)
    summary = study_json(study, training)
    files = []
    if figures:
        from theory.experiments.figure1 import plots_available
        if plots_available():
            from theory.experiments.real.figures import figure2, figure3
            files += figure2(study, os.path.join(out, "figure2"))
            files += figure3(training.panels, training.steps, os.path.join(out, "figure3"),
                             n_images=len(chosen), seed=seed)
        else:
            print("matplotlib is not installed: figures 2 and 3 skipped (install the plots extra)", file=sys.stderr)
    md = study_markdown(summary)
    for name, text in (("escape.md", md), ("escape.json", json.dumps(summary, indent=2, default=float))):
        path = os.path.join(out, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        files.append(path)
    return summary, files


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m theory.experiments.real", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="real", help="output folder (default: real)")
    parser.add_argument("--images", type=int, default=None, help="test images used (default: all 539)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the training and of the starts (default 0)")
    args = parser.parse_args(argv)
    if (args.images is not None and args.images < 1) or args.seed < 0:
        parser.error("--images must be >= 1 and --seed >= 0")
    from theory.experiments.real import MISSING_MESSAGE, available
    if not available():
        print(MISSING_MESSAGE, file=sys.stderr)
        return 1
    import torch
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    summary, files = run(args.out, images=args.images, seed=args.seed)
    for f in files:
        print(f"wrote {f}")
    with open(os.path.join(args.out, "escape.md"), encoding="utf-8") as fh:
        print(fh.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
