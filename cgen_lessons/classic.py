"""Classic generative models, fitted by counting or by EM, with the course's interfaces.

- ``NGramLM``: character n-gram LM, smoothed recursively toward the next-lower order
  (a hierarchical Dirichlet prior, MacKay & Peto 1995):

      p_m(c | h) = (C(h, c) + β · p_{m−1}(c | h⁻)) / (C(h) + β),   p_0(c) = 1 / V,

  where h⁻ drops the oldest symbol of h. With β = kV over a uniform p_{m−1} this is add-k.
  It has the course LM interface ``model(idx, targets=None) -> (logits, loss)``.
- ``CategoricalNaiveBayes``: p(y) Π_i p(x_i | y) over discrete pixel values, Laplace smoothed.
- ``GaussianMixture``: p(x) = Σ_k π_k N(x; μ_k, Σ_k), fitted by EM; log-likelihood never decreases.
- ``HMM``: discrete hidden Markov model; forward algorithm
  α_t(j) = b_j(o_t) Σ_i α_{t−1}(i) a_ij, p(o_1..T) = Σ_j α_T(j), in log space; Baum–Welch EM.
"""

from __future__ import annotations

import math

import torch

from . import checks
from .utils import check_positive_int, check_token_ids

__all__ = ["NGramLM", "CategoricalNaiveBayes", "GaussianMixture", "HMM"]


