#!/usr/bin/python3
"""Generates pytorch-reference-3.json: Adamax, RAdam and NAdam trajectories on the 4-5-3 tanh MLP of
pytorch-reference-2.json's optimizer cases (full batch, mean cross-entropy, float64, torch.manual_seed(seed)).

Run with Debian's PyTorch: /usr/bin/python3 make-reference-3.py  (python3-torch 1.13.1+dfsg-4).

Adamax and RAdam come from torch.optim itself. NAdam is written out with torch float64 tensors as PyTorch >= 2.0's
_single_tensor_nadam computes it, because torch.optim.NAdam in 1.13 multiplies mu_t into its product twice
(mu_product_next = mu_product * mu * mu_next, fixed in pytorch#92699); 1.13's own result is stored beside it
under "torch_1_13" to show that the two differ.
"""
import json
import math
import sys

import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

NAMES = ["0.weight", "0.bias", "2.weight", "2.bias"]


def problem(seed):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    x = torch.randn(8, 4)
    y = torch.randint(0, 3, (8,))
    return model, x, y


def params_of(model):
    sd = model.state_dict()
    return {k: sd[k].tolist() for k in NAMES}


def loss_of(model, x, y):
    return torch.nn.functional.cross_entropy(model(x), y)


def run(seed, steps, make_step):
    """make_step(params) returns a function step(t) that updates the params in place from their .grad (t from 1)."""
    model, x, y = problem(seed)
    start = params_of(model)
    params = [dict(model.named_parameters())[k] for k in NAMES]
    step = make_step(params)
    out = []
    for t in range(1, steps + 1):
        model.zero_grad()
        loss = loss_of(model, x, y)
        loss.backward()
        extra = step(t)
        rec = {"step": t, "loss_before": loss.item(), "params": params_of(model)}
        if extra:
            rec.update(extra)
        out.append(rec)
    with torch.no_grad():
        last = loss_of(model, x, y).item()
    prob = {"seed": seed, "sizes": [4, 5, 3], "activation": "tanh", "loss": "cross_entropy", "reduction": "mean",
            "x": x.tolist(), "y": y.tolist(),
            "generation": "torch.manual_seed(seed); model = Sequential(Linear(4,5), Tanh(), Linear(5,3)) (default init); x = randn(8,4); y = randint(0,3,(8,))"}
    return prob, start, out, last


def torch_optim(cls, **kw):
    def make(params):
        opt = cls(params, **kw)

        def step(t):
            opt.step()
        return step
    return make


def radam_branches(beta2):
    rho_inf = 2 / (1 - beta2) - 1

    def make(params):
        opt = torch.optim.RAdam(params, lr=LR, betas=(0.9, beta2), weight_decay=WD[0])

        def step(t):
            opt.step()
            rho_t = rho_inf - 2 * t * (beta2 ** t) / (1 - beta2 ** t)
            return {"rho_t": rho_t, "rectified": rho_t > 5.0}
        return step
    return make


