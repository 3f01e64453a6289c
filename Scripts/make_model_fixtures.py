"""Reference fixtures for the Transformer tests: tiny random Llama, Qwen2 and Qwen3 checkpoints and
what PyTorch `transformers` computes with them.

Run by hand from the repository root (needs `pip install torch transformers safetensors`):

    python3 Scripts/make_model_fixtures.py

For each family it writes Tests/TransformerTests/Fixtures/<family>/:
  - config.json, model.safetensors: the checkpoint (save_pretrained, fp32). Biases and norm weights
    are perturbed away from their init values, so a loader that drops them fails the tests.
  - expected.safetensors: ids and attention_mask (as F32), logits (B, T, V) for a batch whose second
    row is left-padded, the mean next-token cross-entropy `loss`, `grad.<name>` for every parameter,
    and `logits_after_step` after one torch.optim.AdamW step (lr 1e-2, weight decay 0.01).
  - generate.json: greedy continuations from transformers' generate (8 new tokens, no eos) for
    two prompts, with the top-1/top-2 logit margin at each step (where it is tiny, float rounding
    may pick the other token).
It also writes llama_v4_config.json: the same Llama config in the transformers 4.x style
(rope_theta, torch_dtype) for the config-parsing tests.
"""
import json
import os

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config, Qwen3Config

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TransformerTests", "Fixtures")

COMMON = dict(
    vocab_size=96,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=128,
    rms_norm_eps=1e-6,
    bos_token_id=1,
    eos_token_id=2,
)


def families():
    yield "llama", LlamaConfig(**COMMON, rope_theta=10000.0, attention_bias=True, mlp_bias=False,
                               tie_word_embeddings=False, head_dim=8)
    yield "qwen2", Qwen2Config(**COMMON, rope_theta=1000000.0, tie_word_embeddings=True)
    yield "qwen3", Qwen3Config(**COMMON, rope_theta=1000000.0, head_dim=16, tie_word_embeddings=False,
                               attention_bias=False)


def batch():
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(3, COMMON["vocab_size"], (2, 9), generator=g)
    mask = torch.ones(2, 9, dtype=torch.long)
    mask[1, :3] = 0  # left padding
    ids[1, :3] = 0
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids, mask, positions


def loss_of(logits, ids, mask):
    # next-token cross-entropy over positions where both the input and the target are real tokens
    keep = (mask[:, :-1] * mask[:, 1:]).bool()
    lp = torch.log_softmax(logits[:, :-1], dim=-1)
    nll = -lp.gather(-1, ids[:, 1:, None])[..., 0]
    return nll[keep].mean()


def write_greedy(folder):
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32)
    model.eval()
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    cases = []
    for prompt in ([5, 9, 14, 3], [40, 2, 77, 8, 31, 19, 60]):
        ids = torch.tensor([prompt])
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=8, do_sample=False, output_scores=True,
                                 return_dict_in_generate=True)
        margins = []
        for scores in out.scores:
            top = torch.topk(scores[0], 2).values
            margins.append(float(top[0] - top[1]))
        cases.append({"prompt": prompt, "completion": out.sequences[0, len(prompt):].tolist(), "margins": margins})
    with open(os.path.join(folder, "generate.json"), "w") as f:
        json.dump(cases, f, indent=1)


def main():
    torch.manual_seed(0)
    ids, mask, positions = batch()
    for name, config in families():
        config._attn_implementation = "eager"
        torch.manual_seed(1)
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").float()
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if pname.endswith("bias") or "norm" in pname:
                    p.add_(0.1 * torch.randn_like(p))
        out_dir = os.path.join(ROOT, name)
        os.makedirs(out_dir, exist_ok=True)
        model.save_pretrained(out_dir, safe_serialization=True)
        for extra in ("generation_config.json",):
            path = os.path.join(out_dir, extra)
            if os.path.exists(path):
                os.remove(path)

        model.train()
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
        loss = loss_of(logits, ids, mask)
        loss.backward()
        tensors = {
            "ids": ids.float(), "attention_mask": mask.float(), "position_ids": positions.float(),
            "logits": logits.detach().contiguous(), "loss": loss.detach().reshape(1),
        }
        seen = set()
        for pname, p in model.named_parameters():
            if id(p) in seen:
                continue
            seen.add(id(p))
            tensors["grad." + pname] = p.grad.detach().clone().contiguous()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01, eps=1e-8, foreach=False)
        opt.step()
        with torch.no_grad():
            tensors["logits_after_step"] = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.contiguous()
        save_file(tensors, os.path.join(out_dir, "expected.safetensors"))
        print(name, "params", sum(p.numel() for p in model.parameters()), "loss", float(loss.detach()))
        write_greedy(out_dir)

    # The Llama config in the transformers 4.x style.
    with open(os.path.join(ROOT, "llama", "config.json")) as f:
        v5 = json.load(f)
    v4 = {k: v for k, v in v5.items() if k not in ("rope_parameters", "dtype")}
    v4["rope_theta"] = v5.get("rope_parameters", {}).get("rope_theta", 10000.0)
    v4["rope_scaling"] = None
    v4["torch_dtype"] = "float32"
    v4["transformers_version"] = "4.46.0"
    with open(os.path.join(ROOT, "llama_v4_config.json"), "w") as f:
        json.dump(v4, f, indent=2)


if __name__ == "__main__":
    main()