# --------------------------------------------------------------------------- n-gram LM
class NGramLM(torch.nn.Module):
    """Character n-gram language model with hierarchical Dirichlet smoothing (see module doc)."""

    def __init__(self, vocab_size: int, n: int = 3, beta: float = 1.0):
        super().__init__()
        self.V = check_positive_int(vocab_size, "vocab_size")
        self.n = check_positive_int(n, "n")
        checks.number(beta, "beta", low=0, low_open=True)
        if self.V ** self.n >= 2**62:
            raise ValueError(f"V^n = {self.V}^{self.n} overflows the int64 context codes; use a smaller n")
        self.beta = float(beta)
        self.context_size = self.n - 1  # tokens of history it reads (see decoding.sample)
        self.vocab_size = self.V  # the course LM interface (lm.LanguageModel)
        self.fitted = False

    def _codes(self, ids: torch.Tensor, m: int) -> torch.Tensor:
        """Integer code of every window of m symbols, Σ_j ids[i+j] V^(m−1−j); (..., T − m + 1)."""
        T = ids.shape[-1]
        code = torch.zeros(ids.shape[:-1] + (T - m + 1,), dtype=torch.int64)
        for j in range(m):
            code = code * self.V + ids[..., j: T - m + 1 + j]
        return code

    def fit(self, ids: torch.Tensor) -> NGramLM:
        """Count every (context, next symbol) pair of orders 0..n−1 in a 1-D id stream."""
        check_token_ids(ids, self.V, name="ids", dims=1)
        if len(ids) <= self.n:
            raise ValueError(f"ids must be a 1-D stream longer than n = {self.n}")
        ids = ids.long()
        self.tables = []
        for m in range(self.n):  # m = context length
            target = ids[m:]  # (N − m,)
            ctx = self._codes(ids, m)[: len(target)]  # the m symbols just before each target
            joint, joint_count = torch.unique(ctx * self.V + target, return_counts=True)
            keys, key_count = torch.unique(ctx, return_counts=True)
            self.tables.append((joint, joint_count.double(), keys, key_count.double()))
        self.fitted = True
        return self

    def _context_counts(self, ctx: torch.Tensor, m: int):
        """Dense C(h, ·) of shape (N, V) and C(h) of shape (N,) for context codes ctx (N,)."""
        joint, joint_count, keys, key_count = self.tables[m]
        N = ctx.shape[0]
        lo = torch.searchsorted(joint, ctx * self.V)
        hi = torch.searchsorted(joint, ctx * self.V + self.V)
        lengths = hi - lo  # (N,)
        rows = torch.repeat_interleave(torch.arange(N), lengths)
        offsets = torch.arange(int(lengths.sum())) - torch.repeat_interleave(torch.cumsum(lengths, 0) - lengths,
                                                                             lengths)
        pos = lo[rows] + offsets
        dense = torch.zeros(N, self.V, dtype=torch.float64)
        dense[rows, joint[pos] % self.V] = joint_count[pos]
        k = torch.searchsorted(keys, ctx).clamp(max=len(keys) - 1)
        total = torch.where(keys[k] == ctx, key_count[k], torch.zeros_like(key_count[k]))
        return dense, total

    def probs(self, history: torch.Tensor) -> torch.Tensor:
        """p(· | h) for each row of ``history`` (N, L) whose last min(L, n−1) symbols are used; (N, V)."""
        if not self.fitted:
            raise ValueError("call fit(ids) before asking for probabilities")
        N, L = history.shape
        p = torch.full((N, self.V), 1.0 / self.V, dtype=torch.float64)  # p_0: uniform
        for m in range(min(L, self.n - 1) + 1):
            ctx = self._codes(history[:, L - m:], m)[:, 0] if m > 0 else torch.zeros(N, dtype=torch.int64)
            counts, total = self._context_counts(ctx, m)
            p = (counts + self.beta * p) / (total + self.beta)[:, None]
        return p

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """Course LM interface: log-probabilities as logits (B, T, V), mean NLL in nats as loss.

        Position t predicts x_{t+1} from the last min(t + 1, n − 1) symbols of idx[:, :t+1].
        """
        check_token_ids(idx, self.V)
        B, T = idx.shape
        k = self.n - 1
        logp = torch.empty(B, T, self.V, dtype=torch.float64)
        if k == 0:
            logp[:] = self.probs(idx.new_zeros(B * T, 0)).log().view(B, T, self.V)
        else:
            for t in range(min(k - 1, T)):  # the first positions have shorter histories
                logp[:, t] = self.probs(idx[:, : t + 1]).log()
            if T >= k:
                hist = idx.unfold(1, k, 1)  # (B, T − k + 1, k): window w ends at position w + k − 1
                logp[:, k - 1:] = self.probs(hist.reshape(-1, k)).log().view(B, -1, self.V)
        loss = None
        if targets is not None:
            loss = torch.nn.functional.nll_loss(logp.flatten(0, 1), targets.flatten())
        return logp, loss

    @torch.no_grad()
    def nll(self, ids: torch.Tensor, beta: float | None = None, n: int | None = None) -> float:
        """Mean −log p(x_t | x_<t) in nats over t = 1..N−1 of a 1-D stream — the value
        ``metrics.stream_nll(model, ids, rows=1)`` gives — computed from the probability of each
        *target* only (O(N) per order instead of O(N·V)), so a grid over n and β stays cheap.
        ``beta`` overrides the model's β and ``n`` ≤ the fitted order scores it as a lower-order
        model (its count tables are the first n of this one's): one fit serves a whole grid."""
        if not self.fitted:
            raise ValueError("call fit(ids) before scoring")
        check_token_ids(ids, self.V, name="ids", dims=1)
        if len(ids) < 2:
            raise ValueError("ids must be a 1-D stream of at least 2 tokens")
        beta = self.beta if beta is None else beta
        n = self.n if n is None else n
        if not (isinstance(n, int) and 1 <= n <= self.n):
            raise ValueError(f"n must be an integer in [1, {self.n}] (the fitted order), got {n!r}")
        if not (isinstance(beta, (int, float)) and beta > 0):
            raise ValueError(f"beta must be a positive number, got {beta!r}")
        ids = ids.long()
        N = len(ids)
        target = ids[1:]  # (N − 1,) the symbol at position t = 1..N−1
        p = torch.full((N - 1,), 1.0 / self.V, dtype=torch.float64)  # p_0
        for m in range(min(n - 1, N - 1) + 1):
            joint, joint_count, keys, key_count = self.tables[m]
            ctx = self._codes(ids, m)[: N - m] if m > 0 else torch.zeros(N - 1, dtype=torch.int64)
            t = slice(m - 1, None) if m > 0 else slice(None)  # targets with at least m symbols of history
            c_hc = _lookup(joint, joint_count, ctx * self.V + target[t])  # C(h, c)
            c_h = _lookup(keys, key_count, ctx)  # C(h)
            p[t] = (c_hc + beta * p[t]) / (c_h + beta)
        return -p.log().mean().item()


