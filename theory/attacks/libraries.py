r"""Adapters that drive four attack libraries' L2 PGDs on the paper's network and loss (the extra ``attacks``).

Each adapter fits the protocol of :mod:`theory.attacks.protocol` and runs the library's own code:

========================  ================================================  =====================================
adapter                   the library's attack                              its step-size parameter
========================  ================================================  =====================================
:class:`TorchattacksPGDL2`  ``torchattacks.PGDL2``                              ``alpha``
:class:`ArtPGD`             ``art.attacks.evasion.ProjectedGradientDescentNumpy`` ``eps_step``
                          (``norm=2``, on an ``art.estimators.classification.PyTorchClassifier``)
:class:`FoolboxL2PGD`       ``foolbox.attacks.L2PGD``                           ``abs_stepsize``
:class:`AdvertorchL2PGD`    ``advertorch.attacks.L2PGDAttack``                  ``eps_iter``
========================  ================================================  =====================================

The network is the problem's, in float64 torch (:func:`torch_network`: the stable softplus
``logaddexp(z, 0)``); the loss is the paper's quadratic one, increased by the attacks:
ℓ = (y − f)² = −L. Libraries that take a loss function get ℓ itself (advertorch's
``loss_fn``, foolbox's ``get_loss_fn``, its documented extension point). Libraries that only
know classifiers with cross-entropy (torchattacks, ART) get an exact reformulation: the two
logits (0, g) with g = ℓ + log(1 − e^{−ℓ}) and the label 0, whose cross-entropy is
log(1 + e^g) = log(e^ℓ) = ℓ exactly (ℓ > 0; f = y exactly has probability zero), so their
gradient is ∂ℓ. (torchattacks and ART average the cross-entropy over the batch: the gradient
of row i is ∂ℓ_i / n, a positive factor that their normalised steps remove.)

How each adapter starts and steps (δ = x_adv − x; the projection is always centred at x):

* **start**: the library's random start, seeded (``torch.manual_seed``; ART draws from
  numpy's global generator, seeded and restored).
* **step from a given δ**: torchattacks has no such entry point: its random start is fed δ
  (its Gaussian draw returns δ and its uniform radius ‖δ‖/ε, so that its start
  ``δ · r/‖δ‖ · ε`` is δ) and one step is run. foolbox: a subclass whose
  ``get_random_start`` returns x + δ. advertorch: its public ``perturb_iterative`` with
  ``delta_init``. ART: its one-step routine ``FastGradientMethod._compute`` (a private
  method: ART exposes no other way to step from a given point).
* **run**: the start, then the step repeated (each library's loop body is that step).

Configuration for inputs anywhere in R^d: ART without ``clip_values``; foolbox and advertorch
with the bounds (−inf, inf), so that their clipping to the input domain never acts (advertorch
clips before it projects, so any finite box would change its projection; its start, uniform in
the box [clip_min, clip_max]^d, gets the smallest box that contains the ball); torchattacks clamps to [0, 1] unconditionally (it cannot be switched
off), so for inputs outside [0, 1]^d its iterates are not what the projection gives.

Install quirks (all measured with torch 2.13.0, CPU build): torchattacks 3.5.1 requires
torchvision, whose PyPI wheels pull another torch, but never imports it for PGDL2; it is
installed with ``--no-deps``. advertorch 0.2.3 (the last release) imports
``torch.autograd.gradcheck.zero_gradients``, removed from torch in 1.9
(BorealisAI/advertorch issue 99, open): :func:`_import_advertorch` puts torch's former
definition back before importing it. advertorch's package also imports torchvision and PIL
for its JPEG defence; torchvision's PyPI wheels do not import beside the CPU build of torch
(``operator torchvision::nms does not exist``), so where torchvision is missing a stand-in
``torchvision.transforms`` is registered (its two transforms fail when called; the attacks
never call them), and Pillow is part of the extra. ART 1.20.1 computes in float32 (``art.config.ART_NUMPY_DTYPE``),
so its adapter's ``rtol`` is :data:`theory.attacks.protocol.FLOAT32_RTOL`.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import sys

import numpy as np

from theory.attacks.protocol import FLOAT32_RTOL, FLOAT64_RTOL, L2Attack

__all__ = ["LIBRARIES", "EXPECTED", "available_attacks", "torch_network", "TorchattacksPGDL2", "ArtPGD", "FoolboxL2PGD",
           "AdvertorchL2PGD"]


@contextlib.contextmanager
def quiet():
    """The libraries' own warnings silenced (deprecations of their dependencies, device notes): they
    are not this project's, and the suite turns warnings into errors."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _quietly(method):
    """``method`` run under :func:`quiet`."""
    def wrapped(*args, **kwargs):
        with quiet():
            return method(*args, **kwargs)

    wrapped.__name__, wrapped.__doc__ = method.__name__, method.__doc__
    return wrapped


