#!/usr/bin/env python3
"""An external reward for `reward_funcs: [command:Scripts/example_reward_command.py]`.

The trainer starts this once and keeps it running. Per batch it writes one JSON line to stdin,
    {"prompts": [...], "completions": [...], "columns": [{...}, ...]}
(the rows' columns, `prompt` among them), and reads one line back,
    {"rewards": [number or null, ...]}
with one entry per completion (null: this reward cannot judge it). Anything printed to stderr shows
in the trainer's log; stdout carries only the reply lines.

This one rewards brevity where the row says so: with a column `style` equal to "short", the reward is
1 for a completion of at most --words words, falling linearly to 0 at three times that; other rows
are not judged (null). Options: --words N (default 12).
"""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=12)
    words = parser.parse_args().words
    for line in sys.stdin:
        request = json.loads(line)
        rewards = []
        for completion, columns in zip(request["completions"], request["columns"]):
            if columns.get("style") != "short":
                rewards.append(None)
                continue
            n = len(completion.split())
            rewards.append(max(0.0, min(1.0, (3 * words - n) / (2 * words))))
        sys.stdout.write(json.dumps({"rewards": rewards}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
