#!/usr/bin/env python3
"""Held-out math data from reasoning-gym, and the fixture that pins our checker to its score_answer.

    pip install reasoning-gym==0.1.25
    python3 Scripts/make_reasoning_gym_data.py                      # the committed files
    python3 Scripts/make_reasoning_gym_data.py --preset basic_arithmetic_2x1 --out /tmp/rg   # a candidate

Writes, for the chosen preset, `<out>/<preset>/train.jsonl` (2000 rows) and `test.jsonl` (200 rows), and
(unless --no-fixture) Tests/TasksTests/Fixtures/reasoning_gym_scores.json.

Rows: `prompt` (reasoning-gym's question, a newline and INSTRUCTION), `answer` (reasoning-gym's answer
string) and `source_dataset` (which reasoning-gym scorer judges the row; our `reasoning_gym` verifier reads
it). Each split is one reasoning-gym dataset with its own seed (item i is drawn from Random(seed + i), and the
seeds are 10^6 apart); test questions are distinct, and train rows whose question is in the test split (or
already in train) are skipped, so no question is in both.

The fixture holds (a) completions with the answer our checker extracts from them (`extract`, below: the
last <answer>...</answer> as reasoning-gym's utils.extract_answer takes it, else the last number) and
reasoning-gym's score_answer of that answer, and (b) raw answers given straight to score_answer. The Swift
test (Tests/TasksTests/ReasoningGymTests.swift) requires the same extraction and the same verdict
(score == 1.0 or not) for every case.
"""
import argparse
import importlib.metadata
import json
import os
import re

import reasoning_gym
from reasoning_gym.utils import extract_answer

INSTRUCTION = "Give the final answer as a single number."

# name: (reasoning-gym dataset, its config). The committed one is DEFAULT_PRESET; the others are the
# candidates measured for it (datasets/README.md).
PRESETS = {
    "chain_sum_2x1": ("chain_sum", dict(min_terms=2, max_terms=2, min_digits=1, max_digits=1)),
    "chain_sum_2x2": ("chain_sum", dict(min_terms=2, max_terms=2, min_digits=1, max_digits=2)),
    "chain_sum_3x1": ("chain_sum", dict(min_terms=3, max_terms=3, min_digits=1, max_digits=1)),
    "chain_sum_easy": ("chain_sum", dict(min_terms=2, max_terms=3, min_digits=1, max_digits=2)),
    "basic_arithmetic_2x1": ("basic_arithmetic", dict(min_terms=2, max_terms=2, min_digits=1, max_digits=1)),
    "gsm_symbolic": ("gsm_symbolic", {}),
}
DEFAULT_PRESET = "basic_arithmetic_2x1"
TRAIN_SEED, TEST_SEED = 1_000_000, 2_000_000
TRAIN_ROWS, TEST_ROWS = 2000, 200

NUMBER = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")


def extract(completion):
    """The answer our checker hands to score_answer (Sources/Tasks/ReasoningGymAnswer.swift)."""
    tagged = extract_answer(completion)
    if tagged is not None:
        return tagged
    numbers = NUMBER.findall(completion)
    return numbers[-1] if numbers else None


def prompt(question):
    return question + "\n" + INSTRUCTION


def rows(dataset_name, config, seed, count, exclude):
    """`count` rows with distinct questions not in `exclude`, in the dataset's order, and their questions."""
    dataset = reasoning_gym.create_dataset(dataset_name, seed=seed, size=count * 20, **config)
    seen, out = set(exclude), []
    for entry in dataset:
        if entry["question"] in seen:
            continue
        seen.add(entry["question"])
        out.append({"prompt": prompt(entry["question"]), "answer": entry["answer"], "source_dataset": dataset_name})
        if len(out) == count:
            return out, seen - set(exclude)
    raise SystemExit(f"{dataset_name} {config}: only {len(out)} distinct questions, {count} needed")


def write_jsonl(path, items):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")


