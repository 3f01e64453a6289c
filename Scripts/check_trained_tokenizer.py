"""Checks that a tokenizer trained by `grpo tokenizer train` loads in Hugging Face `tokenizers` and
encodes identically to swift-grpo.

Run by hand from the repository root after `swift build -c release` (needs `pip install tokenizers`):

    python3 Scripts/check_trained_tokenizer.py
"""
import json
import os
import subprocess
import sys
import tempfile

from tokenizers import Tokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
GRPO = os.path.join(ROOT, ".build", "release", "grpo")
CORPUS = [f"<think>{a}+{b}={a + b}</think><answer>{a + b}</answer> What is the sum of {a} and {b}?"
          for a, b in zip(range(100, 900, 7), range(900, 100, -5))] + ["naïve café 你好 🙂 don't I'M", "a  b\n\n\tc"]
TESTS = ["What is 687+932? Think inside <think></think>, then answer inside <answer></answer>.",
         "<|endoftext|>the sum<|endoftext|>", "naïve café 你好 🙂 don't I'M  ", "unseen: ÿ ✓ 12345678901", ""]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w") as f:
            f.write("\n".join(CORPUS))
        bad = 0
        # Without and with the R1 tags as (non-special) added tokens, as `grpo demo` trains it.
        for name, extra in [("plain", []), ("tags", ["--added-tokens", "<think>", "</think>", "<answer>", "</answer>"])]:
            out = os.path.join(tmp, name)
            subprocess.run([GRPO, "tokenizer", "train", "--corpus", corpus, "--vocab-size", "400", "--out", out] + extra, check=True)
            hf = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
            for text in TESTS:
                ours = json.loads(subprocess.run([GRPO, "tokenizer", "encode", "--tokenizer", out, "--text", text],
                                                 check=True, capture_output=True, text=True).stdout)
                theirs = hf.encode(text, add_special_tokens=False).ids
                same = (ours == theirs and hf.decode(theirs, skip_special_tokens=False) == text
                        and hf.decode(theirs, skip_special_tokens=True) == text.replace("<|endoftext|>", ""))
                bad += not same
                print(name, "same" if same else "DIFFERENT", repr(text)[:60], len(ours))
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
