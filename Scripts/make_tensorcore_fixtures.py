#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for the TensorCore tests.

Run by hand from the repository root:

    python3 Scripts/make_tensorcore_fixtures.py

Requires `pip install torch numpy`. Writes one JSON file per op into
Tests/TensorCoreTests/Fixtures/. All forward/backward math is done in
torch.float32 with autograd; every fixture is seeded, so re-running produces
byte-identical files (on the same torch build).

File format (every file):
    {"op": "<name>", "params": {...scalars...},
     "tensors": {"<name>": {"shape": [...], "data": [flat row-major numbers]}, ...}}
Float data are float32 values written exactly (as the Python float of the
float32). Integer tensors (ids, targets, positions, masks) are written as ints.
Gradient of input `x` is `grad_x`; upstream gradients are `dy` (or as named);
the backward loss is always sum(y * dy) (summed over outputs when several).
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "Tests", "TensorCoreTests", "Fixtures")

DTYPE = torch.float32


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def seed(s):
    torch.manual_seed(s)


def randn(*shape, scale=1.0, requires_grad=False):
    t = (torch.randn(*shape, dtype=DTYPE) * scale).detach()
    t.requires_grad_(requires_grad)
    return t


def enc(t):
    """Encode a tensor (or array / list) as {"shape", "data"}."""
    if not isinstance(t, torch.Tensor):
        t = torch.as_tensor(np.asarray(t))
    t = t.detach().cpu()
    shape = list(t.shape)
    if t.dtype.is_floating_point:
        data = t.to(torch.float32).flatten().tolist()
        for v in data:
            if not math.isfinite(v):
                raise ValueError("non-finite value in fixture tensor")
        # tolist() of a float32 tensor gives the exact float32 values as Python floats
        data = [float(np.float32(v)) for v in data]
    elif t.dtype == torch.bool:
        data = [int(v) for v in t.flatten().tolist()]
    else:
        data = [int(v) for v in t.flatten().tolist()]
    return {"shape": shape, "data": data}


def write(name, op, params, tensors):
    """Write one fixture file; one tensor per line for readable diffs."""
    path = os.path.join(OUT_DIR, name)
    lines = ["{"]
    lines.append('"op": %s,' % json.dumps(op))
    lines.append('"params": %s,' % json.dumps(params, sort_keys=True))
    lines.append('"tensors": {')
    items = list(tensors.items())
    for i, (k, v) in enumerate(items):
        body = json.dumps(enc(v), separators=(",", ":"))
        sep = "," if i + 1 < len(items) else ""
        lines.append("%s: %s%s" % (json.dumps(k), body, sep))
    lines.append("}")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # sanity: valid JSON
    with open(path, "w") as f:
        f.write(text)
    return path


def grads_of(loss, inputs):
    return torch.autograd.grad(loss, inputs)


# --------------------------------------------------------------------------
# 1. matmul (plus NT / TN transposed variants)
# --------------------------------------------------------------------------

def make_matmul():
    seed(1001)
    t = {}

    a = randn(2, 3, 5, requires_grad=True)
    b = randn(2, 5, 4, requires_grad=True)
    y = a @ b
    dy = randn(*y.shape)
    ga, gb = grads_of((y * dy).sum(), [a, b])
    t.update(a=a, b=b, y=y, dy=dy, grad_a=ga, grad_b=gb)

    a = randn(2, 3, 5, requires_grad=True)
    b = randn(2, 4, 5, requires_grad=True)
    y = a @ b.transpose(-1, -2)
    dy = randn(*y.shape)
    ga, gb = grads_of((y * dy).sum(), [a, b])
    t.update(nt_a=a, nt_b=b, nt_y=y, nt_dy=dy, nt_grad_a=ga, nt_grad_b=gb)

    a = randn(2, 5, 3, requires_grad=True)
    b = randn(2, 5, 4, requires_grad=True)
    y = a.transpose(-1, -2) @ b
    dy = randn(*y.shape)
    ga, gb = grads_of((y * dy).sum(), [a, b])
    t.update(tn_a=a, tn_b=b, tn_y=y, tn_dy=dy, tn_grad_a=ga, tn_grad_b=gb)

    return write("matmul.json", "matmul", {}, t)


# --------------------------------------------------------------------------
# 2. linear
# --------------------------------------------------------------------------

def make_linear():
    seed(1002)
    x = randn(6, 7, requires_grad=True)
    w = randn(5, 7, requires_grad=True)
    bias = randn(5, requires_grad=True)
    y = F.linear(x, w, bias)
    dy = randn(*y.shape)
    gx, gw, gb = grads_of((y * dy).sum(), [x, w, bias])
    return write("linear.json", "linear", {}, dict(
        x=x, w=w, bias=bias, y=y, dy=dy, grad_x=gx, grad_w=gw, grad_bias=gb))


