"""Our GRPO run and TRL's side by side: held-out pass@1 (and greedy, maj@8, pass@8) against seconds of
training, for README's SmolLM2 comparison. No third-party packages.

    python3 Scripts/compare_smollm2_curves.py --ours runs/smollm2-lora --trl runs/trl-smollm2-lora-s1

--ours is a `grpo train grpo` output folder: its metrics.jsonl holds eval/* at evaluation steps with
train_time (seconds of training, evaluation excluded). --trl is a Scripts/trl_smollm2_learning.py output
folder: saved.jsonl names each saved model and its seconds of training, and each saved folder holds the
eval.json that `grpo eval --json` wrote for it (same problems, k and sampling seed as our evaluations).
Prints one table per side, then ours at each of TRL's points (our latest evaluation at or before it).
"""
import argparse
import json
import os


def ours(folder):
    points = []
    with open(os.path.join(folder, "metrics.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            if "eval/pass@1" in row:
                points.append((row["train_time"], row["step"], row))
    return points


def theirs(folder):
    points = []
    with open(os.path.join(folder, "saved.jsonl")) as f:
        for line in f:
            saved = json.loads(line)
            path = os.path.join(folder, os.path.basename(saved["saved"]), "eval.json")
            if not os.path.exists(path):
                print(f"(no {path}: run grpo eval on it)")
                continue
            with open(path) as g:
                points.append((saved["wall"], None, json.load(g)))
    return points


def show(name, points):
    print(f"{name}: seconds of training, step, greedy, pass@1, maj@8, pass@8")
    for seconds, step, m in points:
        figures = "  ".join(f"{100 * m[k]:5.1f}%" for k in ("eval/greedy", "eval/pass@1", "eval/maj@8", "eval/pass@8"))
        print(f"  {seconds:7.0f} s  {'' if step is None else step:>5}  {figures}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True)
    parser.add_argument("--trl", required=True)
    opts = parser.parse_args()
    a, b = ours(opts.ours), theirs(opts.trl)
    show(f"ours ({opts.ours})", a)
    show(f"TRL ({opts.trl})", b)
    print("pass@1 at TRL's points (ours: the latest evaluation at or before it)")
    for seconds, _, m in b:
        mine = [p for p in a if p[0] <= seconds + 1e-6]
        if mine:
            print(f"  {seconds:7.0f} s  ours {100 * mine[-1][2]['eval/pass@1']:5.1f}%  TRL {100 * m['eval/pass@1']:5.1f}%")


if __name__ == "__main__":
    main()