# Completions for the fixture: what a model writes, and forms each scorer reads differently.
COMPLETION_FORMS = [
    "{a}", " {a} ", "{a}.", "The answer is {a}.", "The final answer is: {a}", "{a}\n", "= {a}",
    "x = {a} and then some words", "{a} apples", "Answer: **{a}**", "$\\boxed{{{a}}}$", "\\boxed{{ {a} }}",
    "<answer>{a}</answer>", "<answer> {a} </answer>", "<answer>\n{a}\n</answer>", "<answer>{a}.</answer>",
    "<answer>The answer is {a}</answer>", "<answer>{a}</answer> so {a}1", "<answer>1</answer><answer>{a}</answer>",
    "<answer><answer>{a}</answer>", "<answer>{a}", "{a}</answer>", "<answer></answer> {a}", "<ANSWER>{a}</ANSWER>",
    "{a} + 1 = {a}1", "{a}1 - 1", "It is -{a}", "It is +{a}", "{a}.0", "{a}.00 exactly", "{a},000", "about {a}.5",
    "1,000 then {a}", "{a}e0", "", "no number here", "<answer></answer>", "<answer>   </answer>",
]
# Raw answers handed straight to score_answer (no extraction): Decimal's and float's reading, strings.
ANSWER_FORMS = [
    "{a}", " {a} ", "+{a}", "0{a}", "00{a}", "{a}.", "{a}.0", "{a}.000", "{a}.5", "{a}0", "-{a}", "--{a}", "+-{a}",
    "{a},", ",{a}", "{a}_", "_{a}", "{a}e0", "{a}E+0", "{a}e1", "{a}e-0", "\u00a0{a}\u2003", "\t{a}\n", "{a} .", "{a}!",
    "{a} apples", "x{a}", "x-{a}", "{a}x", "{a}_0", "{a}\u0661", "nan", "inf", "-Infinity", "sNaN", "", " ", ".", "e5",
]
EXTRA_ANSWERS = {  # value-preserving forms of particular oracles
    "1000": ["1,000", "1,0,0,0", "1_000", "+01,000.00", "1e3", "1E+3", "10e2", "1000.0e0", "\u0661\u0660\u0660\u0660",
             "1000\u0665"],
    "0": ["-0", "+0", "0.0", "-0.0e7", "0e5", "00", ".0", "0.", "0,0"],
    "-37": ["-37", "- 37", "\u221237", "-37.0", "-3.7e1", "-370e-1", "-\u0663\u0667", "-37,", "-3,7"],
    "12": ["12", "١٢", "1.2e1", "120e-1", "12.000", "x-12", "a12b", "12a", "12.5", "12.5a", "3.5x12", "1_2", "1__2"],
    "288": ["288", "288.0", "2.88e2", "The answer is 288", "About 288.", "288 meters", "-288"],
    "3.5": ["3.5", "3.50", "03.5", "7/2", "3.5x", "3,5", "3.5.1"],
}


def fixture(scorers):
    """Every form for several oracles of each dataset, with reasoning-gym's scores."""
    completions, answers = [], []
    oracles = ["7", "0", "-37", "1000", "12", "288", "3.5", "-4"]
    for name, dataset in scorers.items():
        for oracle in oracles:
            entry = {"answer": oracle, "metadata": {}}
            for form in COMPLETION_FORMS:
                text = form.format(a=oracle)
                given = extract(text)
                completions.append({"source_dataset": name, "answer": oracle, "completion": text, "extracted": given,
                                    "score": float(dataset.score_answer(given, entry))})
            for given in [form.format(a=oracle) for form in ANSWER_FORMS] + EXTRA_ANSWERS.get(oracle, []):
                answers.append({"source_dataset": name, "answer": oracle, "given": given,
                                "score": float(dataset.score_answer(given, entry))})
    return {"reasoning_gym": importlib.metadata.version("reasoning-gym"), "number_pattern": NUMBER.pattern,
            "completions": completions, "answers": answers}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default=DEFAULT_PRESET, choices=sorted(PRESETS))
    parser.add_argument("--out", default="datasets")
    parser.add_argument("--fixture", default="Tests/TasksTests/Fixtures/reasoning_gym_scores.json")
    parser.add_argument("--no-fixture", action="store_true")
    args = parser.parse_args()

    dataset_name, config = PRESETS[args.preset]
    test, test_questions = rows(dataset_name, config, TEST_SEED, TEST_ROWS, exclude=set())
    train, train_questions = rows(dataset_name, config, TRAIN_SEED, TRAIN_ROWS, exclude=test_questions)
    assert not test_questions & train_questions and len({row["prompt"] for row in train + test}) == len(train) + len(test)
    write_jsonl(os.path.join(args.out, args.preset, "train.jsonl"), train)
    write_jsonl(os.path.join(args.out, args.preset, "test.jsonl"), test)
    print(f"{args.preset}: {len(train)} train and {len(test)} test rows in {os.path.join(args.out, args.preset)}")

    if not args.no_fixture:
        scorers = {name: reasoning_gym.create_dataset(name, seed=0, size=1)
                   for name in ["basic_arithmetic", "chain_sum", "gsm_symbolic"]}
        data = fixture(scorers)
        os.makedirs(os.path.dirname(args.fixture), exist_ok=True)
        with open(args.fixture, "w") as f:
            json.dump(data, f, ensure_ascii=False, indent=0)
            f.write("\n")
        print(f"{len(data['completions'])} completions and {len(data['answers'])} answers in {args.fixture}")


if __name__ == "__main__":
    main()