def _torch():
    import torch

    return torch


def torch_network(problem):
    """The problem's network as a float64 ``torch.nn.Module``: rows of shape (B, ...) flattened to (B, d) -> f (B,)."""
    torch = _torch()

    class Network(torch.nn.Module):
        def __init__(self):
            super().__init__()
            # Parameters (frozen), not buffers: torchattacks finds the model's device from its parameters.
            self.W = torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(problem.net.W, dtype=np.float64)),
                                        requires_grad=False)
            self.a = torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(problem.net.a, dtype=np.float64)),
                                        requires_grad=False)

        def forward(self, z):
            z = z.reshape(z.shape[0], -1).to(self.W.dtype)  # float64 even where the library passes float32
            return torch.logaddexp(z @ self.W.T, torch.zeros((), dtype=z.dtype)) @ self.a

    return Network().eval()


def _check_quadratic(problem):
    if problem.loss.name != "quadratic":
        raise ValueError(f"problem.loss must be the quadratic loss for the attack adapters, got {problem.loss.name!r}")


def _adversarial_loss(problem, f):
    """ℓ = (y − f)², the loss the attacks increase (= −L)."""
    return (problem.y - f) ** 2


def _classifier(problem):
    """Two logits (0, g(ℓ)) whose cross-entropy with label 0 is ℓ (module docstring)."""
    torch = _torch()
    net = torch_network(problem)

    class Logits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, z):
            ell = _adversarial_loss(problem, self.net(z))
            g = ell + torch.log(-torch.expm1(-ell))
            return torch.stack([torch.zeros_like(g), g], dim=1)

    return Logits().eval()


def _rows(problem, values):
    torch = _torch()
    return torch.from_numpy(np.ascontiguousarray(np.broadcast_to(values, (len(values), problem.d)), dtype=np.float64))


def _x_rows(problem, n):
    return _rows(problem, np.broadcast_to(problem.x, (n, problem.d)))


def _deltas(problem, out):
    """δ = x_adv − x as float64 numpy, shape (n, d), from the library's adversarial inputs."""
    out = out.detach().cpu().numpy() if hasattr(out, "detach") else np.asarray(out)
    out = out.reshape(out.shape[0], -1).astype(np.float64)
    return out - problem.x


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - depends on the installation
        return "unknown"


class _TorchAttack(L2Attack):
    distribution = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("start", "step"):
            if name in cls.__dict__:
                setattr(cls, name, _quietly(cls.__dict__[name]))

    @property
    def version(self):
        return _version(self.distribution)


