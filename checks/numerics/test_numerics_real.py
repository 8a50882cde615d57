"""The real-data machinery (extra ``real``): the loss, its gradient, the local maxima, the escape times, the data, the training, the studies and the command.

Skipped without torch and scikit-learn.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..support import assert_rejects
from theory.experiments.real import available
from theory.experiments.real import constants as C  # no extra needed: the settings only
from theory.testing.tolerances import FEW_OPS_RTOL, SUBNORMAL_ATOL, shifted_exp_rtol

pytestmark = pytest.mark.skipif(not available(), reason="needs the extra 'real' (torch, scikit-learn)")

if available():
    import torch

    from theory.experiments.real import data, escape, model

SEEDS = st.integers(0, 2**16)
#: Logits from moderate to far beyond the underflow of exp (margins up to 800).
LOGITS = hnp.arrays(np.float64, (3, 10), elements=st.floats(-400, 400))


def reference_cross_entropy(z, y):
    """ℓ = log(Σ_k e^{z_k − z_y}) in 400-digit arithmetic (mpmath), rounded to float64.

    The sum is 1 + (terms down to e^{-800} ≈ 1e-348) when the true class leads: with 60 digits the
    reference itself kept only 11 significant digits of ℓ = 7.6e-49 (margin 113).
    """
    import mpmath

    with mpmath.workdps(400):
        return np.array([float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v)) - mpmath.mpf(float(row[k])))
                                                       for v in row)))
                         for row, k in zip(z, y)])


# The shifts u_k = z_k − z_y round to within u|u_k| (here 256.46: 126 u relative): found by the thorough profile.
@example(z=np.array([[258.0] + [1.54011242] * 9] * 3), y=np.zeros(3, dtype=np.int64))
@example(z=np.array([[50.0] + [0.0] * 9] * 3), y=np.zeros(3, dtype=np.int64))  # torch's own formula gives exactly 0
@example(z=np.array([[111.0] + [0.0] * 9] + [[0.0] * 10] * 2), y=np.zeros(3, dtype=np.int64))  # a 60-digit reference was 38 ulps off
@given(z=LOGITS, y=hnp.arrays(np.int64, 3, elements=st.integers(0, 9)))
def test_cross_entropy_is_accurate_from_large_to_underflowing_losses(z, y):
    pytest.importorskip("mpmath")
    got = model.cross_entropy(torch.as_tensor(z), torch.as_tensor(y)).numpy()
    want = reference_cross_entropy(z, y)
    note(f"got={got}\nwant={want}")
    # A handful of correctly rounded operations on 10 terms (exp, sum, log1p): FEW_OPS_RTOL, and half a
    # subnormal spacing where the loss underflows; plus the rounded shifts u_k = z_k − z_y, which exp
    # amplifies (shifted_exp_rtol): relative u max|u_k| where the true class leads (ℓ = log1p(Σ e^{u_k})),
    # absolute u max|u_k| otherwise, where ℓ ≥ log 2.
    shifts = np.abs(z - np.take_along_axis(z, y[:, None], axis=1)).max(axis=1)
    rtol = FEW_OPS_RTOL + np.array([shifted_exp_rtol(s) for s in shifts]) / math.log(2.0)
    assert np.all(np.abs(got - want) <= rtol * np.abs(want) + SUBNORMAL_ATOL)
    assert np.all((got > 0) == (want > 0)), "a positive loss was rounded to 0"


def _problem(seed, scale, ratio):
    digits = data.load(scale)
    net = model.build(seed)
    rng = np.random.default_rng(seed)
    i = int(rng.integers(len(digits.y_test)))
    return net, digits.x_test[i:i + 1], digits.y_test[i:i + 1], data.epsilon(digits, ratio), rng


def _loss_of(net, x, y):
    def fun(p):
        flat = p.reshape(-1, p.shape[-1])
        value, _ = escape.loss_and_grad(net, np.repeat(x, len(flat), axis=0), np.repeat(y, len(flat)), flat)
        return value.reshape(p.shape[:-1])

    def grad(p):
        flat = p.reshape(-1, p.shape[-1])
        _, g = escape.loss_and_grad(net, np.repeat(x, len(flat), axis=0), np.repeat(y, len(flat)), flat)
        return g.reshape(p.shape)
    return fun, grad


@settings(max_examples=max(2, settings.default.max_examples // 10))
@given(seed=SEEDS, scale=st.sampled_from(C.SCALES), ratio=st.sampled_from((0.01, 0.1, 1.0)))
def test_gradient_of_L_agrees_with_finite_differences(seed, scale, ratio):
    from theory.testing.diffcheck import gradient_agreement

    net, x, y, eps, rng = _problem(seed, scale, ratio)
    fun, grad = _loss_of(net, x, y)
    z = rng.standard_normal((2, x[0].size)) * (eps / 8.0)
    v = rng.standard_normal(z.shape)
    v *= eps / np.linalg.norm(v, axis=1, keepdims=True)
    result = gradient_agreement(fun, grad, z, v)
    note(repr(result))
    assert result.ok, f"gradient disagrees with finite differences: {result}"


@settings(max_examples=max(2, settings.default.max_examples // 10))
@given(seed=SEEDS, scale=st.sampled_from(C.SCALES), ratio=st.sampled_from((0.01, 0.1)))
def test_local_maxima_lie_on_the_sphere_are_polished_and_no_nearby_sphere_point_is_higher(seed, scale, ratio):
    digits = data.load(scale)
    net = model.build(seed)
    images = np.arange(0, len(digits.y_test), 60)
    x, y = digits.x_test[images], digits.y_test[images]
    eps = data.epsilon(digits, ratio)
    delta, found, rel = escape.local_maxima(net, x, y, eps, seed=seed)
    assert np.allclose(np.linalg.norm(delta, axis=1), eps, rtol=1e-12)
    assert np.all(rel[found] <= C.MAXIMUM_TOLERANCE)
    value, _ = escape.loss_and_grad(net, x, y, delta)
    rng = np.random.default_rng([seed, 9])
    for _ in range(8):
        side = rng.standard_normal(delta.shape)
        side -= np.sum(side * delta, axis=1, keepdims=True) / eps**2 * delta
        side /= np.linalg.norm(side, axis=1, keepdims=True)
        near = np.cos(0.05) * delta + np.sin(0.05) * eps * side
        v_near, _ = escape.loss_and_grad(net, x, y, near)
        # Allowance: 1e4 times the relative rounding bound gamma_700 ~ 8e-14 of the logit sums (depth 512 + 144 + 9).
        assert np.all((v_near <= value + 1e-9 * np.abs(value))[found]), "a sphere point 0.05 rad away is higher"


def direct_escape_times(losses, min_drop, fraction):
    """The definition, one run at a time."""
    steps = len(losses) - 1
    out = []
    for run, least in zip(losses.T, min_drop):
        drop = run[0] - run[-1]
        t = steps + 1
        if drop > 0 and drop >= least:
            t = next((i for i, v in enumerate(run) if (run[0] - v) / drop >= fraction), steps + 1)
        out.append(t)
    return np.array(out)


@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 30), st.integers(1, 4)), elements=st.floats(-1e3, 0.0)),
       st.floats(0.0, 1e3))
def test_escape_times_follow_their_definition(losses, least):
    min_drop = np.full(losses.shape[1], least)
    got = escape.escape_times(losses, min_drop)
    want = direct_escape_times(losses, min_drop, C.ESCAPE_FRACTION)
    assert np.array_equal(got, want), (got, want)


@given(eta=st.floats(1e200, 1e308), gscale=st.floats(1e-300, 1e300), seed=SEEDS)
def test_a_pgd_step_that_overflows_lands_on_the_sphere(eta, gscale, seed):
    rng = np.random.default_rng(seed)
    delta = rng.standard_normal((2, 5)) * 0.1
    grad = rng.standard_normal((2, 5)) * gscale
    out = escape._pgd_step(delta, grad, np.array([[eta], [eta]]), 1.0)
    assert np.all(np.isfinite(out))
    assert np.all(np.linalg.norm(out, axis=1) <= 1.0 + 1e-15)


def test_digits_are_scaled_split_by_class_and_the_same_on_every_load():
    a, b = data.load(10.0), data.load(10.0)
    assert a.x_test.shape == (539, 1, 8, 8) and a.x_train.shape == (1258, 1, 8, 8)
    assert a.x_train.min() == 0.0 and a.x_train.max() == 10.0
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_train, b.y_train)
    counts = np.bincount(a.y_test, minlength=10) / np.bincount(np.concatenate([a.y_test, a.y_train]), minlength=10)
    assert np.all(np.abs(counts - data.TEST_FRACTION) < 0.01)
    assert math.isclose(data.epsilon(a, 0.1), 0.1 * a.mean_test_norm)


def test_training_is_deterministic_given_the_seed():
    digits = data.load(1.0)
    one = model.train(digits, seed=3, epochs=1, adversarial_eps=0.1)
    two = model.train(digits, seed=3, epochs=1, adversarial_eps=0.1)
    for p, q in zip(one.parameters(), two.parameters()):
        assert torch.equal(p, q)


def test_real_data_functions_reject_bad_input():
    digits = data.load(1.0)
    net = model.build(0)
    x, y = digits.x_test[:2], digits.y_test[:2]
    assert_rejects(data.load, 0.0, name="scale")
    assert_rejects(data.epsilon, digits, -1.0, name="ratio")
    assert_rejects(escape.local_maxima, net, x, y, -1.0, seed=0, name="eps")
    assert_rejects(escape.step_sizes, net, x, y, 0.1, np.zeros((2, 64)), "sign", name="convention")
    assert_rejects(model.train, digits, seed=-1, epochs=1, name="seed")
    assert_rejects(model.train_checkpoints, digits, seed=0, epochs=(), name="epochs")
    assert_rejects(model.train_checkpoints, digits, seed=0, epochs=(-1,), name="epochs")
    assert_rejects(model.train_checkpoints, digits, seed=0, epochs=(1,), adversarial_eps=0.0, name="adversarial_eps")


def test_training_from_a_given_network_leaves_it_unchanged():
    digits = data.load(1.0)
    start = model.build(1)
    before = [p.detach().clone() for p in start.parameters()]
    trained = model.train_checkpoints(digits, seed=1, epochs=(0, 1), start=start)
    assert all(torch.equal(p, q) for p, q in zip(start.parameters(), before))
    assert all(torch.equal(p, q) for p, q in zip(trained[0].parameters(), before))  # epoch 0: the start itself
    assert not all(torch.equal(p, q) for p, q in zip(trained[1].parameters(), before))


def rescaled_runs(seed, factor, convention, steps=30):
    """Escape runs at input scale 1 and at ``factor`` with the network's first layer divided by it (same function of x/s)."""
    import copy

    base, scaled = data.load(1.0), data.load(factor)
    net = model.build(seed)
    net_s = copy.deepcopy(net)
    with torch.no_grad():
        net_s[0].weight /= factor
    images = np.arange(seed % 90, len(base.y_test), 90)
    runs = []
    for n, d in ((net, base), (net_s, scaled)):
        x, y, eps = d.x_test[images], d.y_test[images], data.epsilon(d, 0.1)
        delta_max, _, _ = escape.local_maxima(n, x, y, eps, seed=seed, iterations=50)
        delta0 = escape.escape_starts(delta_max, eps, seed=seed)
        eta = escape.step_sizes(n, x, y, eps, delta0, convention)
        runs.append((delta_max, escape.escape_losses(n, x, y, eps, delta0, eta, steps=steps)))
    return runs


