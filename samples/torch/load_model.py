"""Load a NeuralPure model file (safetensors) into PyTorch with nothing but torch.

    /usr/bin/python3 samples/torch/load_model.py runs/<folder>/model.safetensors [--rows rows.json]

`load(path)` returns (model, prepare, meta): `model` is an `nn.Sequential` in eval mode whose state dict was loaded with
`strict=True` (tensor names `0.weight`, `0.bias`, batch norm's `running_mean`/`running_var`/`num_batches_tracked` — PyTorch's own);
`prepare(raw)` standardizes raw feature rows [rows, features] as NeuralPure does (in float64, then float32) and reshapes them to
the model's example shape (e.g. [rows, 1, 28, 28]); `meta` is the file's `__metadata__`. With --rows (a JSON list of raw rows)
it prints {"logits": [...], "probabilities" or "prediction": [...]} as JSON.
"""
import json
import struct
import sys

import torch
from torch import nn


def read_safetensors(path):
    """The tensors (F32 only: NeuralPure writes nothing else) and the __metadata__ of a safetensors file."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError(f"tensor {name} is {t['dtype']}; NeuralPure model files hold F32")
        a, b = t["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(t["shape"]).clone()
    return tensors, meta


def layer(spec, x):
    """The torch module for one layer of the architecture JSON, given a sample input x (for the shapes)."""
    kind = spec["kind"]
    if kind == "dense":
        return nn.Linear(spec["in"], spec["out"])
    if kind in ("identity", "random-flip", "random-shift"):  # augmentation is the identity at inference
        return nn.Identity()
    simple = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU, "silu": nn.SiLU, "flatten": nn.Flatten}
    if kind in simple:
        return simple[kind]()
    if kind == "leaky-relu":
        return nn.LeakyReLU(spec["slope"])
    if kind == "elu":
        return nn.ELU(spec["alpha"])
    if kind == "softplus":
        return nn.Softplus(spec["beta"], spec["threshold"])
    if kind == "dropout":
        return nn.Dropout(spec["rate"])
    if kind == "log-softmax":
        return nn.LogSoftmax(dim=-1)
    if kind == "layer-norm":
        return nn.LayerNorm(list(x.shape[-spec["dims"]:]), eps=spec["eps"], elementwise_affine=spec["affine"])
    if kind == "batch-norm":
        bn = nn.BatchNorm2d if x.dim() == 4 else nn.BatchNorm1d
        return bn(spec["channels"], eps=spec["eps"], momentum=spec["momentum"], affine=spec["affine"])
    if kind == "conv2d":
        return nn.Conv2d(spec["inChannels"], spec["outChannels"], (spec["kernelH"], spec["kernelW"]), (spec["strideH"], spec["strideW"]),
                         (spec["paddingH"], spec["paddingW"]), bias=spec["bias"])
    if kind in ("maxpool2d", "avgpool2d"):
        window = dict(kernel_size=(spec["kernelH"], spec["kernelW"]), stride=(spec["strideH"], spec["strideW"]), padding=(spec["paddingH"], spec["paddingW"]))
        return nn.MaxPool2d(**window) if kind == "maxpool2d" else nn.AvgPool2d(**window, count_include_pad=spec["countIncludePad"])
    raise ValueError(f"layer kind '{kind}' has no torch counterpart in this script")


def load(path):
    tensors, meta = read_safetensors(path)
    arch = json.loads(meta["architecture"])
    shape = arch.get("inputShape", [arch["inputWidth"]])
    x = torch.zeros(2, *shape)
    modules = []
    for spec in arch["layers"]:
        m = layer(spec, x).eval()
        x = m(x)
        modules.append(m)
    model = nn.Sequential(*modules).eval()
    state = model.state_dict()
    # num_batches_tracked is an int64 buffer in torch; the file holds every tensor as F32
    model.load_state_dict({k: v.to(state[k].dtype) if k in state else v for k, v in tensors.items()}, strict=True)
    st = json.loads(meta["standardization"])
    mean, scale = torch.tensor(st["mean"], dtype=torch.float64), torch.tensor(st["scale"], dtype=torch.float64)

    def prepare(raw):
        z = ((torch.as_tensor(raw, dtype=torch.float64) - mean) / scale).to(torch.float32)
        return z.reshape(z.shape[0], *shape)

    return model, prepare, meta


def main(argv):
    model, prepare, meta = load(argv[1])
    if "--rows" not in argv:
        print(model)
        return
    with open(argv[argv.index("--rows") + 1]) as f:
        rows = json.load(f)
    with torch.no_grad():
        logits = model(prepare(rows))
    out = {"logits": logits.flatten().tolist()}
    if meta["task"] == "classification":
        out["probabilities"] = torch.softmax(logits, dim=1).flatten().tolist()
    else:
        st = json.loads(meta["standardization"])
        out["prediction"] = (logits.double() * st["targetScale"] + st["targetMean"]).flatten().tolist()
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
