"""Checks that a LoRA adapter folder written by `grpo train ... use_peft: true` (a checkpoint) loads
in PEFT on its Hugging Face base with the logits our engine computes, and that
`grpo convert --merge-lora` writes weights transformers loads with the same logits.

Run by hand from the repository root after `swift build -c release` (needs
`pip install torch transformers peft`):

    python3 Scripts/check_peft_adapter.py runs/smollm2-lora/checkpoint-100 [--base HF_FOLDER]

--base: the Hugging Face base folder, when the adapter's base_model_name_or_path is a .gguf file
(write one with `grpo convert model.gguf HF_FOLDER`). Prints, on a few token sequences, the max abs
logit difference of each comparison beside the base model's own (grpo vs transformers, no adapter:
the engines' float rounding), relative to the largest logit, and exits 1 if any relative difference
exceeds 1e-5 (SmolLM2's logits reach ~30, so that is ~3e-4 absolute; the tiny fixtures in
Tests/TransformerTests hold PEFT parity to 1e-4 absolute).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
GRPO = os.path.join(ROOT, ".build", "release", "grpo")
SEQUENCES = [[1, 504, 3458, 28, 216, 34, 1072, 35, 30, 2], [12, 7, 99, 4005, 17, 3, 3, 250]]


def ours(model, ids):
    out = subprocess.run([GRPO, "logits", "--model", model, "--ids", ",".join(map(str, ids)), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return torch.tensor(json.loads(out)["logits"])


def theirs(model, ids):
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("adapter")
    parser.add_argument("--base")
    args = parser.parse_args()
    with open(os.path.join(args.adapter, "adapter_config.json")) as f:
        written = json.load(f)["base_model_name_or_path"]
    base = args.base or (written if os.path.isabs(written) else os.path.join(args.adapter, written))
    if base.endswith(".gguf"):
        sys.exit(f"the adapter's base is {base}; pass --base with its Hugging Face folder (grpo convert)")
    peft_model = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base, attn_implementation="eager", dtype=torch.float32), args.adapter)
    peft_model.eval()
    worst = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        merged_dir = os.path.join(scratch, "merged")
        subprocess.run([GRPO, "convert", args.adapter, merged_dir, "--merge-lora"], check=True, capture_output=True)
        merged = AutoModelForCausalLM.from_pretrained(merged_dir, attn_implementation="eager", dtype=torch.float32)
        merged.eval()
        base_model = peft_model.get_base_model()
        for ids in SEQUENCES:
            mine = ours(args.adapter, ids)
            with peft_model.disable_adapter():
                base_diff = float((ours(base, ids) - theirs(peft_model, ids)).abs().max())
            for name, reference in (("peft", theirs(peft_model, ids)), ("merged in transformers", theirs(merged, ids))):
                diff = float((mine - reference).abs().max())
                relative = diff / float(reference.abs().max())
                worst = max(worst, relative)
                print(f"{len(ids)} tokens: grpo vs {name}: max abs logit difference {diff:.2e} ({relative:.1e} of the largest logit); "
                      f"base without adapter, grpo vs transformers: {base_diff:.2e}")
    del base_model
    print("PASS" if worst <= 1e-5 else "FAIL", f"(worst relative difference {worst:.1e}, bound 1e-5)")
    sys.exit(0 if worst <= 1e-5 else 1)


if __name__ == "__main__":
    main()