def _lookup(sorted_keys: torch.Tensor, counts: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    """counts[i] where sorted_keys[i] == query, else 0 (vectorised dictionary lookup)."""
    i = torch.searchsorted(sorted_keys, query).clamp(max=len(sorted_keys) - 1)
    return torch.where(sorted_keys[i] == query, counts[i], torch.zeros_like(counts[i]))


# --------------------------------------------------------------------------- naive Bayes
class CategoricalNaiveBayes:
    """Generative classifier p(x, y) = p(y) Π_d p(x_d | y) over features with values 0..n_values−1.

    Fitting is maximum likelihood with Laplace (add-α) smoothing:
    p(x_d = v | y = c) = (N_cdv + α) / (N_c + α · n_values).
    Being generative, it can also *sample* x for a chosen class.
    """

    def __init__(self, n_values: int, alpha: float = 1.0):
        self.n_values = check_positive_int(n_values, "n_values")
        self.alpha = checks.number(alpha, "alpha", low=0.0, low_open=True)

    def _check_x(self, x) -> torch.Tensor:
        """x must be an (N, D) integer tensor with values in [0, n_values): a float image would
        otherwise be cast to 0 silently, and an out-of-range value index past the tables."""
        if not isinstance(x, torch.Tensor) or x.dim() != 2:
            raise ValueError("x must be an (N, D) tensor of feature values")
        if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
            raise ValueError(f"x must hold integer feature values 0..{self.n_values - 1}, got dtype {x.dtype} "
                             "(quantise first, e.g. (images * 16).round().long())")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.n_values):
            raise ValueError(f"feature values must lie in [0, {self.n_values}), "
                             f"got min {int(x.min())}, max {int(x.max())}")
        return x.long()

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> CategoricalNaiveBayes:
        x = self._check_x(x)
        if not isinstance(y, torch.Tensor) or y.dim() != 1 or len(x) != len(y):
            raise ValueError("x must be (N, D) and y (N,) with the same N")
        if y.dtype.is_floating_point or (y.numel() and int(y.min()) < 0):
            raise ValueError("y must hold non-negative integer class labels")
        y = y.long()
        self.n_classes = int(y.max()) + 1
        class_count = torch.bincount(y, minlength=self.n_classes).double()  # (C,)
        self.log_prior = (class_count / class_count.sum()).log()  # (C,)
        onehot = torch.nn.functional.one_hot(x, self.n_values).double()  # (N, D, n_values)
        counts = torch.einsum("nc,ndv->cdv", torch.nn.functional.one_hot(y, self.n_classes).double(), onehot)
        self.log_theta = ((counts + self.alpha) / (class_count[:, None, None] + self.alpha * self.n_values)).log()
        return self

    def log_joint(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x, y = c) for every class; (N, C)."""
        D = self.log_theta.shape[1]
        x = self._check_x(x)
        if x.shape[1] != D:
            raise ValueError(f"x must have shape (N, {D})")
        lt = self.log_theta[:, torch.arange(D)[None, :], x]  # (C, N, D)
        return self.log_prior[:, None] + lt.sum(-1)  # (C, N)  then transposed below

    def predict_log_proba(self, x: torch.Tensor) -> torch.Tensor:
        joint = self.log_joint(x).T  # (N, C)
        return joint - torch.logsumexp(joint, dim=1, keepdim=True)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_joint(x).argmax(dim=0)

    def sample(self, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw x ~ p(x | y) for each requested class; (N, D) integer values."""
        probs = self.log_theta[y.long()].exp()  # (N, D, n_values)
        return torch.multinomial(probs.flatten(0, 1), 1, generator=generator).view(probs.shape[:2])