def check_rescaling_leaves_escape_unchanged(seed, factor, convention="scale_free"):
    (dmax_1, losses_1), (dmax_s, losses_s) = rescaled_runs(seed, factor, convention)
    # A power-of-2 factor scales every operation exactly: the equalities are bit for bit.
    assert np.array_equal(dmax_s, factor * dmax_1), "the search for local maxima is not scale-equivariant"
    assert np.array_equal(losses_s, losses_1), f"{convention} step: rescaling changed the losses along PGD"


@settings(max_examples=max(2, settings.default.max_examples // 20))
@example(seed=0, factor=0.125)
@given(seed=SEEDS, factor=st.sampled_from((0.125, 8.0, 2.0**-10)))
def test_the_scale_free_step_is_invariant_when_input_and_network_are_rescaled_together(seed, factor):
    # Why the scale-free convention makes scales comparable: on g(x/s) at input scale s it runs the same
    # trajectory (in units of ε) as on g at scale 1; what differs between the trained networks is the landscape.
    check_rescaling_leaves_escape_unchanged(seed, factor)


@pytest.mark.negative_control
def test_control_the_absolute_step_is_not_invariant_under_rescaling():
    from ..support import counterexample

    counterexample(st.tuples(SEEDS, st.sampled_from((0.125, 8.0))),
                   lambda c: check_rescaling_leaves_escape_unchanged(*c, convention="absolute") is None,
                   shrink=False, max_examples=3)


# --- the studies and the command: what they record and write --------------------------------


def test_the_escape_study_records_its_settings_images_and_one_panel_per_scale_and_ratio():
    from theory.experiments.real.study import escape_study

    images, steps = np.array([0, 5]), 4
    study = escape_study(seed=0, images=images, scales=(1.0,), ratios=(0.1, 0.3), steps=steps, epochs=1)
    assert (study.seed, study.steps, study.epochs, study.test_size) == (0, steps, 1, len(data.load(1.0).y_test))
    assert np.array_equal(study.images, images) and sorted(study.panels) == [(1.0, 0.1), (1.0, 0.3)]
    assert 0.0 <= study.accuracy[1.0] <= 1.0
    for (scale, ratio), panel in study.panels.items():
        assert (panel.scale, panel.ratio) == (scale, ratio)
        assert math.isclose(panel.eps, data.epsilon(data.load(scale), ratio))
        assert np.array_equal(panel.images, images)
        assert panel.found.shape == panel.zero_gradient.shape == (2,)
        assert sorted(panel.losses) == sorted(panel.times) == sorted(panel.first_step) == sorted(C.CONVENTIONS)
        for convention in C.CONVENTIONS:
            assert panel.losses[convention].shape == (steps + 1, 2) and panel.times[convention].shape == (2,)
    assert_rejects(escape_study, seed=-1, name="seed")


def test_by_default_the_escape_study_runs_every_test_image():
    from theory.experiments.real.study import escape_study

    study = escape_study(seed=0, scales=(1.0,), ratios=(0.1,), steps=1, epochs=1)
    assert np.array_equal(study.images, np.arange(study.test_size))
    assert study.panels[(1.0, 0.1)].found.shape == (study.test_size,)


def test_the_training_study_records_its_settings_and_one_panel_per_epoch_count_on_every_test_image():
    from theory.experiments.real.study import training_study

    study = training_study(seed=0, scales=(1.0,), epochs=(0, 1), ratio=0.1, steps=2)
    test_size = len(data.load(1.0).y_test)
    assert (study.seed, study.steps, study.ratio) == (0, 2, 0.1)
    assert np.array_equal(study.images, np.arange(test_size)) and sorted(study.panels) == [(1.0, 0), (1.0, 1)]
    for (scale, epochs), (panel, accuracy) in study.panels.items():
        assert (panel.scale, panel.ratio) == (scale, 0.1) and 0.0 <= accuracy <= 1.0
        assert math.isclose(panel.eps, data.epsilon(data.load(scale), 0.1))
        assert panel.losses[C.CONVENTIONS[0]].shape == (3, test_size)
    # Epoch 0 is the naturally trained network; one epoch of adversarial training changes it.
    zero, one = (study.panels[(1.0, e)][0].losses[C.CONVENTIONS[0]] for e in (0, 1))
    assert not np.array_equal(zero, one)
    assert_rejects(training_study, seed=-1, name="seed")


def test_the_command_runs_both_studies_on_its_images_and_writes_figures_and_tables(tmp_path, monkeypatch, capsys):
    import json as json_module

    pytest.importorskip("matplotlib")

    import theory.experiments.real.__main__ as command
    import theory.experiments.real.study as study_module

    from ..suite.report_support import synthetic_study

    study, training = synthetic_study()
    calls = {}
    monkeypatch.setattr(study_module, "escape_study", lambda **kw: calls.setdefault("escape", kw) and study)
    monkeypatch.setattr(study_module, "training_study", lambda **kw: calls.setdefault("training", kw) and training)
    summary, files = command.run(str(tmp_path / "out"), images=3, seed=2)
    chosen = command.image_subset(len(data.load(1.0).y_test), 3)
    for name in ("escape", "training"):
        assert calls[name]["seed"] == 2 and np.array_equal(calls[name]["images"], chosen)
    expected = [f"figure{k}.{ext}" for k in (2, 3) for ext in ("png", "pdf")]
    assert [f.rsplit("/", 1)[1] for f in files] == expected + ["escape.md", "escape.json"]
    assert all(f.startswith(str(tmp_path / "out")) for f in files)
    stored = json_module.loads((tmp_path / "out" / "escape.json").read_text(encoding="utf-8"))
    assert stored == json_module.loads(json_module.dumps(summary, default=float))
    monkeypatch.setattr("theory.experiments.figure1.plots_available", lambda: False)
    _, files = command.run(str(tmp_path / "bare"), images=3, seed=2)
    assert [f.rsplit("/", 1)[1] for f in files] == ["escape.md", "escape.json"]
    assert "matplotlib is not installed: figures 2 and 3 skipped (install the plots extra)" in \
        capsys.readouterr().err.splitlines()


def test_the_command_help_gives_the_default_number_of_images_as_the_test_sets_size(capsys):
    import re

    import theory.experiments.real.__main__ as command

    with pytest.raises(SystemExit):
        command.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    n_test = len(data.load(1.0).y_test)
    assert re.search(re.escape(f"--images IMAGES test images used (default: all {n_test})") + r"( -|$)", text), text


def test_the_command_line_passes_its_folder_images_and_seed_and_prints_the_table(tmp_path, monkeypatch, capsys):
    import theory.experiments.real.__main__ as command

    seen = {}

    def fake_run(out, *, images, seed):
        seen.update(out=out, images=images, seed=seed)
        folder = tmp_path / out
        folder.mkdir(exist_ok=True)
        (folder / "escape.md").write_text("the table\n", encoding="utf-8")
        return {}, [str(folder / "escape.md")]

    monkeypatch.setattr(command, "run", fake_run)
    monkeypatch.chdir(tmp_path)
    assert command.main(["--out", "given", "--images", "4", "--seed", "1"]) == 0
    assert seen == {"out": "given", "images": 4, "seed": 1}
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'given' / 'escape.md'}" in out and "the table" in out
    assert command.main([]) == 0 and seen == {"out": "real", "images": None, "seed": 0}
    assert torch.get_num_threads() == max(1, min(2, __import__("os").cpu_count() or 1))


@example(z=np.array([[0.0, 3.0] + [-1.0] * 8, [5.0] + [0.0] * 9, [0.0] * 10]), y=np.zeros(3, dtype=np.int64))
@given(z=hnp.arrays(np.float64, (3, 10), elements=st.floats(-30, 30)), y=hnp.arrays(np.int64, 3, elements=st.integers(0, 9)))
def test_the_cross_entropys_gradient_is_softmax_minus_the_true_class_in_every_row(z, y):
    # Both branches of the loss are computed for every row and one is selected; an infinity in the
    # branch not taken would give 0 * inf = nan in the gradient of the row where the true class trails.
    logits = torch.as_tensor(z).requires_grad_(True)
    (grad,) = torch.autograd.grad(model.cross_entropy(logits, torch.as_tensor(y)).sum(), logits)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    want = p / p.sum(axis=1, keepdims=True) - np.eye(10)[y]
    # softmax of logits within 60 of each other: a few roundings of terms of size <= 1.
    np.testing.assert_allclose(grad.numpy(), want, rtol=0, atol=64 * np.finfo(np.float64).eps)


def test_the_adversaries_of_adversarial_training_stay_in_the_ball_and_raise_the_loss():
    digits = data.load(1.0)
    net = model.build(0)
    x = torch.as_tensor(digits.x_test[:16])
    y = torch.as_tensor(digits.y_test[:16])
    eps = data.epsilon(digits, 0.1)
    generator = torch.Generator().manual_seed(0)
    adversaries = model.pgd_adversaries(net, x, y, eps, generator=generator)
    assert adversaries.dtype == x.dtype and adversaries.shape == x.shape
    delta = (adversaries - x).reshape(16, -1).norm(dim=1)
    assert torch.all(delta <= eps * (1 + 1e-12))
    with torch.no_grad():
        before, after = model.cross_entropy(net(x), y), model.cross_entropy(net(adversaries), y)
    assert torch.all(after >= before), "every PGD adversary raises its loss"


@pytest.mark.parametrize("seed", [0, 7])
def test_the_inner_loops_start_is_the_seeded_float64_draw_uniform_in_the_ball(seed):
    # The start, as documented: a float64 Gaussian direction from the generator, then the radius
    # eps * U^(1/d); drawn in another precision, the stream and every start would move.
    digits = data.load(1.0)
    x = torch.as_tensor(digits.x_test[:8])
    y = torch.as_tensor(digits.y_test[:8])
    eps = data.epsilon(digits, 0.1)
    start = model.pgd_adversaries(model.build(0), x, y, eps, steps=0,
                                  generator=torch.Generator().manual_seed(seed)) - x
    generator = torch.Generator().manual_seed(seed)
    g = torch.randn(x.shape, dtype=torch.float64, generator=generator)
    radius = eps * torch.rand(8, dtype=torch.float64, generator=generator) ** (1.0 / x[0].numel())
    expected = g / g.reshape(8, -1).norm(dim=1).reshape(8, 1, 1, 1) * radius.reshape(8, 1, 1, 1)
    # x + delta - x: one rounding of x's size, ~1e-16 * max|x| per entry.
    np.testing.assert_allclose(start.numpy(), expected.numpy(), rtol=0,
                               atol=8 * np.finfo(np.float64).eps * float(x.abs().max()))


def test_the_escape_progress_is_the_share_of_the_drop_and_quiet_where_the_loss_ends_infinite():
    # Columns: a drop of 4 in two steps; no drop (NaN); a loss that ends at -inf (inf / inf: NaN, no warning).
    losses = np.array([[1.0, 2.0, 1.0], [0.0, 2.0, 0.0], [-3.0, 2.0, -np.inf]])
    progress = escape.escape_progress(losses)
    np.testing.assert_array_equal(progress[:, 0], [0.0, 0.25, 1.0])
    assert np.isnan(progress[:, 1]).all()
    np.testing.assert_array_equal(progress[:2, 2], [0.0, 0.0])
    assert np.isnan(progress[2, 2])


def test_the_minimum_drop_is_its_share_of_eps_times_the_first_gradients_norm():
    grad0 = np.array([[3.0, 4.0], [0.0, 0.0], [1e-3, 0.0]])
    np.testing.assert_allclose(escape.minimum_drop(0.5, grad0, share=0.1), [0.25, 0.0, 5e-5], rtol=FEW_OPS_RTOL)
    assert_rejects(escape.minimum_drop, 0.0, grad0, name="eps")


def test_the_missing_extra_is_named_when_it_is_required(monkeypatch):
    import theory.experiments.real as real

    monkeypatch.setattr(real, "available", lambda: False)
    with pytest.raises(ModuleNotFoundError) as missing:
        real.require()
    assert str(missing.value) == real.MISSING_MESSAGE and "real" in real.MISSING_MESSAGE