# --------------------------------------------------------------------------
# 3. rmsnorm (Hugging Face LlamaRMSNorm)
# --------------------------------------------------------------------------

def llama_rmsnorm(x, w, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    h = x * torch.rsqrt(variance + eps)
    return w * h


def make_rmsnorm():
    seed(1003)
    eps = 1e-6
    x = randn(3, 4, 16, requires_grad=True)
    w = (1.0 + 0.1 * randn(16)).detach().requires_grad_(True)
    y = llama_rmsnorm(x, w, eps)
    dy = randn(*y.shape)
    gx, gw = grads_of((y * dy).sum(), [x, w])
    return write("rmsnorm.json", "rmsnorm", {"eps": eps}, dict(
        x=x, w=w, y=y, dy=dy, grad_x=gx, grad_w=gw))


# --------------------------------------------------------------------------
# 4. rope (HF rotate-half convention), layout (B, T, H, D)
# --------------------------------------------------------------------------

def rotate_half(x):
    d = x.shape[-1] // 2
    return torch.cat((-x[..., d:], x[..., :d]), dim=-1)


def apply_rope(x, positions, theta):
    D = x.shape[-1]
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    freqs = positions[..., None].float() * inv_freq            # (B, T, D/2)
    emb = torch.cat((freqs, freqs), dim=-1)                    # (B, T, D)
    cos = emb.cos()[:, :, None, :]                             # broadcast over heads
    sin = emb.sin()[:, :, None, :]
    return x * cos + rotate_half(x) * sin


def make_rope():
    seed(1004)
    theta = 10000.0
    B, T, H, D = 2, 5, 3, 8
    x = randn(B, T, H, D, requires_grad=True)
    positions = torch.tensor([[0, 1, 2, 3, 4], [0, 0, 0, 1, 2]], dtype=torch.int64)
    y = apply_rope(x, positions, theta)
    dy = randn(*y.shape)
    (gx,) = grads_of((y * dy).sum(), [x])
    return write("rope.json", "rope", {"theta": theta}, dict(
        x=x, positions=positions, y=y, dy=dy, grad_x=gx))


# --------------------------------------------------------------------------
# 5. attention (causal GQA, key padding mask, optional additive bias)
# --------------------------------------------------------------------------

def attention(q, k, v, key_mask, bias=None):
    """q: (B,T,H,D); k,v: (B,T,Hkv,D); key_mask: (B,T) ints; bias: (B,H,T,T).

    Fully masked query rows produce p = 0 (output 0, zero gradients), no NaNs.
    """
    B, T, H, D = q.shape
    Hkv = k.shape[2]
    rep = H // Hkv
    qh = q.transpose(1, 2)                                       # (B,H,T,D)
    kh = k.transpose(1, 2).repeat_interleave(rep, dim=1)         # (B,H,T,D)
    vh = v.transpose(1, 2).repeat_interleave(rep, dim=1)
    scale = 1.0 / math.sqrt(D)
    scores = (qh @ kh.transpose(-1, -2)) * scale                 # (B,H,T,T)
    if bias is not None:
        scores = scores + bias
    causal = torch.ones(T, T, dtype=torch.bool).tril()           # j <= i
    allowed = causal[None, None, :, :] & (key_mask[:, None, None, :] == 1)
    allowed = allowed.expand(B, H, T, T)                         # (B,H,T,T)
    neg = torch.full_like(scores, -1e30)
    masked = torch.where(allowed, scores, neg)
    p = torch.softmax(masked, dim=-1) * allowed.to(scores.dtype)
    out = p @ vh                                                 # (B,H,T,D)
    return out.transpose(1, 2), allowed                          # (B,T,H,D)


def check_attention_against_sdpa(q, k, v, key_mask, out, allowed, bias=None):
    """Cross-check rows that have at least one allowed key against torch SDPA."""
    T = q.shape[1]
    with torch.no_grad():
        m = torch.zeros(allowed.shape, dtype=DTYPE).masked_fill(~allowed, float("-inf"))
        if bias is not None:
            m = m + bias
        ref = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
            attn_mask=m, enable_gqa=True).transpose(1, 2)
        row_ok = allowed.any(-1).transpose(1, 2)                 # (B,T,H)
        assert (~row_ok).any(), "fixture should contain fully masked rows"
        diff = (ref - out).abs()[row_ok].max().item()
        if not diff < 1e-5:
            raise AssertionError("attention mismatch vs SDPA: %g" % diff)
        dead = out[~row_ok]
        if dead.numel() and dead.abs().max().item() != 0.0:
            raise AssertionError("fully masked rows must be zero")