# --------------------------------------------------------------------------- Gaussian mixture
class GaussianMixture:
    """Full-covariance Gaussian mixture fitted by expectation–maximisation (float64).

    E-step: r_nk = π_k N(x_n; μ_k, Σ_k) / Σ_j π_j N(x_n; μ_j, Σ_j)
    M-step: N_k = Σ_n r_nk, π_k = N_k / N, μ_k = Σ_n r_nk x_n / N_k,
            Σ_k = Σ_n r_nk (x_n − μ_k)(x_n − μ_k)ᵀ / N_k + ε I.
    Each iteration never decreases the log-likelihood (up to the small ε I regulariser).
    """

    def __init__(self, n_components: int, reg_covar: float = 1e-6):
        self.K = check_positive_int(n_components, "n_components")
        if reg_covar < 0:
            raise ValueError(f"reg_covar must be >= 0, got {reg_covar!r}")
        self.reg_covar = float(reg_covar)
        self.weights = self.means = self.covariances = None

    def init_params(self, x: torch.Tensor, generator: torch.Generator | None = None) -> None:
        """Means at K distinct random data points, every covariance the data covariance, equal weights."""
        x = self._check_x(x, fitted=False)
        if len(torch.unique(x, dim=0)) < self.K:
            raise ValueError(f"x needs at least n_components = {self.K} distinct points, "
                             f"got {len(torch.unique(x, dim=0))} (of {len(x)})")
        idx = torch.randperm(len(x), generator=generator)[: self.K]
        self.means = x[idx].clone()  # (K, D)
        cov = torch.cov(x.T).reshape(x.shape[1], x.shape[1]) + self.reg_covar * torch.eye(x.shape[1], dtype=x.dtype)
        self.covariances = cov.expand(self.K, -1, -1).clone()  # (K, D, D)
        self.weights = torch.full((self.K,), 1.0 / self.K, dtype=x.dtype)  # (K,)

    def _check_x(self, x: torch.Tensor, fitted: bool = True) -> torch.Tensor:
        checks.tensor(x, "x", dims=2, kind="float", finite=True)
        if fitted and self.means is None:
            raise ValueError("the mixture has no parameters yet: call fit or init_params first")
        if fitted and x.shape[1] != self.means.shape[1]:
            raise ValueError(f"x has {x.shape[1]} features, the mixture {self.means.shape[1]}")
        return x.double()

    def component_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log π_k + log N(x_n; μ_k, Σ_k); (N, K)."""
        x = self._check_x(x)
        D = x.shape[1]
        L = torch.linalg.cholesky(self.covariances)  # (K, D, D)
        diff = (x[None] - self.means[:, None]).transpose(1, 2)  # (K, D, N)
        sol = torch.linalg.solve_triangular(L, diff, upper=False)  # (K, D, N)
        maha = (sol**2).sum(1)  # (K, N)
        logdet = 2 * torch.log(torch.diagonal(L, dim1=1, dim2=2)).sum(-1)  # (K,)
        log_n = -0.5 * (D * math.log(2 * math.pi) + logdet[:, None] + maha)  # (K, N)
        return (self.weights.log()[:, None] + log_n).T

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_n) = logsumexp_k (log π_k + log N(x_n; μ_k, Σ_k)); (N,)."""
        return torch.logsumexp(self.component_log_prob(x), dim=1)

    def em_step(self, x: torch.Tensor) -> float:
        """One E-step and one M-step; returns the mean log-likelihood *before* the update."""
        x = self._check_x(x)
        comp = self.component_log_prob(x)  # (N, K)
        log_px = torch.logsumexp(comp, dim=1, keepdim=True)  # (N, 1)
        r = (comp - log_px).exp()  # (N, K) responsibilities
        Nk = r.sum(0) + 10 * torch.finfo(x.dtype).eps  # (K,)
        self.weights = Nk / Nk.sum()
        self.means = (r.T @ x) / Nk[:, None]  # (K, D)
        diff = x[None] - self.means[:, None]  # (K, N, D)
        self.covariances = torch.einsum("nk,knd,kne->kde", r, diff, diff) / Nk[:, None, None]
        self.covariances += self.reg_covar * torch.eye(x.shape[1], dtype=x.dtype)
        return log_px.mean().item()

    def fit(self, x: torch.Tensor, n_iter: int = 100, generator: torch.Generator | None = None,
            init: bool = True) -> list[float]:
        """Run ``n_iter`` EM iterations; returns the mean log-likelihood after each one."""
        n_iter = check_positive_int(n_iter, "n_iter")
        if init or self.means is None:
            self.init_params(x, generator)
        x = self._check_x(x)
        history = []
        for _ in range(n_iter):
            self.em_step(x)
            history.append(self.log_prob(x).mean().item())
        return history

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """x ~ Σ_k π_k N(μ_k, Σ_k): pick k, then x = μ_k + L_k ε with L_k L_kᵀ = Σ_k; (n, D)."""
        n = check_positive_int(n, "n")
        self._check_x(self.means)
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)  # (n,)
        eps = torch.randn(n, self.means.shape[1], 1, dtype=self.means.dtype, generator=generator)
        L = torch.linalg.cholesky(self.covariances)  # (K, D, D)
        return self.means[k] + (L[k] @ eps)[..., 0]


