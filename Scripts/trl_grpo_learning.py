"""The peer's GRPO learning run, to compare `grpo train grpo` with step by step and minute by minute:
TRL 1.16 GRPOTrainer on PyTorch CPU, starting from one of our SFT checkpoints (a Hugging Face
folder with tokenizer.json) and training on our JSONL data with the same reward (the answer inside
<answer></answer>, else the last number, compared exactly with the `answer` column).

Run by hand (needs `pip install "trl==1.16.*" torch transformers tokenizers datasets`):

    python3 Scripts/trl_grpo_learning.py --model runs/demo/sft/checkpoint-390 \
        --train runs/demo/data/train.jsonl --eval runs/demo/data/test.jsonl --steps 300 --lr 5e-5

Prints one JSON line per step (reward, kl, wall time) and, every --eval-every steps, held-out
pass@1 (8 samples at temperature 1) and greedy accuracy on --eval-samples problems; the evaluation
time is not counted in the wall time.
"""
import argparse
import json
import os
import re
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast, TrainerCallback  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

torch.set_num_threads(2)


def extract(text):
    m = re.search(r"<answer>(.*?)</answer>", text, re.S)
    if m:
        return m.group(1).strip()
    nums = re.findall(r"-?\d+", text)
    return nums[-1] if nums else None


def correct(text, answer):
    got = extract(text)
    return got is not None and got.lstrip("+") == answer


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate(model, tok, rows, samples, max_new):
    model.eval()
    tok.padding_side = "left"
    hits1 = greedy = 0.0
    with torch.no_grad():
        for i in range(0, len(rows), 50):
            chunk = rows[i:i + 50]
            enc = tok([r["prompt"] for r in chunk], return_tensors="pt", padding=True)
            n = enc["input_ids"].shape[1]
            out = model.generate(**enc, do_sample=False, max_new_tokens=max_new, pad_token_id=tok.pad_token_id)
            greedy += sum(correct(tok.decode(o[n:], skip_special_tokens=True), r["answer"]) for o, r in zip(out, chunk))
            out = model.generate(**enc, do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=max_new,
                                 num_return_sequences=samples, pad_token_id=tok.pad_token_id)
            for j, o in enumerate(out):
                hits1 += correct(tok.decode(o[n:], skip_special_tokens=True), chunk[j // samples]["answer"]) / samples
    model.train()
    return hits1 / len(rows), greedy / len(rows)


class Log(TrainerCallback):
    def __init__(self, args, tok, eval_rows):
        self.args, self.tok, self.eval_rows = args, tok, eval_rows
        self.wall, self.last = 0.0, None

    def on_step_begin(self, args, state, control, **kw):
        self.last = time.perf_counter()

    def on_step_end(self, args, state, control, model=None, **kw):
        self.wall += time.perf_counter() - self.last
        if self.eval_rows and state.global_step % self.args.eval_every == 0:
            p1, g = evaluate(model, self.tok, self.eval_rows, 8, self.args.max_completion_length)
            print(json.dumps({"step": state.global_step, "wall": round(self.wall, 1), "eval/pass@1": p1, "eval/greedy": g}), flush=True)

    def on_log(self, args, state, control, logs=None, **kw):
        if logs and "reward" in logs:
            print(json.dumps({"step": state.global_step, "wall": round(self.wall, 1), "reward": logs["reward"],
                              "kl": logs.get("kl"), "entropy": logs.get("entropy"),
                              "len": logs.get("completions/mean_length")}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--eval")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--beta", type=float, default=0.04)
    p.add_argument("--max-completion-length", type=int, default=48)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--eval-samples", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="/tmp/trl_grpo_learning")
    args = p.parse_args()

    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(args.model, "tokenizer.json"),
                                  eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    rows = read(args.train)
    data = Dataset.from_dict({"prompt": [r["prompt"] for r in rows], "answer": [r["answer"] for r in rows]})
    eval_rows = read(args.eval)[:args.eval_samples] if args.eval else []
    if eval_rows:
        p1, g = evaluate(model, tok, eval_rows, 8, args.max_completion_length)
        print(json.dumps({"step": 0, "wall": 0.0, "eval/pass@1": p1, "eval/greedy": g}), flush=True)

    def math_answer(completions, answer, **kw):
        return [1.0 if correct(c, a) else 0.0 for c, a in zip(completions, answer)]

    config = GRPOConfig(output_dir=args.out, per_device_train_batch_size=64, gradient_accumulation_steps=1,
                        num_generations=8, max_completion_length=args.max_completion_length, temperature=1.0,
                        beta=args.beta, epsilon=0.2, num_iterations=1, loss_type="dapo", learning_rate=args.lr,
                        lr_scheduler_type="constant", max_steps=args.steps, logging_steps=1, report_to=[],
                        save_strategy="no", use_cpu=True, bf16=False, dataloader_num_workers=0, seed=args.seed)
    trainer = GRPOTrainer(model=model, reward_funcs=math_answer, args=config, train_dataset=data,
                          processing_class=tok, callbacks=[Log(args, tok, eval_rows)])
    trainer.train()


if __name__ == "__main__":
    main()
