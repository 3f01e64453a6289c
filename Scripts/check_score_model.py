"""Loads a sequence-classification folder our trainers wrote (a PPO value model: checkpoint-N/value_model,
or a reward model) with transformers' AutoModelForSequenceClassification and compares its score head's
output at every position with ours (`grpo logits --json`), and its pooled score (transformers reads it
at the last non-pad token) with our last position's.

Run by hand (needs `pip install torch transformers`), e.g.:

    python3 Scripts/check_score_model.py runs/ppo/checkpoint-100/value_model --ids 5,17,3,9,12

Exits 1 when any value differs by more than 1e-4 (relative to the largest).
"""
import argparse
import json
import subprocess
import sys

import torch
from transformers import AutoModelForSequenceClassification


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--ids", default="3,7,11,5,9,4,8")
    p.add_argument("--grpo", default=".build/release/grpo")
    p.add_argument("--text", help="also score this text as `grpo score` does (a reward model: end token appended) and compare")
    args = p.parse_args()
    ids = [int(x) for x in args.ids.split(",")]
    ours = json.loads(subprocess.run([args.grpo, "logits", "--model", args.folder, "--ids", args.ids, "--json"],
                                     check=True, capture_output=True, text=True).stdout)
    model = AutoModelForSequenceClassification.from_pretrained(args.folder, dtype=torch.float32).eval()
    with torch.no_grad():
        out = model.model(input_ids=torch.tensor([ids]), output_hidden_states=True)
        theirs = model.score(out.hidden_states[-1])[0]  # (T, N): the head on every position
        pooled = model(input_ids=torch.tensor([ids])).logits[0]  # (N): at the last non-pad token
    a = torch.tensor(ours["logits"], dtype=torch.float64)
    b = theirs.double()
    scale = max(b.abs().max().item(), 1e-12)
    error = (a - b).abs().max().item() / scale
    # transformers pools at the last token that is not pad_token_id; ours must read the same position.
    pad = model.config.pad_token_id
    last = max(i for i, t in enumerate(ids) if t != pad) if any(t != pad for t in ids) else 0
    pooled_error = (a[last] - pooled.double()).abs().max().item() / scale
    print(f"{args.folder}: {type(model).__name__}, {len(ids)} positions x {b.shape[-1]} labels; "
          f"max relative difference per position {error:.2e}, pooled score (position {last}) {pooled_error:.2e}")
    ok = error <= 1e-4 and pooled_error <= 1e-4
    if args.text is not None:
        scored = json.loads(subprocess.run([args.grpo, "score", "--model", args.folder, "--text", args.text, "--json"],
                                           check=True, capture_output=True, text=True).stdout)
        with torch.no_grad():
            theirs_score = model(input_ids=torch.tensor([scored["ids"]])).logits[0, 0].item()
        text_error = abs(scored["score"] - theirs_score) / max(abs(theirs_score), 1e-12)
        print(f"text {args.text!r}: {len(scored['ids'])} ids; ours {scored['score']:.6f}, transformers {theirs_score:.6f}, "
              f"relative difference {text_error:.2e}")
        ok = ok and text_error <= 1e-4
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
