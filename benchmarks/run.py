"""Benchmarks of PGD's hot path: against the machine's limit, against PyTorch autograd, memory, the suite.

Run from the repository root::

    python benchmarks/run.py            # PGD cases, torch if installed, memory; ~3 minutes on 2 cores
    python benchmarks/run.py --suite    # also the suite under the ci profile with 1 and 2 workers (~13 minutes)
    python benchmarks/run.py --suite --baseline REV  # and the suite of commit REV beside it (~6 more)
    python benchmarks/run.py --quick    # smaller repeat counts, for a smoke test
    python benchmarks/run.py --kernels  # only the few-start kernels (numpy against compiled), ~1 minute
    python benchmarks/run.py --pgd      # only the PGD cases and memory, the other sections kept
    python benchmarks/run.py --suite-only --baseline REV  # only the suite and its comparison, the rest kept
    python benchmarks/run.py --render   # rewrite BENCHMARKS.md from benchmarks/results.json

It writes ``BENCHMARKS.md`` (repository root) and ``benchmarks/results.json``.
Torch (the optional ``bench`` extra: ``pip install -e ".[bench]"``) is skipped with
a message when absent.

Method. Each (case, thread count) runs in a fresh subprocess whose BLAS is set to
that many threads (``OPENBLAS_NUM_THREADS`` etc. must be set before numpy loads).
Every figure is a median over ``REPEATS`` timed runs of ``STEPS`` PGD steps, after
one warm-up run; ratios are taken between figures of the same subprocess.

* **limit**: the irreducible work of one step on the same shapes — the two matrix
  products B×d·d×m and B×m·m×d plus one ``exp`` pass over the B×m matrix, into
  preallocated arrays — timed in the same subprocess; with several threads, the
  rows split over that many Python threads (BLAS is on one thread in every
  subprocess: numpy's ``exp`` has no threads of its own, and BLAS threads under
  Python threads would oversubscribe the cores). Targets: ≥ 70 % of the limit
  with one thread, ≥ 60 % with two, once B·m·d ≥ 1e7.
* **fused**: ``theory.pgd.pgd`` (the fused kernel of ``theory._kernel``) per step, as
  installed (with the extra ``fast`` its elementwise passes are compiled:
  ``theory._compiled_blocks``); **numpy path**: the same with ``THEORY_KERNEL=numpy``.
* **plain**: the reference step ``P_B(δ − η ∂L)`` with ``Problem.value_and_grad``.
* **torch**: what a user would write: float64 tensors, ``softplus``, the loss
  summed over the batch, ``backward()``, an in-place update and projection
  under ``no_grad``, ``torch.set_num_threads(threads)``. Target: fused ≥ 1.5 ×
  faster at every shape.
* **few starts** (section 5): the numpy kernel against the compiled one of ``theory._compiled``
  (the optional ``fast`` extra: numba) at one to 64 starts, and the compiled loops' start-up
  (first call of a process; first call with an empty numba cache).
* **memory**: peak resident memory (``ru_maxrss``) of a subprocess that runs the
  largest case, against the bytes of its arrays (W, the trajectory, the buffers).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout that is not installed
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # render.py beside this file

from render import markdown  # noqa: E402  (after the path is set)

#: (name, d, m, B): from the issue's small case to its large ones.
CASES = [
    ("small", 10, 317, 64),
    ("medium", 30, 3000, 128),
    ("large", 100, 10_000, 256),
    ("xlarge", 100, 100_000, 256),
]
#: PGD steps per timed run. A run of T steps also evaluates L at its last iterate (the forward
#: half of a step), which the per-step time includes: T is large enough that this adds at most
#: 1/12 of a step.
STEPS = {"small": 200, "medium": 40, "large": 10, "xlarge": 6}
REPEATS = 7


def _median(times):
    times = sorted(times)
    return times[len(times) // 2]


def _timeit(fn, repeats):
    fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return _median(out)


def worker(case, threads, repeats, with_torch):
    """Runs in a subprocess with BLAS set to ``threads``; prints one JSON line."""
    import numpy as np
    from concurrent.futures import ThreadPoolExecutor

    from theory.geometry import project_ball, uniform_ball
    from theory.pgd import pgd
    from theory.problem import make_problem

    name, d, m, B = next(c for c in CASES if c[0] == case)
    steps = STEPS[name]
    problem = make_problem(d, m, seed=0, ratio=0.05)
    starts = uniform_ball(1, B, d, problem.eps)
    eta = 0.01 * problem.eps
    out = {"case": name, "d": d, "m": m, "B": B, "threads": threads, "steps": steps, "work": B * m * d}

    X = problem.x + starts
    WT = np.ascontiguousarray(problem.net.W.T)
    W = np.ascontiguousarray(problem.net.W)
    Z, E, G = np.empty((B, m)), np.empty((B, m)), np.empty((B, d))

    def irreducible(lo=0, hi=B):
        np.matmul(X[lo:hi], WT, out=Z[lo:hi])
        np.exp(Z[lo:hi], out=E[lo:hi])
        np.matmul(E[lo:hi], W, out=G[lo:hi])

    if threads == 1:
        limit = _timeit(irreducible, repeats)
    else:
        pool = ThreadPoolExecutor(threads)
        cuts = np.linspace(0, B, threads + 1).astype(int)
        limit = _timeit(lambda: list(pool.map(lambda k: irreducible(cuts[k], cuts[k + 1]), range(threads))),
                        repeats)
        pool.shutdown()
    out["limit_s"] = limit
    from theory._kernel_choice import use_compiled

    # The default kernel (with the extra ``fast``, its block passes compiled), then the numpy path.
    out["compiled_passes"] = use_compiled()
    out["fused_s"] = _timeit(lambda: pgd(problem, starts, eta=eta, steps=steps, threads=threads), repeats) / steps
    os.environ["THEORY_KERNEL"] = "numpy"
    out["fused_numpy_s"] = _timeit(lambda: pgd(problem, starts, eta=eta, steps=steps, threads=threads),
                                   repeats) / steps

    def plain():
        delta = starts.copy()
        for _ in range(steps):
            _, grad = problem.value_and_grad(delta)
            delta = project_ball(delta - eta * grad, problem.eps)

    out["plain_s"] = _timeit(plain, max(1, repeats // 2)) / steps
    if with_torch:
        try:
            import torch
        except ImportError:
            out["torch_s"] = None
        else:
            torch.set_num_threads(threads)
            tW = torch.from_numpy(W.copy())  # W is read-only; torch wants a writable array
            ta = torch.from_numpy(np.ascontiguousarray(problem.net.a))
            tx = torch.from_numpy(problem.x)
            y, eps = float(problem.y), float(problem.eps)

            def torch_pgd():
                delta = torch.from_numpy(starts.copy())
                for _ in range(steps):
                    delta.requires_grad_(True)
                    f = torch.nn.functional.softplus((tx + delta) @ tW.T) @ ta
                    loss = -(y - f) ** 2
                    (grad,) = torch.autograd.grad(loss.sum(), delta)
                    with torch.no_grad():
                        delta = delta - eta * grad
                        norms = delta.norm(dim=-1, keepdim=True)
                        delta = torch.where(norms > eps, delta * (eps / norms), delta)
                return delta

            out["torch_s"] = _timeit(torch_pgd, repeats) / steps
            out["torch_version"] = torch.__version__
    return out


#: (name, d, m, B) of the few-start cases, where the compiled kernel (extra ``fast``) serves:
#: a single start at a width of the claims' checks, a wide single start, a few starts, and
#: a batch past :data:`theory._compiled.COMPILED_MAX_WORK` (the numpy kernel's side).
FEW_START_CASES = [
    ("single", 10, 200, 1),
    ("single-wide", 30, 3000, 1),
    ("few", 10, 317, 8),
    ("batch", 10, 317, 64),
    ("batch-wide", 30, 3000, 8),
]
FEW_START_STEPS = 2000


def kernel_worker(repeats):
    """Per-step time of the numpy and the compiled kernel on FEW_START_CASES, and the compiled loops' start-up.

    Both kernels are forced (``THEORY_KERNEL``; the compiled one also past its size rule),
    so that each case shows both sides of :data:`theory._compiled.COMPILED_MAX_WORK`.
    """
    start = time.perf_counter()
    import numpy as np

    from theory import _compiled
    from theory.geometry import uniform_ball
    from theory.pgd import pgd
    from theory.problem import make_problem

    if not _compiled.AVAILABLE:
        return {"missing": "numba not installed: install the optional extra (`pip install -e \".[fast]\"`)"}
    rows = []
    for k, (name, d, m, B) in enumerate(FEW_START_CASES):
        problem = make_problem(d, m, seed=0, ratio=0.05)
        starts = uniform_ball(1, B, d, problem.eps)
        steps = max(10, min(FEW_START_STEPS, int(2e7 / (B * m * d))))
        row = {"case": name, "d": d, "m": m, "B": B, "work": B * m * d, "steps": steps}
        # The limit as in section 1: the two products and one exp over B x m, with BLAS.
        X, W = problem.x + starts, np.ascontiguousarray(problem.net.W)
        WT = np.ascontiguousarray(W.T)
        Z, G = np.empty((B, m)), np.empty((B, d))

        def irreducible():
            np.matmul(X, WT, out=Z)
            np.exp(Z, out=Z)
            np.matmul(Z, W, out=G)

        row["limit_s"] = _timeit(lambda: [irreducible() for _ in range(100)], repeats) / 100
        # numpy: the numpy kernel; passes: the fused kernel with its compiled block passes (what
        # ``auto`` runs past COMPILED_MAX_WORK); compiled: the compiled loops at any size.
        for kernel, env, max_work in (("numpy", "numpy", 2 ** 62), ("passes", "auto", 0),
                                      ("compiled", "compiled", 2 ** 62)):
            os.environ["THEORY_KERNEL"] = env
            _compiled.COMPILED_MAX_WORK = max_work
            if k == 0 and kernel == "passes":  # the first compiled call of this process: import and cache load
                first = time.perf_counter()
                pgd(problem, starts, eta=0.01 * problem.eps, steps=1)
                first_call = time.perf_counter() - first
            row[f"{kernel}_s"] = _timeit(lambda: pgd(problem, starts, eta=0.01 * problem.eps, steps=steps),
                                         repeats) / steps
        rows.append(row)
    return {"cases": rows, "first_call_s": first_call, "worker_s": time.perf_counter() - start}


def compile_cost():
    """Seconds of the first compiled PGD call in a fresh process with an empty numba cache (import and compilation)."""
    import tempfile

    code = ("import time; t = time.perf_counter()\n"
            "from theory.problem import make_problem; from theory.geometry import uniform_ball\n"
            "from theory.pgd import pgd, pgd_until, output_criterion\n"
            "p = make_problem(10, 200, seed=0, ratio=0.05); s = uniform_ball(1, 1, 10, p.eps)\n"
            "t = time.perf_counter(); pgd(p, s, eta=0.01, steps=1)\n"
            "pgd_until(p, s, 0.01, output_criterion(p, 0.01), max_steps=1); print(time.perf_counter() - t)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=cache, THEORY_KERNEL="compiled",
                   OPENBLAS_NUM_THREADS="1")
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"compile-cost worker failed:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1])


def memory_worker(case):
    """Peak RSS of running the fused PGD on ``case``, against the size of its arrays."""
    import resource

    from theory.geometry import uniform_ball
    from theory._kernel import LossGradKernel
    from theory.pgd import pgd
    from theory.problem import make_problem

    name, d, m, B = next(c for c in CASES if c[0] == case)
    steps = STEPS[name]
    problem = make_problem(d, m, seed=0, ratio=0.05)
    starts = uniform_ball(1, B, d, problem.eps)
    def rss(field):
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field))

    try:  # reset the peak (Linux): the peak of make_problem's temporaries would hide PGD's
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        before = rss("VmRSS:")
        traj = pgd(problem, starts, eta=0.01 * problem.eps, steps=steps)
        peak = rss("VmHWM:")
    except OSError:  # not Linux: ru_maxrss, the peak of the whole process
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        traj = pgd(problem, starts, eta=0.01 * problem.eps, steps=steps)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    kernel = LossGradKernel(problem, B)
    arrays = {
        "W (m x d)": problem.net.W.nbytes,
        "kernel's copies of W (W and a*W in unit blocks, ordered by the sign of a)": 2 * problem.net.W.nbytes,
        "trajectory (steps+1, B, d) and losses": traj.deltas.nbytes + traj.losses.nbytes,
        "kernel buffers (units x B blocks)": sum(a.nbytes for a in kernel._buffers[0].values()),
        "one B x m float64 matrix (what a plain step allocates several of)": B * m * 8,
    }
    return {"case": name, "rss_before_pgd": before, "rss_peak": peak, "increase": peak - before, "arrays": arrays}


def _spawn(args, threads):
    # BLAS on one thread always: with several cores the fused kernel and the limit
    # split the rows over Python threads (numpy's ufuncs and BLAS release the GIL);
    # BLAS threads on top of them would oversubscribe the cores.
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    result = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"benchmark worker {args} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _kernels(repeats):
    kernels = _spawn(["--kernel-worker", "--repeats", str(repeats)], 1)
    if not kernels.get("missing"):
        kernels["compile_s"] = compile_cost()
    return kernels


def suite(workers, root=ROOT, label=None):
    """The ``ci`` suite of the checkout at ``root`` with ``workers`` xdist workers: wall time, result, per-test times.

    ``label`` names another checkout (a commit timed for comparison); its own ``theory``
    is imported (it comes first on the path), with this interpreter and its packages.
    """
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci", PYTHONPATH=str(root))
    start = time.perf_counter()
    # SIGINT back to its default: run as a background job (nohup, &), the suite would inherit
    # an ignored SIGINT, and the report command's interrupt test needs one.
    result = subprocess.run([sys.executable, "-m", "pytest", "checks", "-q", "-p", "no:cacheprovider",
                             "-n", str(workers), "--durations=0"], env=env, cwd=root, capture_output=True, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wall = time.perf_counter() - start
    lines = result.stdout.splitlines()
    calls = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[1] in ("call", "setup", "teardown") and parts[0].endswith("s"):
            try:
                calls[parts[2]] = calls.get(parts[2], 0.0) + float(parts[0][:-1])
            except ValueError:
                pass
    slow = [f"{t:.2f}s call {node}" for node, t in sorted(calls.items(), key=lambda kv: -kv[1])[:10]]
    return {"workers": workers, "wall_s": wall, "exit": result.returncode, "slowest": slow,
            "summary": lines[-1] if lines else "", "tests": calls, "label": label}


def baseline_suite(revision, workers=2):
    """:func:`suite` of this repository at ``revision`` (a clean clone in a temporary folder)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "baseline"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "checkout", "-q", revision], cwd=clone, check=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, check=True,
                                capture_output=True, text=True).stdout.strip()
        return suite(workers, clone, label=commit)


