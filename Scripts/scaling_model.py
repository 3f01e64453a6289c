#!/usr/bin/env python3
"""docs/SCALING.md's tables: the expected time of one data-parallel GRPO step on N machines.

    step(N) = compute(1) / N + optimizer + allreduce(N)
    allreduce(N) = 2 (N - 1) / N x 4 P bytes / link bandwidth      (ring; one fp32 gradient sum a step)

compute(1) is the measured per-completion-token cost of a step on one machine (generation, reference,
policy forward + backward) times the step's completion tokens; it splits over ranks by whole groups.
The AdamW step (every rank updates every parameter) and the allreduce do not shrink with N.
Inputs are the figures measured in docs/SCALING.md; pass others on the command line.
"""
import argparse

parser = argparse.ArgumentParser()
# Seconds per completion token of a whole GRPO step on one machine, 135M model (README: 14.7 s for
# 64 completions x 32 tokens, `grpo bench ppo-vs-grpo --model SmolLM2-135M ...`); larger models
# scale it by their parameter count.
parser.add_argument("--seconds-per-token-135m", type=float, default=14.7 / (64 * 32))
# The tiny preset's, measured here with `grpo bench grpo-step` (s/step over 64 x <= 32 tokens).
parser.add_argument("--tiny-step", type=float, required=True)
parser.add_argument("--tiny-tokens", type=float, required=True, help="completion tokens of that step")
parser.add_argument("--optimizer-ns-per-param", type=float, required=True, help="AdamW + clip, ns per parameter (tiny bench)")
parser.add_argument("--completions", type=int, default=512, help="completions a step (64 prompts x 8)")
parser.add_argument("--tokens", type=int, default=256, help="mean completion length")
parser.add_argument("--group-size", type=int, default=8, help="completions a prompt: ranks take whole groups, so N <= prompts")
args = parser.parse_args()

models = [("tiny", 3.28e6), ("135M", 134.5e6), ("0.5B", 494e6), ("1.5B", 1.54e9)]
machines = [1, 2, 4, 8, 16, 32, 64]
links = [("10 Gb/s", 10e9 / 8), ("100 Gb/s", 100e9 / 8)]
tokens = args.completions * args.tokens

print(f"step of {args.completions} completions x {args.tokens} tokens = {tokens} completion tokens\n")
for name, p in models:
    optimizer = args.optimizer_ns_per_param * 1e-9 * p
    # The measured steps include their AdamW step; the rest (generation, reference, policy) is split.
    if name == "tiny":
        per_token = (args.tiny_step - optimizer) / args.tiny_tokens
    else:
        per_token = (args.seconds_per_token_135m * 64 * 32 - args.optimizer_ns_per_param * 1e-9 * 134.5e6) / (64 * 32) * p / 134.5e6
    compute = per_token * tokens
    print(f"{name}: {p / 1e6:.0f}M parameters, {4 * p / 1e6:.0f} MB of gradients; compute on 1 machine {compute:.1f} s, "
          f"AdamW {optimizer * 1e3:.1f} ms")
    print("| machines | compute/N (s) | " + " | ".join(f"allreduce {l} (s) | speed-up {l}" for l, _ in links) + " |")
    print("|---:|---:|" + "---:|---:|" * len(links))
    for n in machines:
        if n > args.completions // args.group_size:
            break  # fewer prompts than ranks
        cells = [f"{n}", f"{compute / n:.3g}"]
        for _, bandwidth in links:
            comm = 2 * (n - 1) / n * 4 * p / bandwidth
            step = compute / n + optimizer + comm
            cells += [f"{comm:.3g}", f"{(compute + optimizer) / step:.1f}x"]
        print("| " + " | ".join(cells) + " |")
    print()
