#!/usr/bin/env python3
"""Compares our GGUF loader and forward pass with transformers loading the same GGUF file.

For a few token-id sequences it runs `grpo logits --model GGUF --ids ... --json` and transformers'
`AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)` (fp32), and reports the max abs logit
difference over all positions. It also checks greedy agreement: transformers' greedy continuation of
each prompt is fed back (teacher forcing) and our argmax must pick the same token at every step,
unless transformers' own top-1/top-2 margin there is below --tie-margin.

Needs: pip install torch gguf accelerate transformers; `make smollm2`; a release build of grpo.
Usage: python3 Scripts/check_gguf_parity.py [--gguf models/SmolLM2-135M-Instruct.Q4_1.gguf]
       [--grpo .build/release/grpo] [--tolerance 1e-3] [--new-tokens 16]
Exit status 1 when a difference exceeds the tolerance or a greedy step disagrees.
"""
import argparse
import json
import os
import random
import subprocess
import sys

os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' GGUF conversion progress bars

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

PROMPTS = [
    ("chat", "Write a Python function that adds two numbers."),
    ("chat", "What is 12 times 7?"),
    ("text", "The capital of France is"),
]


def swift_logits(grpo, gguf, ids):
    out = subprocess.run([grpo, "logits", "--model", gguf, "--ids", ",".join(map(str, ids)), "--json"],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    assert result["ids"] == ids, "grpo echoed different ids"
    return torch.tensor(result["logits"], dtype=torch.float32)  # (T, V)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--grpo", default=".build/release/grpo")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--tie-margin", type=float, default=1e-3)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(2)
    folder, name = os.path.split(os.path.abspath(args.gguf))
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    vocab = model.config.vocab_size

    sequences = []
    for kind, text in PROMPTS:
        if kind == "chat":
            ids = tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True,
                                                tokenize=True, return_dict=False)
        else:
            ids = tokenizer(text)["input_ids"]
        sequences.append((f"{kind}: {text!r}", list(map(int, ids)), True))
    rng = random.Random(0)
    sequences.append(("random ids (seed 0)", [rng.randrange(vocab) for _ in range(24)], False))

    worst, failures = 0.0, 0
    for label, prompt, greedy in sequences:
        ids = prompt
        if greedy:
            with torch.no_grad():
                generated = model.generate(torch.tensor([prompt]), max_new_tokens=args.new_tokens, do_sample=False,
                                           pad_token_id=tokenizer.eos_token_id)
            ids = generated[0].tolist()
        with torch.no_grad():
            expected = model(torch.tensor([ids])).logits[0].float()  # (T, V)
        actual = swift_logits(args.grpo, args.gguf, ids)
        diff = (actual - expected).abs().max().item()
        worst = max(worst, diff)
        line = f"{label}: {len(ids)} tokens ({len(prompt)} prompt), max abs logit diff {diff:.3e}"
        if diff > args.tolerance:
            failures += 1
            line += f"  > {args.tolerance}"
        if greedy:
            # Step t predicts ids[t + 1]; check the generated part only.
            top2 = expected.topk(2, dim=-1)
            margins = (top2.values[:, 0] - top2.values[:, 1]).tolist()
            steps = range(len(prompt) - 1, len(ids) - 1)
            ours = actual.argmax(dim=-1).tolist()
            bad = [t for t in steps if ours[t] != ids[t + 1] and margins[t] >= args.tie_margin]
            ties = [t for t in steps if margins[t] < args.tie_margin]
            line += f"; greedy {len(steps) - len(bad)}/{len(steps)} steps agree"
            line += f" ({len(ties)} near-ties)" if ties else ""
            line += f"; continuation {tokenizer.decode(ids[len(prompt):])!r}"
            failures += len(bad)
        print(line)
    print(f"max abs logit difference over all sequences: {worst:.3e} (tolerance {args.tolerance})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