def comparison(current, baseline):
    """Wall times of both suites, and the summed test times over the tests both have."""
    common = sorted(set(current["tests"]) & set(baseline["tests"]))
    now = sum(current["tests"][t] for t in common)
    before = sum(baseline["tests"][t] for t in common)
    return {"baseline": baseline["label"], "wall_before_s": baseline["wall_s"], "wall_now_s": current["wall_s"],
            "common_tests": len(common), "common_before_s": before, "common_now_s": now,
            "tests_before": len(baseline["tests"]), "tests_now": len(current["tests"])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="store_true", help="also time the suite with 1 and 2 xdist workers")
    parser.add_argument("--baseline", metavar="REV",
                        help="with --suite: also time the suite of commit REV (2 workers, a clean clone) and compare")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and no xlarge case (smoke test)")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "THREADS"), help=argparse.SUPPRESS)
    parser.add_argument("--memory-worker", metavar="CASE", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=REPEATS, help=argparse.SUPPRESS)
    parser.add_argument("--kernel-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kernels", action="store_true",
                        help="only section 5 (numpy against the compiled kernel), merged into benchmarks/results.json")
    parser.add_argument("--pgd", action="store_true",
                        help="only sections 1, 2 and 4 (the PGD cases and memory), merged into benchmarks/results.json")
    parser.add_argument("--suite-only", action="store_true",
                        help="only the suite (with --baseline, also the comparison), merged into benchmarks/results.json")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite BENCHMARKS.md from benchmarks/results.json (no measurement)")
    args = parser.parse_args(argv)
    if args.render:
        (ROOT / "BENCHMARKS.md").write_text(markdown(json.loads((ROOT / "benchmarks" / "results.json").read_text())))
        return 0
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.repeats, True)))
        return 0
    if args.memory_worker:
        print(json.dumps(memory_worker(args.memory_worker)))
        return 0
    if args.kernel_worker:
        print(json.dumps(kernel_worker(args.repeats)))
        return 0
    if args.kernels:  # only section 5, merged into the last results
        path = ROOT / "benchmarks" / "results.json"
        results = json.loads(path.read_text())
        results["kernels"] = _kernels(args.repeats)
        path.write_text(json.dumps(results, indent=2))
        (ROOT / "BENCHMARKS.md").write_text(markdown(results))
        print(markdown(results))
        return 0
    if args.suite_only:  # the suite's section again, the rest kept
        path = ROOT / "benchmarks" / "results.json"
        results = json.loads(path.read_text())
        results["suite"] = [suite(1), suite(2)]
        if args.baseline:
            results["suite_comparison"] = comparison(results["suite"][-1], baseline_suite(args.baseline))
        path.write_text(json.dumps(results, indent=2))
        (ROOT / "BENCHMARKS.md").write_text(markdown(results))
        print(markdown(results))
        return 0
    repeats = 3 if args.quick else args.repeats
    if args.pgd:  # sections 1, 2 and 4 again, the rest kept
        path = ROOT / "benchmarks" / "results.json"
        results = json.loads(path.read_text())
        fresh = measure_pgd(args, repeats)
        results.update(fresh)
        path.write_text(json.dumps(results, indent=2))
        (ROOT / "BENCHMARKS.md").write_text(markdown(results))
        print(markdown(results))
        return 0
    results = measure_pgd(args, repeats)
    results["kernels"] = _kernels(repeats)
    if args.suite:
        results["suite"] = [suite(1), suite(2)]
        if args.baseline:
            results["suite_comparison"] = comparison(results["suite"][-1], baseline_suite(args.baseline))
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(results, indent=2))
    (ROOT / "BENCHMARKS.md").write_text(markdown(results))
    print(markdown(results))
    return 0