class TorchattacksPGDL2(_TorchAttack):
    """``torchattacks.PGDL2`` (inputs shaped (n, 1, 1, d): it rescales with ``view(-1, 1, 1, 1)``)."""

    name = "torchattacks.PGDL2"
    distribution = "torchattacks"
    step_size_parameter = "alpha"
    rtol = FLOAT64_RTOL

    def _attack(self, problem, eta, steps, random_start=True):
        import torchattacks

        _check_quadratic(problem)
        model = _classifier(problem)
        return torchattacks.PGDL2(model, eps=float(problem.eps), alpha=float(eta), steps=steps,
                                  random_start=random_start)

    def _images(self, problem, n):
        return _x_rows(problem, n).reshape(n, 1, 1, problem.d)

    def start(self, problem, n, seed):
        torch = _torch()
        torch.manual_seed(seed)
        attack = self._attack(problem, problem.eps, 0)
        return _deltas(problem, attack(self._images(problem, n), torch.zeros(n, dtype=torch.long)))

    def step(self, problem, delta, eta):
        torch = _torch()
        delta = np.asarray(delta, dtype=np.float64)
        n = delta.shape[0]
        radius = np.linalg.norm(delta, axis=1) / problem.eps
        attack = self._attack(problem, eta, 1, random_start=bool(np.all(radius > 0)))
        with _fed_start(torch, delta.reshape(n, 1, 1, problem.d), radius.reshape(n, 1, 1, 1)):
            out = attack(self._images(problem, n), torch.zeros(n, dtype=torch.long))
        return _deltas(problem, out)


@contextlib.contextmanager
def _fed_start(torch, direction, radius):
    """torchattacks' random start made to return δ: its ``normal_`` draw gives δ, its ``uniform_`` ‖δ‖/ε."""
    normal, uniform = torch.Tensor.normal_, torch.Tensor.uniform_

    def fed_normal(self, *args, **kwargs):
        return self.copy_(torch.from_numpy(direction))

    def fed_uniform(self, *args, **kwargs):
        return self.copy_(torch.from_numpy(radius))

    torch.Tensor.normal_, torch.Tensor.uniform_ = fed_normal, fed_uniform
    try:
        yield
    finally:
        torch.Tensor.normal_, torch.Tensor.uniform_ = normal, uniform


class ArtPGD(_TorchAttack):
    """ART's ``ProjectedGradientDescentNumpy`` with ``norm=2`` on a ``PyTorchClassifier`` without clip values."""

    name = "art.ProjectedGradientDescentNumpy(norm=2)"
    distribution = "adversarial-robustness-toolbox"
    step_size_parameter = "eps_step"
    rtol = FLOAT32_RTOL

    def _attack(self, problem, eta, iterations=1):
        import torch
        from art.attacks.evasion import ProjectedGradientDescentNumpy
        from art.estimators.classification import PyTorchClassifier

        _check_quadratic(problem)
        classifier = PyTorchClassifier(model=_classifier(problem), loss=torch.nn.CrossEntropyLoss(),
                                       input_shape=(problem.d,), nb_classes=2, clip_values=None)
        return ProjectedGradientDescentNumpy(classifier, norm=2, eps=float(problem.eps), eps_step=float(eta),
                                             max_iter=iterations, num_random_init=1, batch_size=1 << 20,
                                             verbose=False)

    @staticmethod
    def _labels(n):
        labels = np.zeros((n, 2), dtype=np.float32)
        labels[:, 0] = 1.0
        return labels

    def start(self, problem, n, seed):
        state = np.random.get_state()
        np.random.seed(seed)
        try:
            # ART's PGD draws its start with random_sphere(n, d, eps, norm) inside _compute; an
            # iteration of step 0 would still be a step, so the draw is taken the way _compute takes it.
            attack = self._attack(problem, problem.eps)
            return _deltas(problem, attack._compute(np.broadcast_to(problem.x, (n, problem.d)).astype(np.float32),
                                                    np.broadcast_to(problem.x, (n, problem.d)).astype(np.float32),
                                                    self._labels(n), None, float(problem.eps), 1e-30,
                                                    True, True))
        finally:
            np.random.set_state(state)

    def step(self, problem, delta, eta):
        delta = np.asarray(delta, dtype=np.float64)
        n = delta.shape[0]
        x = np.broadcast_to(problem.x, (n, problem.d))
        attack = self._attack(problem, eta)
        out = attack._compute((x + delta).astype(np.float32), x.astype(np.float32), self._labels(n), None,
                              float(problem.eps), float(eta), True, False)
        return _deltas(problem, out)


def _bounds(problem):
    """No bounds: (−inf, inf), so that the libraries' clipping to the input domain never acts (inputs in R^d)."""
    return float("-inf"), float("inf")