def make_attention():
    seed(1005)
    B, T, H, Hkv, D = 2, 6, 4, 2, 8
    key_mask = torch.tensor([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]], dtype=torch.int64)
    t = {}

    q = randn(B, T, H, D, requires_grad=True)
    k = randn(B, T, Hkv, D, requires_grad=True)
    v = randn(B, T, Hkv, D, requires_grad=True)
    out, allowed = attention(q, k, v, key_mask)
    check_attention_against_sdpa(q, k, v, key_mask, out, allowed)
    dy = randn(*out.shape)
    gq, gk, gv = grads_of((out * dy).sum(), [q, k, v])
    t.update(q=q, k=k, v=v, key_mask=key_mask, out=out, dy=dy,
             grad_q=gq, grad_k=gk, grad_v=gv)

    q = randn(B, T, H, D, requires_grad=True)
    k = randn(B, T, Hkv, D, requires_grad=True)
    v = randn(B, T, Hkv, D, requires_grad=True)
    bias = randn(B, H, T, T, requires_grad=True)
    out, allowed = attention(q, k, v, key_mask, bias)
    check_attention_against_sdpa(q, k, v, key_mask, out, allowed, bias)
    dy = randn(*out.shape)
    gq, gk, gv, gbias = grads_of((out * dy).sum(), [q, k, v, bias])
    assert gbias[~allowed].abs().max().item() == 0.0
    t.update(bias_q=q, bias_k=k, bias_v=v, bias_key_mask=key_mask.clone(),
             bias_bias=bias, bias_out=out, bias_dy=dy,
             bias_grad_q=gq, bias_grad_k=gk, bias_grad_v=gv, bias_grad_bias=gbias)

    return write("attention.json", "attention",
                 {"scale": 1.0 / math.sqrt(D), "num_heads": H, "num_kv_heads": Hkv}, t)


# --------------------------------------------------------------------------
# 6. swiglu / silu
# --------------------------------------------------------------------------

def make_swiglu():
    seed(1006)
    gate = randn(5, 12, requires_grad=True)
    up = randn(5, 12, requires_grad=True)
    y = F.silu(gate) * up
    dy = randn(*y.shape)
    gg, gu = grads_of((y * dy).sum(), [gate, up])

    sx = randn(4, 9, requires_grad=True)
    sy = F.silu(sx)
    sdy = randn(*sy.shape)
    (sgx,) = grads_of((sy * sdy).sum(), [sx])
    return write("swiglu.json", "swiglu", {}, dict(
        gate=gate, up=up, y=y, dy=dy, grad_gate=gg, grad_up=gu,
        silu_x=sx, silu_y=sy, silu_dy=sdy, silu_grad_x=sgx))


# --------------------------------------------------------------------------
# 7. softmax / log_softmax
# --------------------------------------------------------------------------

def make_softmax():
    seed(1007)
    x = randn(4, 10, scale=3.0, requires_grad=True)
    y = torch.softmax(x, dim=-1)
    dy = randn(*y.shape)
    (gx,) = grads_of((y * dy).sum(), [x])

    lx = randn(4, 10, scale=3.0, requires_grad=True)
    ly = F.log_softmax(lx, dim=-1)
    ldy = randn(*ly.shape)
    (lgx,) = grads_of((ly * ldy).sum(), [lx])
    return write("softmax.json", "softmax", {}, dict(
        x=x, y=y, dy=dy, grad_x=gx,
        log_x=lx, log_y=ly, log_dy=ldy, log_grad_x=lgx))


# --------------------------------------------------------------------------
# 8. token_logprob (+ entropy) with temperature
# --------------------------------------------------------------------------

def make_token_logprob():
    seed(1008)
    temperature = 0.7
    N, V = 6, 50
    logits = randn(N, V, scale=2.0, requires_grad=True)
    targets = torch.randint(0, V, (N,), dtype=torch.int64)
    s = logits / temperature
    logp_all = F.log_softmax(s, dim=-1)
    logprob = logp_all.gather(-1, targets[:, None]).squeeze(-1)
    entropy = -(torch.softmax(s, dim=-1) * logp_all).sum(-1)
    d_logprob = randn(N)
    d_entropy = randn(N)
    loss = (logprob * d_logprob).sum() + (entropy * d_entropy).sum()
    (gl,) = grads_of(loss, [logits])
    return write("token_logprob.json", "token_logprob", {"temperature": temperature}, dict(
        logits=logits, targets=targets, logprob=logprob, entropy=entropy,
        d_logprob=d_logprob, d_entropy=d_entropy, grad_logits=gl))


