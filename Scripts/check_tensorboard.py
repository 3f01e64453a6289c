"""Reads a run's event files with TensorBoard's own EventAccumulator and compares every scalar with
the run's metrics.jsonl (exact in float32): the check that TensorBoard sees what we logged.

Run by hand (needs `pip install tensorboard`), e.g. after `make demo`:

    python3 Scripts/check_tensorboard.py runs/demo/grpo

Prints the tags TensorBoard found and how many scalars were compared; exits 1 on any difference
(a metric missing from the events, a value that differs, or a step logged twice).
"""
import json
import math
import struct
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def tag(key):
    return key if key.startswith("eval/") or key.startswith("train/") else "train/" + key


def main(run):
    acc = EventAccumulator(run, size_guidance={"scalars": 0})
    acc.Reload()
    tags = acc.Tags()["scalars"]
    seen = {}
    for t in tags:
        for e in acc.Scalars(t):
            key = (t, e.step)
            if key in seen and seen[key] != e.value:
                print(f"{t} step {e.step}: logged twice with different values {seen[key]} and {e.value}")
                return 1
            seen[key] = e.value
    expected = {}
    with open(f"{run}/metrics.jsonl") as f:
        for line in f:
            obj = json.loads(line)
            step = obj.pop("step")
            for k, v in obj.items():
                if v is not None and math.isfinite(v):
                    expected[(tag(k), step)] = f32(v)
    missing = [k for k in expected if k not in seen]
    wrong = [(k, expected[k], seen[k]) for k in expected if k in seen and seen[k] != expected[k]]
    extra = [k for k in seen if k not in expected]
    print(f"{run}: TensorBoard sees {len(tags)} tags ({', '.join(sorted(tags)[:6])}, ...), {len(seen)} scalars; "
          f"metrics.jsonl has {len(expected)}")
    for k in missing[:10]:
        print("missing from the event files:", k)
    for k, a, b in wrong[:10]:
        print(f"differs: {k}: metrics.jsonl {a!r} (float32), events {b!r}")
    for k in extra[:10]:
        print("in the event files only:", k)
    if missing or wrong or extra:
        return 1
    print("every scalar equal in float32")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
