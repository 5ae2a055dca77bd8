"""Appendix 12 (errata): repair three of the articles' errors — a GAN discriminator's loss (B §4.3.1,
A §4.1, C §4.2.2), a DCGAN's output size (B §5.2.1) and a VAE's loss with its reductions (A §5.2,
C §3.1.3, C §4.1.3, C §5.2)."""

import torch
import torch.nn.functional as F

from .core import Exercise, Mistake, register

CHAPTER = "12"


def _d_loss_reference(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """−V = −E log D(x) − E log(1 − D(G(z))) = E softplus(−l_real) + E softplus(l_fake)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


register(Exercise(
    name="discriminator_loss", chapter=CHAPTER, difficulty="easy", minutes=10,
    title="the discriminator's loss, repaired",
    reference=_d_loss_reference,
    cases=lambda: [("logits all 0", (torch.zeros(3), torch.zeros(2))),
                   ("a confident, correct discriminator", (torch.tensor([6.0, 8.0]), torch.tensor([-7.0, -9.0]))),
                   ("batches of different sizes", (torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.3]))),
                   ("logits of ±200 (overflow test)", (torch.tensor([200.0, -200.0]), torch.tensor([-200.0, 200.0])))],
    hint="D maximises V = E log D(x) + E log(1 − D(G(z))), so its loss is −V; with D = σ(l), "
         "−log σ(l) = softplus(−l) and −log(1 − σ(l)) = softplus(l), which never overflow.",
    mistakes=[
        Mistake(lambda lr, lf: F.softplus(-lr).mean(),
                "that is B §4.3.1's loss, −log D(x_r) alone: D never sees a fake and learns to call everything real. "
                "Add the fake term softplus(l_fake)."),
        Mistake(lambda lr, lf: -(F.softplus(-lr).mean() + F.softplus(lf).mean()),
                "that is V itself, i.e. C §4.2.2's min_D V: minimising it rewards D for accepting fakes. "
                "D's loss is −V."),
        Mistake(lambda lr, lf: torch.sigmoid(lr).mean() + torch.sigmoid(lf).mean(),
                "that is article A's L_D (mean D(real) + mean D(fake)): no logarithms, and the real term has the "
                "wrong sign, so D learns to lower its output on real data."),
        Mistake(lambda lr, lf: -(torch.log(torch.sigmoid(lr)).mean() + torch.log(1 - torch.sigmoid(lf)).mean()),
                "the formula is right but σ(±200) rounds to 0 or 1 and the log gives inf: use softplus."),
    ],
))


def _transposed_side_reference(side: int, layers: list) -> int:
    """Side of a square map after ConvTranspose2d layers (kernel k, stride s, padding p): (n − 1)s − 2p + k each."""
    for k, s, p in layers:
        side = (side - 1) * s - 2 * p + k
    return side


register(Exercise(
    name="transposed_conv_side", chapter=CHAPTER, difficulty="medium", minutes=10,
    title="a DCGAN generator's output size",
    reference=_transposed_side_reference,
    cases=lambda: [("article B's generator from a 1×1 code", (1, [(4, 1, 0), (4, 2, 1), (4, 2, 1), (4, 2, 1)])),
                   ("a 64×64 DCGAN (one layer more)", (1, [(4, 1, 0), (4, 2, 1), (4, 2, 1), (4, 2, 1), (4, 2, 1)])),
                   ("no layers", (7, [])),
                   ("kernel 3, stride 2, padding 1", (5, [(3, 2, 1), (3, 2, 1)])),
                   ("stride 1 keeps the side when k = 2p + 1", (9, [(5, 1, 2)]))],
    hint="a transposed convolution inverts a convolution's size rule: n_out = (n_in − 1)·s − 2p + k "
         "(with no output_padding or dilation); apply it layer by layer.",
    mistakes=[
        Mistake(lambda n, layers: _conv_side(n, layers),
                "that is the size rule of an ordinary convolution, ⌊(n + 2p − k)/s⌋ + 1, which shrinks the map; "
                "a transposed convolution grows it: (n − 1)·s − 2p + k."),
        Mistake(lambda n, layers: _transposed_side_reference(n, [(k, s, 0) for k, s, _ in layers]),
                "the padding is missing: a transposed convolution's padding p removes 2p from the side."),
        Mistake(lambda n, layers: _transposed_no_minus_one(n, layers),
                "n·s overcounts: the output side is (n − 1)·s − 2p + k, since the last input position only "
                "contributes one kernel width."),
    ],
))


def _conv_side(side: int, layers: list) -> int:
    for k, s, p in layers:
        side = (side + 2 * p - k) // s + 1
    return side


def _transposed_no_minus_one(side: int, layers: list) -> int:
    for k, s, p in layers:
        side = side * s - 2 * p + k
    return side


def _neg_elbo_reference(x: torch.Tensor, x_logits: torch.Tensor, mu: torch.Tensor,
                        logvar: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of −ELBO = Σ_pixels BCE(logits, x) + ½ Σ_latent (μ² + σ² − 1 − log σ²)."""
    reconstruction = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(1)  # (B,)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)  # (B,)
    return (reconstruction + kl).mean()


def _vae_cases():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(4, 64, generator=g) > 0.5).float()
    return [("a random batch", (x, torch.randn(4, 64, generator=g), torch.randn(4, 2, generator=g),
                                torch.randn(4, 2, generator=g))),
            ("q equal to the prior (KL = 0)", (x[:2], torch.zeros(2, 64), torch.zeros(2, 2), torch.zeros(2, 2))),
            ("a narrow posterior, log σ² = −4", (x[:1], torch.randn(1, 64, generator=g), torch.ones(1, 2),
                                                 torch.full((1, 2), -4.0)))]


register(Exercise(
    name="negative_elbo", chapter=CHAPTER, difficulty="hard", minutes=15,
    title="a VAE's loss with the right sums",
    reference=_neg_elbo_reference,
    cases=_vae_cases,
    hint="the ELBO of one example SUMS the Bernoulli log-likelihood over its pixels and the Gaussian KL over its "
         "latent dimensions; average only over the batch. "
         "KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − 1 − log σ²), σ² = exp(logvar).",
    mistakes=[
        Mistake(lambda x, l, mu, lv: F.binary_cross_entropy_with_logits(l, x)
                + (0.5 * (mu**2 + lv.exp() - 1 - lv)).mean(),
                "both terms are averaged over their dimensions (article A's MSELoss + kl.mean()): relative to the "
                "ELBO this re-weights the KL by pixels/latents. Sum within an example, average over the batch."),
        Mistake(lambda x, l, mu, lv: F.binary_cross_entropy_with_logits(l, x, reduction="none").sum(1).mean()
                + (0.5 * (mu**2 - 1)).sum(1).mean(),
                "that is C §3.1.3's KL, −½Σ(1 + logvar − μ² − logvar): the log-variance cancels and σ² = exp(logvar) "
                "is missing, so nothing constrains σ."),
        Mistake(lambda x, l, mu, lv: F.binary_cross_entropy_with_logits(l, x, reduction="none").sum(1).mean()
                - (0.5 * (mu**2 + lv.exp() - 1 - lv)).sum(1).mean(),
                "the KL enters with a minus sign (as in C §4.1.3's formula): the loss is −ELBO = reconstruction "
                "NLL + KL."),
    ],
))
