r"""The CNN of the real-data experiments, its loss, and natural and adversarial training (torch, float64, CPU).

Architecture (softplus activations, as in the theory):

    conv 3 × 3, 1 → C1 channels, padding 1 (8 × 8) → softplus
    conv 3 × 3, C1 → C2 channels, stride 2, padding 1 (4 × 4) → softplus
    dense 16 · C2 → 10 logits

The adversarial loss is the cross-entropy ℓ(δ) = CE(g(x + δ), y); the loss PGD
minimises is L(δ) = −ℓ(δ) (the project's minimisation form). :func:`cross_entropy`
computes ℓ as log1p(Σ_{k≠y} exp(z_k − z_y)) when the true class leads, so that a
confident network's loss (e^{−40} and below) is not rounded to 0 the way
log-sum-exp minus z_y rounds it; in float32, or with the usual formula, the loss is
exactly 0 at many start points once the input scale is large.

Training is deterministic given a seed: the weights are drawn from ``torch.Generator``
seeded with it and the batches are shuffled by numpy's PCG64 from the same seed.
Adversarial training (Madry et al.) replaces each batch by its PGD adversaries
(:func:`pgd_adversaries`: L2 PGD with a uniform start in the ball and normalised
steps, the inner loop used in practice) before the weight update.
"""

from __future__ import annotations

import numpy as np

from theory._validation import check_positive_float, check_positive_int, check_seed

__all__ = ["CHANNELS", "BATCH", "LEARNING_RATE", "build", "cross_entropy", "train", "train_checkpoints", "accuracy",
           "pgd_adversaries", "INNER_STEPS", "INNER_STEP_FRACTION"]

#: Channels of the two convolutions.
CHANNELS = (16, 32)
#: Minibatch size and Adam's learning rate (one setting for every input scale).
BATCH = 64
LEARNING_RATE = 3e-3
#: Adversarial training: PGD steps per batch, and each step's length as a fraction of ε
#: (2.5 ε / steps, Madry et al.'s choice, so that the inner loop can cross the ball).
INNER_STEPS = 7
INNER_STEP_FRACTION = 2.5 / INNER_STEPS


def build(seed):
    """The CNN with weights drawn from a generator seeded with ``seed`` (float64; torch's default init)."""
    import torch
    from torch import nn

    seed = check_seed("seed", seed)
    c1, c2 = CHANNELS
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.Softplus(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.Softplus(),
            nn.Flatten(), nn.Linear(16 * c2, 10),
        ).double()
    return net


def cross_entropy(logits, labels):
    r"""ℓ = −log softmax(z)_y per row, accurate down to the underflow of exp (shape (n, 10) → (n,)).

    With u_k = z_k − z_y and m = max(0, max_k u_k): ℓ = log1p(Σ_{k≠y} e^{u_k}) when m = 0
    (the true class leads; no rounding of 1 + tiny), else m + log(e^{−m} + Σ_{k≠y} e^{u_k − m}).
    """
    import torch

    zy = logits.gather(1, labels[:, None])
    u = logits - zy
    others = torch.ones_like(u, dtype=torch.bool).scatter_(1, labels[:, None], False)
    u = torch.where(others, u, torch.full_like(u, -torch.inf))
    m = torch.clamp(u.max(dim=1).values, min=0.0)
    leads = m == 0
    s_lead = torch.exp(torch.where(leads[:, None], u, torch.full_like(u, -torch.inf))).sum(dim=1)
    shifted = torch.exp(u - m[:, None]).sum(dim=1) + torch.exp(-m)
    return torch.where(leads, torch.log1p(s_lead), m + torch.log(torch.where(leads, torch.ones_like(m), shifted)))


def accuracy(net, x, y) -> float:
    """Share of the images ``x`` (numpy, (n, 1, 8, 8)) that ``net`` classifies as ``y``."""
    import torch

    with torch.no_grad():
        pred = net(torch.as_tensor(x)).argmax(dim=1).numpy()
    return float(np.mean(pred == np.asarray(y)))


def pgd_adversaries(net, x, y, eps, *, steps=INNER_STEPS, step_fraction=INNER_STEP_FRACTION, generator=None):
    """L2 PGD adversaries x + δ of a batch (torch tensors), δ in the ball of radius ``eps``: the inner loop of adversarial training.

    The start is uniform in the ball and reproducible from ``generator``: a Gaussian direction
    ``torch.randn(x.shape, dtype=x.dtype)`` normalised per image, then the radius ``eps · U^(1/d)``
    with U = ``torch.rand(n)`` from the same generator; ``steps`` normalised steps of
    ``step_fraction · eps`` follow, each projected back onto the ball.
    """
    import torch

    n = x.shape[0]
    d = x[0].numel()
    direction = torch.randn(x.shape, dtype=x.dtype, generator=generator)
    direction = direction / direction.reshape(n, -1).norm(dim=1).reshape(n, 1, 1, 1)
    radius = eps * torch.rand(n, dtype=x.dtype, generator=generator) ** (1.0 / d)
    delta = direction * radius.reshape(n, 1, 1, 1)
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = cross_entropy(net(x + delta), y).sum()
        (grad,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            norm = grad.reshape(n, -1).norm(dim=1).clamp_min(torch.finfo(x.dtype).tiny).reshape(n, 1, 1, 1)
            delta = delta + step_fraction * eps * grad / norm
            length = delta.reshape(n, -1).norm(dim=1).reshape(n, 1, 1, 1)
            delta = delta * torch.clamp(eps / length.clamp_min(torch.finfo(x.dtype).tiny), max=1.0)
    return (x + delta).detach()


def train(digits, *, seed, epochs, adversarial_eps=None):
    """Train a fresh :func:`build` (seed) on ``digits.x_train`` for ``epochs`` epochs (Adam); returns the network.

    ``adversarial_eps``: when given, every batch is replaced by its PGD adversaries in the
    ball of that radius (adversarial training).
    """
    return train_checkpoints(digits, seed=seed, epochs=(epochs,), adversarial_eps=adversarial_eps)[epochs]


def train_checkpoints(digits, *, seed, epochs, adversarial_eps=None, start=None):
    """One training run of max(``epochs``) epochs; a copy of the network after each epoch count in ``epochs`` (dict).

    ``start``: the network training begins from (left unchanged; default: a fresh
    :func:`build` (seed)). Epoch 0 is that network, before any update.
    """
    import copy

    import torch

    seed = check_seed("seed", seed)
    epochs = sorted({check_positive_int("epochs", e, minimum=0) for e in epochs})
    if not epochs:
        raise ValueError("epochs must name at least one epoch count")
    if adversarial_eps is not None:
        adversarial_eps = check_positive_float("adversarial_eps", adversarial_eps)
    net = build(seed) if start is None else copy.deepcopy(start)
    saved = {0: copy.deepcopy(net)} if 0 in epochs else {}
    opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    rng = np.random.default_rng([seed, 1])
    gen = torch.Generator().manual_seed(seed)
    x_all = torch.as_tensor(digits.x_train)
    y_all = torch.as_tensor(digits.y_train)
    for epoch in range(1, epochs[-1] + 1):
        order = torch.as_tensor(rng.permutation(len(y_all)))
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            xb, yb = x_all[idx], y_all[idx]
            if adversarial_eps is not None:
                xb = pgd_adversaries(net, xb, yb, adversarial_eps, generator=gen)
            opt.zero_grad()
            cross_entropy(net(xb), yb).mean().backward()
            opt.step()
        if epoch in epochs:
            saved[epoch] = copy.deepcopy(net)
    return saved
