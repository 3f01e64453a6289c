"""Ten steps of supervised training of a whole tiny model in PyTorch, as llm.c checks its trainer:
the fixture the Swift SFT trainer must reproduce step for step.

Run by hand from the repository root (needs `pip install torch transformers safetensors`):

    python3 Scripts/make_training_fixtures.py

Writes Tests/TrainingTests/Fixtures/sft_ten_steps/:
  - config.json, model.safetensors: a random tiny Qwen2 (tied embeddings, q/k/v biases), fp32;
  - steps.json: four rows of prompt and completion token ids, and for each of 10 steps the loss
    (mean cross-entropy over completion tokens; prompt and padding masked, rows right-padded) and
    the gradient norm before clipping;
  - final.safetensors: the weights after the 10 steps.
Each step is torch.optim.AdamW (lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on every
weight but norms and biases) after clip_grad_norm_(1.0), as transformers' Trainer does it.
"""
import json
import os

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, Qwen2Config

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TrainingTests", "Fixtures", "sft_ten_steps")


def main():
    torch.manual_seed(11)
    config = Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0,
                         tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))  # away from init, so a loader that drops them fails
    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)

    g = torch.Generator().manual_seed(5)
    rows = []
    for prompt_len, completion_len in [(3, 4), (5, 2), (4, 5), (6, 3)]:
        ids = torch.randint(3, config.vocab_size, (prompt_len + completion_len,), generator=g).tolist()
        rows.append({"prompt": ids[:prompt_len], "completion": ids[prompt_len:]})
    time = max(len(r["prompt"]) + len(r["completion"]) for r in rows)
    input_ids = torch.zeros(len(rows), time, dtype=torch.long)
    mask = torch.zeros(len(rows), time, dtype=torch.long)
    labels = torch.full((len(rows), time), -100, dtype=torch.long)
    for b, r in enumerate(rows):
        seq = r["prompt"] + r["completion"]
        input_ids[b, :len(seq)] = torch.tensor(seq)
        mask[b, :len(seq)] = 1
        labels[b, len(r["prompt"]):len(seq)] = torch.tensor(r["completion"])

    decay = [p for n, p in model.named_parameters() if not ("norm" in n or n.endswith("bias"))]
    no_decay = [p for n, p in model.named_parameters() if "norm" in n or n.endswith("bias")]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    steps = []
    for _ in range(10):
        optimizer.zero_grad()
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        steps.append({"loss": loss.item(), "grad_norm": norm.item()})
        print(steps[-1])
    save_file({n: p.detach().contiguous() for n, p in model.named_parameters()}, os.path.join(OUT, "final.safetensors"))
    with open(os.path.join(OUT, "steps.json"), "w") as f:
        json.dump({"rows": rows, "steps": steps, "torch": torch.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