def nadam_formula(lr, beta1, beta2, eps, weight_decay, momentum_decay):
    """PyTorch >= 2.0's _single_tensor_nadam (non-capturable, non-differentiable path), in torch float64 tensors."""
    def make(params):
        st = [{"exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p), "mu_product": torch.tensor(1.0)} for p in params]

        def step(t):
            with torch.no_grad():
                for p, s in zip(params, st):
                    grad = p.grad
                    bias_correction2 = 1 - beta2 ** t
                    if weight_decay != 0:
                        grad = grad.add(p, alpha=weight_decay)
                    mu = beta1 * (1. - 0.5 * (0.96 ** (t * momentum_decay)))
                    mu_next = beta1 * (1. - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
                    s["mu_product"] *= mu
                    s["exp_avg"].lerp_(grad, 1 - beta1)
                    s["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                    denom = s["exp_avg_sq"].div(bias_correction2).sqrt()
                    mu_product_next = s["mu_product"].item() * mu_next
                    denom.add_(eps)
                    p.addcdiv_(grad, denom, value=(-lr * (1. - mu) / (1. - s["mu_product"].item())))
                    p.addcdiv_(s["exp_avg"], denom, value=(-lr * mu_next) / (1. - mu_product_next))
            return {"mu_t": mu, "mu_next": mu_next, "mu_product": st[0]["mu_product"].item()}
        return step
    return make


def max_rel_diff(a_steps, b_steps):
    worst = 0.0
    for a, b in zip(a_steps, b_steps):
        for k in NAMES:
            ta, tb = torch.tensor(a["params"][k]), torch.tensor(b["params"][k])
            worst = max(worst, ((ta - tb).abs().max() / tb.abs().max()).item())
    return worst


LR = 0.05
WD = [0.0]
STEPS = 10
cases = []


def case(name, optimizer, source, explicit, hyper, seed, make, **more):
    prob, start, steps, last = run(seed, STEPS, make)
    c = {"name": name, "optimizer": optimizer, "source": source, "explicit_hyperparameters": explicit,
         "hyperparameters": hyper, "param_groups": [{"params": NAMES, "hyperparameters": hyper}],
         "problem": prob, "start": start, "steps_count": STEPS, "steps": steps, "loss_after_last": last}
    c.update(more)
    cases.append(c)
    return c


for wd, seed_off in ((0.0, 0), (0.01, 50)):
    WD[0] = wd
    suffix = "" if wd == 0 else "_wd0.01"
    explicit = {"lr": LR} if wd == 0 else {"lr": LR, "weight_decay": wd}

    case(f"adamax_lr0.05{suffix}", "adamax", "torch.optim.Adamax (PyTorch 1.13.1)", explicit,
         {"lr": LR, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": wd}, 6101 + seed_off,
         torch_optim(torch.optim.Adamax, lr=LR, weight_decay=wd),
         note="PyTorch Adamax: g <- g + wd*p; m <- b1*m + (1-b1)*g; u <- max(b2*u, |g| + eps) (eps inside the max); p <- p - (lr/(1-b1^t)) * m/u")

    case(f"radam_lr0.05{suffix}", "radam", "torch.optim.RAdam (PyTorch 1.13.1)", explicit,
         {"lr": LR, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": wd}, 6201 + seed_off,
         radam_branches(0.999),
         note="PyTorch RAdam: g <- g + wd*p; m, v as Adam; rho_inf = 2/(1-b2) - 1; rho_t = rho_inf - 2 t b2^t/(1-b2^t); "
              "rho_t > 5: p <- p - (m/(1-b1^t)) * lr * (sqrt(1-b2^t)/(sqrt(v) + eps)) * rect, "
              "rect = sqrt((rho_t-4)(rho_t-2)rho_inf/((rho_inf-4)(rho_inf-2)rho_t)); else p <- p - (m/(1-b1^t)) * lr. "
              "Each step records rho_t and whether it was rectified: with b2 = 0.999, steps 1-5 are not, 6-10 are.")

    hyper = {"lr": LR, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": wd, "momentum_decay": 4e-3}
    c = case(f"nadam_lr0.05{suffix}", "nadam",
             "formula (PyTorch >= 2.0 _single_tensor_nadam, pytorch#92699), torch float64 tensors", explicit, hyper, 6301 + seed_off,
             nadam_formula(LR, 0.9, 0.999, 1e-8, wd, 4e-3),
             note="g <- g + wd*p; mu_t = b1(1 - 0.5*0.96^(t*psi)), mu_{t+1} likewise; mu_product <- mu_product*mu_t (starts at 1); "
                  "m <- lerp(m, g, 1-b1); v <- b2*v + (1-b2)*g^2; denom = sqrt(v/(1-b2^t)) + eps; "
                  "p <- p - lr(1-mu_t)/(1-mu_product) * g/denom; p <- p - lr*mu_{t+1}/(1-mu_product*mu_{t+1}) * m/denom",
             torch_1_13_bug="torch.optim.NAdam in 1.13 computes mu_product_next = mu_product * mu_t * mu_{t+1}, counting mu_t twice; fixed upstream in pytorch#92699 (PyTorch 2.0)")
    _, _, old_steps, old_last = run(6301 + seed_off, STEPS, torch_optim(torch.optim.NAdam, lr=LR, weight_decay=wd))
    c["torch_1_13"] = {"source": "torch.optim.NAdam (PyTorch 1.13.1), same problem and start", "steps": old_steps, "loss_after_last": old_last,
                       "max_rel_diff_vs_formula": max_rel_diff(old_steps, c["steps"])}

# Sanity: the setup reproduces pytorch-reference-2.json's (seed 5101, its adagrad case) when that file is at hand.
check = {}
try:
    ref2 = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "pytorch-reference-2.json"))
    c2 = next(c for c in ref2["optimizer_cases"] if c["name"] == "adagrad_lr0.1")
    prob, start, steps, last = run(5101, 10, torch_optim(torch.optim.Adagrad, lr=0.1))
    check = {"setup_reproduces_reference_2": prob["x"] == c2["problem"]["x"] and prob["y"] == c2["problem"]["y"] and start == c2["start"],
             "adagrad_lr0.1_trajectory_equal": [s["params"] for s in steps] == [s["params"] for s in c2["steps"]]}
    print(check, file=sys.stderr)
except FileNotFoundError:
    pass

doc = {"source": "PyTorch 1.13.1 (Debian python3-torch 1.13.1+dfsg-4; torch.__version__ reports '" + torch.__version__ + "'), CPU, float64 "
                 "(torch.set_default_dtype(torch.float64)), torch.set_num_threads(1), torch.manual_seed(seed) at the start of every run; "
                 "generated by make-reference-3.py. Adamax and RAdam by torch.optim; NAdam by PyTorch >= 2.0's formula in torch tensors (see each case's source).",
       "convention": "As pytorch-reference-2.json's optimizer cases: torch.nn.Sequential(Linear(4,5), Tanh(), Linear(5,3)), parameters '0.weight' [5,4], "
                     "'0.bias' [5], '2.weight' [3,5], '2.bias' [3], full-batch mean cross_entropy over x [8,4], integer y [8]; start = parameters before step 1; "
                     "each step: loss_before (the loss whose gradient the step uses) and params after the step. State starts at zeros (NAdam's mu_product at 1), t from 1.",
       "generator_check": check,
       "optimizer_cases": cases}
with open("pytorch-reference-3.json", "w") as f:
    json.dump(doc, f, separators=(",", ":"))
for c in cases:
    extra = f" 1.13 differs by {c['torch_1_13']['max_rel_diff_vs_formula']:.3g}" if "torch_1_13" in c else ""
    print(c["name"], c["loss_after_last"], extra)