# --------------------------------------------------------------------------- hidden Markov model
class HMM:
    """Discrete HMM with initial distribution π (S,), transitions A (S, S), emissions B (S, O).

    p(o_1..T) = Σ_{s_1..T} π_{s_1} b_{s_1}(o_1) Π_{t>1} a_{s_{t−1} s_t} b_{s_t}(o_t), computed in
    O(T S²) by the forward recursion α_1(j) = π_j b_j(o_1), α_t(j) = b_j(o_t) Σ_i α_{t−1}(i) a_ij.
    """

    def __init__(self, pi: torch.Tensor, A: torch.Tensor, B: torch.Tensor):
        pi, A, B = (torch.as_tensor(t, dtype=torch.float64) for t in (pi, A, B))
        S = pi.shape[0]
        if pi.dim() != 1 or A.shape != (S, S) or B.dim() != 2 or B.shape[0] != S:
            raise ValueError("shapes must be pi (S,), A (S, S), B (S, O)")
        for name, t in (("pi", pi), ("A", A), ("B", B)):
            if (t < 0).any() or not torch.allclose(t.sum(-1), torch.ones((), dtype=t.dtype), atol=1e-6, rtol=0):
                raise ValueError(f"{name} must be non-negative with rows summing to 1")
        self.pi, self.A, self.B = pi, A, B

    @classmethod
    def random(cls, n_states: int, n_symbols: int, generator: torch.Generator | None = None) -> HMM:
        S, O = check_positive_int(n_states, "n_states"), check_positive_int(n_symbols, "n_symbols")
        def rows(*shape):
            return torch.softmax(torch.randn(*shape, generator=generator, dtype=torch.float64), dim=-1)
        return cls(rows(S), rows(S, S), rows(S, O))

    def _check_obs(self, obs) -> torch.Tensor:
        obs = torch.as_tensor(obs)
        if obs.dtype.is_floating_point or obs.dtype == torch.bool:
            raise ValueError(f"obs must hold integer symbol ids, got dtype {obs.dtype}")
        obs = obs.long()
        if obs.dim() != 1 or len(obs) == 0:
            raise ValueError("obs must be a non-empty 1-D sequence of symbol ids")
        if int(obs.min()) < 0 or int(obs.max()) >= self.B.shape[1]:
            raise ValueError(f"obs must hold symbol ids in [0, {self.B.shape[1]}), "
                             f"got min {int(obs.min())}, max {int(obs.max())}")
        return obs

    def forward_log(self, obs) -> torch.Tensor:
        """log α_t(j) for every t and state; (T, S)."""
        obs = self._check_obs(obs)
        logA, logB = self.A.log(), self.B.log()
        log_alpha = torch.empty(len(obs), len(self.pi), dtype=torch.float64)
        log_alpha[0] = self.pi.log() + logB[:, obs[0]]
        for t in range(1, len(obs)):
            log_alpha[t] = logB[:, obs[t]] + torch.logsumexp(log_alpha[t - 1][:, None] + logA, dim=0)
        return log_alpha

    def backward_log(self, obs) -> torch.Tensor:
        """log β_t(i) = log p(o_{t+1..T} | s_t = i); (T, S)."""
        obs = self._check_obs(obs)
        logA, logB = self.A.log(), self.B.log()
        log_beta = torch.zeros(len(obs), len(self.pi), dtype=torch.float64)
        for t in range(len(obs) - 2, -1, -1):
            log_beta[t] = torch.logsumexp(logA + (logB[:, obs[t + 1]] + log_beta[t + 1])[None, :], dim=1)
        return log_beta

    def log_likelihood(self, obs) -> float:
        """log p(o_1..T) by the forward algorithm."""
        return torch.logsumexp(self.forward_log(obs)[-1], dim=0).item()

    def path_log_prob(self, states, obs) -> float:
        """log p(s_1..T, o_1..T) = log π_{s_1} + Σ_t log b_{s_t}(o_t) + Σ_{t>1} log a_{s_{t−1} s_t} of one path."""
        obs = self._check_obs(obs)
        states = torch.as_tensor(states, dtype=torch.int64)
        if states.shape != obs.shape or int(states.min()) < 0 or int(states.max()) >= len(self.pi):
            raise ValueError(f"states must be {len(obs)} state ids in [0, {len(self.pi)}), like obs")
        return (self.pi[states[0]].log() + self.B[states, obs].log().sum()
                + self.A[states[:-1], states[1:]].log().sum()).item()

    def _all_paths(self, obs):
        import itertools

        S, T = len(self.pi), len(obs)
        if S**T > 2_000_000:
            raise ValueError(f"S^T = {S}^{T} paths is too many to enumerate")
        return itertools.product(range(S), repeat=T)

    def brute_force_log_likelihood(self, obs) -> float:
        """log p(o_1..T) by summing over all S^T state paths — exponential, for checking only."""
        obs = self._check_obs(obs)
        log_joint = torch.tensor([self.path_log_prob(path, obs) for path in self._all_paths(obs)], dtype=torch.float64)
        return torch.logsumexp(log_joint, 0).item()

    def brute_force_viterbi(self, obs) -> tuple[torch.Tensor, float]:
        """argmax over all S^T state paths of log p(s, o) — exponential, for checking only."""
        obs = self._check_obs(obs)
        best = max(self._all_paths(obs), key=lambda path: self.path_log_prob(path, obs))
        return torch.tensor(best), self.path_log_prob(best, obs)

    def viterbi(self, obs) -> tuple[torch.Tensor, float]:
        """Most probable state path ŝ = argmax_s p(s, o) and log p(ŝ, o), in O(T S²).

        The forward recursion with max in place of sum, in log space:
        δ_1(j) = log π_j + log b_j(o_1),  δ_t(j) = log b_j(o_t) + max_i [δ_{t−1}(i) + log a_ij];
        the path is read backwards from argmax_j δ_T(j) through the stored argmaxes ψ_t(j).
        """
        obs = self._check_obs(obs)
        logA, logB = self.A.log(), self.B.log()
        T, S = len(obs), len(self.pi)
        delta = self.pi.log() + logB[:, obs[0]]  # (S,)
        psi = torch.zeros(T, S, dtype=torch.int64)  # ψ_t(j): best predecessor of state j at t
        for t in range(1, T):
            delta, psi[t] = (delta[:, None] + logA).max(dim=0)  # (S_prev, S) → best over S_prev
            delta = delta + logB[:, obs[t]]
        path = torch.empty(T, dtype=torch.int64)
        path[-1] = delta.argmax()
        for t in range(T - 1, 0, -1):
            path[t - 1] = psi[t, path[t]]
        return path, delta.max().item()

    def sample(self, T: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Ancestral sampling: s_1 ~ π, o_t ~ B[s_t], s_{t+1} ~ A[s_t]; returns (states, obs), each (T,)."""
        T = check_positive_int(T, "T")
        states = torch.empty(T, dtype=torch.int64)
        obs = torch.empty(T, dtype=torch.int64)
        s = torch.multinomial(self.pi, 1, generator=generator).item()
        for t in range(T):
            states[t] = s
            obs[t] = torch.multinomial(self.B[s], 1, generator=generator).item()
            s = torch.multinomial(self.A[s], 1, generator=generator).item()
        return states, obs

    def baum_welch(self, obs, n_iter: int = 20) -> list[float]:
        """EM for (π, A, B) on one sequence; returns log p(obs) before each update (non-decreasing)."""
        n_iter = check_positive_int(n_iter, "n_iter")
        obs = self._check_obs(obs)
        if len(obs) < 2:
            raise ValueError("baum_welch needs a sequence of at least 2 observations to estimate transitions")
        history = []
        onehot = torch.nn.functional.one_hot(obs, self.B.shape[1]).double()  # (T, O)
        for _ in range(n_iter):
            la, lb = self.forward_log(obs), self.backward_log(obs)
            log_p = torch.logsumexp(la[-1], 0)
            history.append(log_p.item())
            gamma = (la + lb - log_p).exp()  # (T, S) p(s_t | o)
            # ξ_t(i, j) = α_t(i) a_ij b_j(o_{t+1}) β_{t+1}(j) / p(o), summed over t
            log_xi = (la[:-1, :, None] + self.A.log()[None] + (self.B.log()[:, obs[1:]].T + lb[1:])[:, None, :] - log_p)
            xi = log_xi.exp().sum(0)  # (S, S)
            self.pi = gamma[0]
            self.A = xi / xi.sum(1, keepdim=True)
            self.B = (gamma.T @ onehot) / gamma.sum(0)[:, None]
            self.B = self.B.clamp_min(1e-300)
            self.B = self.B / self.B.sum(1, keepdim=True)
        return history
