"""PyTorch twin of bench_mlp.c: the same PPO minibatch update (Brax-style, as bgpbt.h runs it)
and the same single-observation policy latency, at a given thread count.

Usage: /usr/bin/python3 torch_ppo_update.py THREADS
Prints `case seconds` lines: the best of timed repeats, in process CPU time at 1 thread and
wall time at 2 (the machine is shared; bench_mlp.c measures itself the same way). Run it with the OpenMP OpenBLAS first on
LD_LIBRARY_PATH (bench_mlp.c does): see ../shared/peers/RESULTS.md for why.

The update, per minibatch of B segments of T steps (obs dim O, action dim A):
  normalise raw observations (running mean/std given), clip to +-5
  value MLP on the B x (T+1) observations, policy MLP on the B x T first ones
  GAE per segment (no grad) with termination/truncation masks and bootstrap values
  tanh-Gaussian log-prob of the stored pre-tanh actions, clipped surrogate (eps 0.3),
  0.25 * value MSE, entropy (Gaussian + tanh log-det at a fresh sample) * 0.01
  backward, one Adam step per network (lr 3e-4)."""
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None


def mlp(inp, out, layers, width):
    mods, d = [], inp
    for _ in range(layers):
        mods += [nn.Linear(d, width), nn.SiLU()]
        d = width
    mods.append(nn.Linear(d, out))
    return nn.Sequential(*mods)


class Case:
    def __init__(self, O, A, pl, pw, vl, vw, B, T):
        g = torch.Generator().manual_seed(0)
        self.O, self.A, self.B, self.T = O, A, B, T
        self.pi, self.vf = mlp(O, 2 * A, pl, pw), mlp(O, 1, vl, vw)
        self.opi = torch.optim.Adam(self.pi.parameters(), lr=3e-4)
        self.ovf = torch.optim.Adam(self.vf.parameters(), lr=3e-4)
        self.obs = torch.randn(B, T + 1, O, generator=g)
        self.mu, self.istd = torch.zeros(O), torch.ones(O)
        self.u = torch.randn(B, T, A, generator=g)
        self.logp_old = torch.randn(B, T, generator=g) - 8.0
        self.rew = torch.rand(B, T, generator=g)
        self.term = (torch.rand(B, T, generator=g) < 0.01).float()
        self.trunc = (torch.rand(B, T, generator=g) < 0.01).float() * (1 - self.term)
        self.boot = torch.randn(B, T, generator=g)

    def update(self):
        B, T, O, A = self.B, self.T, self.O, self.A
        x = ((self.obs - self.mu) * self.istd).clamp(-5.0, 5.0)
        v = self.vf(x.reshape(-1, O)).reshape(B, T + 1)
        pol = self.pi(x[:, :T].reshape(-1, O)).reshape(B, T, 2 * A)
        loc, raw = pol[..., :A], pol[..., A:]
        scale = F.softplus(raw) + 0.001
        with torch.no_grad():
            g, lam = 0.97, 0.95
            vd = v.detach()
            done = torch.clamp(self.term + self.trunc, max=1.0)
            vs = torch.empty(B, T)
            acc = torch.zeros(B)
            for t in range(T - 1, -1, -1):
                nv = torch.where(self.term[:, t] > 0, torch.zeros(B),
                                 torch.where(self.trunc[:, t] > 0, self.boot[:, t], vd[:, t + 1]))
                delta = self.rew[:, t] * 10.0 + g * nv - vd[:, t]
                acc = delta + (1 - done[:, t]) * g * lam * acc
                vs[:, t] = acc + vd[:, t]
            nvs = torch.cat([vs[:, 1:], vd[:, T:]], dim=1)
            nv = torch.where(self.term > 0, torch.zeros(B, T), torch.where(self.trunc > 0, self.boot, nvs))
            adv = self.rew * 10.0 + g * nv - vd[:, :T]
        z = (self.u - loc) / scale
        logp = (-0.5 * z * z - torch.log(scale) - 0.5 * math.log(2 * math.pi)).sum(-1)
        rho = torch.exp(logp - self.logp_old)
        surr = -torch.min(rho * adv, rho.clamp(0.7, 1.3) * adv).mean()
        vloss = 0.25 * ((vs - v[:, :T]) ** 2).mean()
        e = torch.randn_like(loc)
        xs = loc + scale * e
        ent = (0.5 + 0.5 * math.log(2 * math.pi) + torch.log(scale)).sum(-1) + \
              (2.0 * (math.log(2.0) - xs - F.softplus(-2.0 * xs))).sum(-1)
        loss = surr + vloss - 0.01 * ent.mean()
        self.opi.zero_grad(set_to_none=True)
        self.ovf.zero_grad(set_to_none=True)
        loss.backward()
        self.opi.step()
        self.ovf.step()

    def act1(self, o):
        with torch.no_grad():
            x = ((o - self.mu) * self.istd).clamp(-5.0, 5.0)
            return torch.tanh(self.pi(x)[..., :self.A])


CLOCK = time.perf_counter


def timeit(fn, min_time=0.1, repeats=10):
    fn()
    fn()
    t0, n = CLOCK(), 0
    while CLOCK() - t0 < 0.05:
        fn()
        n += 1
    per = max(1, int(min_time / ((CLOCK() - t0) / n)))
    res = []
    for _ in range(repeats):
        t0 = CLOCK()
        for _ in range(per):
            fn()
        res.append((CLOCK() - t0) / per)
    return min(res)  # best repeat: the machine is shared (bench_mlp.c does the same)


def main():
    global CLOCK
    T = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    # one thread: process CPU time (the machine is shared; bench_mlp.c does the same)
    CLOCK = time.process_time if T == 1 else time.perf_counter
    torch.set_num_threads(T)
    torch.manual_seed(0)
    ctx = threadpool_limits(limits=T, user_api="blas") if threadpool_limits else None
    if ctx:
        ctx.__enter__()
    cases = {
        "ppo_update_default": Case(87, 8, 4, 32, 5, 256, 1024, 5),
        "ppo_update_small_b256": Case(87, 8, 2, 64, 2, 64, 256, 5),
        "ppo_update_small_b1024": Case(87, 8, 2, 64, 2, 64, 1024, 5),
    }
    for name, c in cases.items():
        print(f"{name} {timeit(c.update):.6e}", flush=True)
    c = cases["ppo_update_default"]
    o = torch.randn(1, 87)
    print(f"latency_1obs_default {timeit(lambda: c.act1(o), min_time=0.1, repeats=7):.6e}", flush=True)
    c = cases["ppo_update_small_b256"]
    print(f"latency_1obs_small {timeit(lambda: c.act1(o), min_time=0.1, repeats=7):.6e}", flush=True)


if __name__ == "__main__":
    main()