# --------------------------------------------------------------------------
# 9. cross_entropy with ignore_index
# --------------------------------------------------------------------------

def make_cross_entropy():
    seed(1009)
    N, V = 7, 11
    logits = randn(N, V, requires_grad=True)
    targets = torch.randint(0, V, (N,), dtype=torch.int64)
    targets[2] = -100
    targets[5] = -100
    loss = F.cross_entropy(logits, targets, ignore_index=-100)   # mean over non-ignored
    (gl,) = grads_of(loss, [logits])
    return write("cross_entropy.json", "cross_entropy", {"ignore_index": -100}, dict(
        logits=logits, targets=targets, loss=loss, grad_logits=gl))


# --------------------------------------------------------------------------
# 10. embedding
# --------------------------------------------------------------------------

def make_embedding():
    seed(1010)
    table = randn(10, 6, requires_grad=True)
    ids = torch.tensor([[1, 3, 3, 0, 9], [9, 2, 1, 1, 5]], dtype=torch.int64)
    y = F.embedding(ids, table)
    dy = randn(*y.shape)
    (gt,) = grads_of((y * dy).sum(), [table])
    return write("embedding.json", "embedding", {}, dict(
        table=table, ids=ids, y=y, dy=dy, grad_table=gt))


# --------------------------------------------------------------------------
# 11. AdamW + clip_grad_norm_ + cosine schedule with warmup
# --------------------------------------------------------------------------

def cosine_with_warmup_lambda(num_warmup_steps, num_training_steps, num_cycles=0.5):
    """Same as transformers.get_cosine_schedule_with_warmup's lr_lambda."""
    def lr_lambda(current_step):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        progress = float(current_step - num_warmup_steps) / float(
            max(1, num_training_steps - num_warmup_steps))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))
    return lr_lambda


def make_adamw():
    seed(1011)
    params = {
        "lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
        "weight_decay": 0.1, "max_grad_norm": 1.0,
        "warmup_steps": 2, "total_steps": 10, "schedule": "cosine",
    }
    scales = [3.0, 0.05, 2.0, 0.1, 1.5, 0.2, 4.0, 0.01, 1.0, 0.3]

    w1 = torch.nn.Parameter(randn(5, 4))
    w2 = torch.nn.Parameter(randn(7))
    t = {"w1_init": w1.detach().clone(), "w2_init": w2.detach().clone()}

    opt = torch.optim.AdamW(
        [w1, w2], lr=params["lr"], betas=(params["beta1"], params["beta2"]),
        eps=params["eps"], weight_decay=params["weight_decay"], foreach=False)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, cosine_with_warmup_lambda(params["warmup_steps"], params["total_steps"]))

    lrs, norms = [], []
    for step in range(params["total_steps"]):
        g1 = randn(5, 4, scale=scales[step])
        g2 = randn(7, scale=scales[step])
        t["g1_%d" % step] = g1.clone()   # raw (pre-clip) gradients
        t["g2_%d" % step] = g2.clone()
        w1.grad = g1.clone()
        w2.grad = g2.clone()
        norm = torch.nn.utils.clip_grad_norm_([w1, w2], params["max_grad_norm"])
        norms.append(float(norm))
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        t["w1_%d" % step] = w1.detach().clone()
        t["w2_%d" % step] = w2.detach().clone()

    clipped = sum(1 for n in norms if n > params["max_grad_norm"])
    assert 0 < clipped < len(norms), "clipping should trigger on some steps only"

    ordered = {"w1_init": t["w1_init"], "w2_init": t["w2_init"]}
    for prefix in ("g1", "g2", "w1", "w2"):
        for step in range(params["total_steps"]):
            ordered["%s_%d" % (prefix, step)] = t["%s_%d" % (prefix, step)]
    ordered["lrs"] = torch.tensor(lrs, dtype=DTYPE)
    ordered["grad_norms"] = torch.tensor(norms, dtype=DTYPE)
    return write("adamw.json", "adamw", params, ordered)


# --------------------------------------------------------------------------

def main():
    torch.set_default_dtype(torch.float32)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    makers = [make_matmul, make_linear, make_rmsnorm, make_rope, make_attention,
              make_swiglu, make_softmax, make_token_logprob, make_cross_entropy,
              make_embedding, make_adamw]
    total = 0
    for mk in makers:
        path = mk()
        size = os.path.getsize(path)
        total += size
        print("%-50s %8d bytes" % (os.path.relpath(path, ROOT), size))
        if size >= 200 * 1024:
            sys.exit("fixture too large: %s" % path)
    print("%-50s %8d bytes" % ("total", total))


if __name__ == "__main__":
    main()