class FoolboxL2PGD(_TorchAttack):
    """foolbox's ``L2PGD`` on a ``PyTorchModel`` with bounds that contain the ball, the loss ℓ via ``get_loss_fn``."""

    name = "foolbox.attacks.L2PGD"
    distribution = "foolbox"
    step_size_parameter = "abs_stepsize"
    rtol = FLOAT64_RTOL

    def _run(self, problem, n, eta, steps, start=None):
        import eagerpy
        import foolbox
        import torch

        _check_quadratic(problem)
        model = foolbox.PyTorchModel(torch_network(problem), bounds=_bounds(problem))
        y = float(problem.y)

        class Attack(foolbox.attacks.L2PGD):
            def get_loss_fn(self, model, labels):
                return lambda inputs: ((y - model(inputs)) ** 2).sum()

            def get_random_start(self, x0, epsilon):
                if start is None:
                    return super().get_random_start(x0, epsilon)
                return x0 + eagerpy.astensor(torch.from_numpy(start))

        attack = Attack(abs_stepsize=float(eta), steps=steps, random_start=True)
        x = _x_rows(problem, n)
        return _deltas(problem, attack.run(model, x, foolbox.criteria.Misclassification(torch.zeros(n, dtype=torch.long)),
                                           epsilon=float(problem.eps)))

    def start(self, problem, n, seed):
        _torch().manual_seed(seed)
        return self._run(problem, n, problem.eps, 0)

    def step(self, problem, delta, eta):
        delta = np.ascontiguousarray(delta, dtype=np.float64)
        return self._run(problem, delta.shape[0], eta, 1, start=delta)


def _import_advertorch():
    """advertorch, importable on torch >= 1.9: torch's former ``zero_gradients`` put back first (module docstring)."""
    import collections.abc

    import torch

    # The module, not the function torch.autograd.gradcheck that shadows it as an attribute.
    gradcheck = importlib.import_module("torch.autograd.gradcheck")
    if not hasattr(gradcheck, "zero_gradients"):
        def zero_gradients(x):  # torch 1.8's definition
            if isinstance(x, torch.Tensor):
                if x.grad is not None:
                    x.grad.detach_()
                    x.grad.zero_()
            elif isinstance(x, collections.abc.Iterable):
                for elem in x:
                    zero_gradients(elem)

        gradcheck.zero_gradients = zero_gradients
    try:
        importlib.import_module("torchvision")
    except Exception:  # missing, or a wheel that does not import beside this torch (module docstring)
        for name in [name for name in sys.modules if name == "torchvision" or name.startswith("torchvision.")]:
            del sys.modules[name]
        _stand_in_for_torchvision()
    return importlib.import_module("advertorch.attacks")


def _stand_in_for_torchvision():
    """A ``torchvision.transforms`` whose ``ToPILImage`` and ``ToTensor`` fail when used (module docstring).

    advertorch's package imports its JPEG defence, which builds both at import time; its
    attacks never use torchvision.
    """
    import types

    class Unavailable:
        def __call__(self, *args, **kwargs):
            raise ImportError("torchvision is not installed: advertorch's JPEG defence needs it")

    transforms = types.ModuleType("torchvision.transforms")
    transforms.ToPILImage = transforms.ToTensor = Unavailable
    package = types.ModuleType("torchvision")
    package.transforms = transforms
    sys.modules.setdefault("torchvision", package)
    sys.modules.setdefault("torchvision.transforms", transforms)


