"""Checks that folders written by `grpo convert` load in PyTorch `transformers` and give the same
logits as the source checkpoints.

Run by hand from the repository root after `swift build -c release` (needs
`pip install torch transformers`):

    python3 Scripts/check_saved_model.py

For each tiny fixture family (Tests/TransformerTests/Fixtures/<family>) it runs
`.build/release/grpo convert` into a temporary folder, loads both folders with
AutoModelForCausalLM, and prints the max abs logit difference on a left-padded batch (fp32 output:
expected 0; bf16 output: the rounding of the weights).
"""
import os
import subprocess
import sys
import tempfile

import torch
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
GRPO = os.path.join(ROOT, ".build", "release", "grpo")


def logits(folder, ids, mask, positions):
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, position_ids=positions).logits


def main():
    ids = torch.tensor([[5, 9, 14, 3, 77, 20], [0, 0, 8, 31, 2, 60]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]])
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    keep = mask.bool()
    worst = 0.0
    for family in ("llama", "qwen2", "qwen3"):
        source = os.path.join(ROOT, "Tests", "TransformerTests", "Fixtures", family)
        reference = logits(source, ids, mask, positions)
        for dtype in ("f32", "bf16"):
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, family)
                subprocess.run([GRPO, "convert", source, out, "--dtype", dtype], check=True, stdout=subprocess.DEVNULL)
                got = logits(out, ids, mask, positions)
                diff = (got - reference).abs()[keep].max().item()
                print(f"{family:6s} {dtype:5s} max abs logit difference {diff:.3g}")
                if dtype == "f32":
                    worst = max(worst, diff)
    if worst > 1e-5:
        print("FAIL: fp32 round trip changed the logits", file=sys.stderr)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
