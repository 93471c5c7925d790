# Generates pytorch-reference-rmsprop.json: torch.optim.RMSprop trajectories (centred with momentum, and with weight decay)
# on the problem of pytorch-reference-2.json's optimizer cases (Sequential(Linear(4,5), Tanh(), Linear(5,3)), full batch,
# mean cross-entropy, float64). Run with Debian's python3-torch 1.13.1: /usr/bin/python3 make-reference-rmsprop.py
import json, torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

def case(name, seed, steps, **hp):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    x = torch.randn(8, 4)
    y = torch.randint(0, 3, (8,))
    params = lambda: {k: v.detach().tolist() for k, v in model.state_dict().items()}
    start = params()
    opt = torch.optim.RMSprop(model.parameters(), **hp)
    out = []
    for t in range(1, steps + 1):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        out.append({"step": t, "loss_before": loss.item(), "params": params()})
    final = torch.nn.functional.cross_entropy(model(x), y).item()
    resolved = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    return {"name": name, "optimizer": "rmsprop", "source": f"torch.optim.RMSprop (PyTorch {torch.__version__})",
            "explicit_hyperparameters": hp, "hyperparameters": {k: resolved[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")},
            "problem": {"seed": seed, "sizes": [4, 5, 3], "activation": "tanh", "loss": "cross_entropy", "reduction": "mean",
                        "x": x.tolist(), "y": y.tolist(),
                        "generation": "torch.manual_seed(seed); model = Sequential(Linear(4,5), Tanh(), Linear(5,3)) (default init); x = randn(8,4); y = randint(0,3,(8,))"},
            "start": start, "steps_count": steps, "steps": out, "loss_after_last": final}

cases = [case("rmsprop_centered_momentum0.9_lr0.01", 5311, 10, lr=0.01, momentum=0.9, centered=True),
         case("rmsprop_momentum0.5_wd0.01_lr0.01", 5312, 10, lr=0.01, momentum=0.5, weight_decay=0.01)]
with open("pytorch-reference-rmsprop.json", "w") as f:
    json.dump({"source": f"PyTorch {torch.__version__} (Debian python3-torch 1.13.1), CPU, float64, 1 thread",
               "convention": "as pytorch-reference-2.json's optimizer_cases", "optimizer_cases": cases}, f)