class AdvertorchL2PGD(_TorchAttack):
    """advertorch's ``L2PGDAttack`` with the loss ℓ as ``loss_fn`` and bounds that contain the ball."""

    name = "advertorch.attacks.L2PGDAttack"
    distribution = "advertorch"
    step_size_parameter = "eps_iter"
    rtol = FLOAT64_RTOL

    def _loss(self, problem):
        return lambda f, y: ((y - f) ** 2).sum()

    def start(self, problem, n, seed):
        torch = _torch()
        attacks = _import_advertorch()
        _check_quadratic(problem)
        torch.manual_seed(seed)
        # Its start is uniform in the box [clip_min, clip_max]^d (then projected), so it needs a finite
        # box: the smallest one that contains the ball around x.
        lo, hi = float(np.min(problem.x) - problem.eps), float(np.max(problem.x) + problem.eps)
        attack = attacks.L2PGDAttack(torch_network(problem), loss_fn=self._loss(problem), eps=float(problem.eps),
                                     nb_iter=0, eps_iter=float(problem.eps), rand_init=True, clip_min=lo, clip_max=hi)
        return _deltas(problem, attack.perturb(_x_rows(problem, n), torch.full((n,), float(problem.y),
                                                                              dtype=torch.float64)))

    def step(self, problem, delta, eta):
        torch = _torch()
        _import_advertorch()
        _check_quadratic(problem)
        delta = np.asarray(delta, dtype=np.float64)
        n = delta.shape[0]
        lo, hi = _bounds(problem)
        iterative = importlib.import_module("advertorch.attacks.iterative_projected_gradient")
        out = iterative.perturb_iterative(_x_rows(problem, n), torch.full((n,), float(problem.y), dtype=torch.float64),
                                        torch_network(problem), nb_iter=1, eps=float(problem.eps),
                                        eps_iter=float(eta), loss_fn=self._loss(problem),
                                        delta_init=torch.nn.Parameter(_rows(problem, delta)), minimize=False,
                                        ord=2, clip_min=lo, clip_max=hi)
        return _deltas(problem, out)


#: The verdicts recorded for each library (``python -m theory.conformance`` with the versions pinned in
#: requirements/attacks.lock); ``checks/conformance/test_conformance_libraries.py`` holds each library to them.
EXPECTED = {
    "torchattacks.PGDL2": {
        "uniform_start": "deviates",
        "stays_in_ball": "deviates",
        "euclidean_projection": "not applicable",
        "raw_gradient_step": "deviates",
        "ends_at_critical_point": "deviates",
        "same_optimum": "deviates",
        "avoids_delta_minus": "conforms",
    },
    "art.ProjectedGradientDescentNumpy(norm=2)": {
        "uniform_start": "conforms",
        "stays_in_ball": "conforms",
        "euclidean_projection": "conforms",
        "raw_gradient_step": "deviates",
        "ends_at_critical_point": "conforms",
        "same_optimum": "conforms",
        "avoids_delta_minus": "conforms",
    },
    "foolbox.attacks.L2PGD": {
        "uniform_start": "conforms",
        "stays_in_ball": "conforms",
        "euclidean_projection": "conforms",
        "raw_gradient_step": "deviates",
        "ends_at_critical_point": "conforms",
        "same_optimum": "conforms",
        "avoids_delta_minus": "conforms",
    },
    "advertorch.attacks.L2PGDAttack": {
        "uniform_start": "deviates",
        "stays_in_ball": "conforms",
        "euclidean_projection": "conforms",
        "raw_gradient_step": "deviates",
        "ends_at_critical_point": "conforms",
        "same_optimum": "conforms",
        "avoids_delta_minus": "conforms",
    },
}


#: The adapters, by the module each needs.
LIBRARIES = {"torchattacks": TorchattacksPGDL2, "art": ArtPGD, "foolbox": FoolboxL2PGD,
             "advertorch": AdvertorchL2PGD}


def available_attacks():
    """``(attacks, missing)``: an adapter per importable library, and for each other one why it cannot run."""
    attacks, missing = [], {}
    try:
        _torch()
    except ImportError as error:
        return [], {name: f"torch is not installed ({error}); install the extra: pip install -e \".[attacks]\""
                    for name in LIBRARIES}
    for module, adapter in LIBRARIES.items():
        try:
            with quiet():
                _import_advertorch() if module == "advertorch" else importlib.import_module(module)
        except Exception as error:  # an import that fails for any reason is reported, not raised
            missing[module] = f"{type(error).__name__}: {error}"
        else:
            attacks.append(adapter())
    return attacks, missing