def measure_pgd(args, repeats):
    """Sections 1, 2 and 4: every PGD case at 1 and all threads, and the memory of the largest case."""
    from theory._kernel import default_threads

    cores = default_threads()
    torch_missing = None
    if importlib.util.find_spec("torch") is None:
        torch_missing = ("not installed: the torch columns are empty. Install the optional extra "
                         "(`pip install -e \".[bench]\"`) to compare with autograd.")
        print(f"note: PyTorch {torch_missing}", file=sys.stderr)
    cases = [c for c in CASES if not (args.quick and c[0] == "xlarge")]
    rows = []
    for name, *_ in cases:
        for threads in sorted({1, cores}):
            print(f"case {name}, {threads} thread(s) ...", file=sys.stderr, flush=True)
            rows.append(_spawn(["--worker", name, str(threads), "--repeats", str(repeats)], threads))
    memory = _spawn(["--memory-worker", cases[-1][0]], 1)
    import numpy

    return {"date": time.strftime("%Y-%m-%d"), "repeats": repeats,
            "machine": f"{platform.system()} {platform.machine()}, {cores} cores, Python "
                       f"{platform.python_version()}, numpy {numpy.__version__}",
            "pgd": rows, "memory": memory, "torch_missing": torch_missing}


if __name__ == "__main__":
    sys.exit(main())
