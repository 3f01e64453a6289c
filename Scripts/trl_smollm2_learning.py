"""The peer's side of `grpo demo smollm2`: TRL 1.16 GRPOTrainer (+ PEFT LoRA) on PyTorch CPU, from the same
SmolLM2-135M-Instruct Hugging Face folder (`grpo convert` writes models/smollm2-hf), on the same data
(datasets/basic_arithmetic_2x1), with the settings of recipes/smollm2/grpo-lora.yaml and the same reward
(reasoning-gym's score_answer of the last <answer>...</answer>, else the last number: 1.0 or 0.0).

Run by hand (needs `pip install "trl==1.16.*" peft torch transformers datasets reasoning-gym`):

    python3 Scripts/trl_smollm2_learning.py --model models/smollm2-hf --out runs/trl-smollm2-lora-s1 \
        --minutes 30 --seed 1 [--full]

Training wall time is summed over TRL's steps (on_step_begin to on_step_end); at every --save-every seconds
of it (and at the end) the adapters (or, with --full, the whole model) are saved as `wall-SSSS/`, so the
curve is measured afterwards with the very evaluator our runs use, outside the training time:

    grpo eval --model runs/trl-smollm2-lora-s1/wall-0300 --data datasets/basic_arithmetic_2x1/test.jsonl \
        --samples 100 -k 8 --max-new-tokens 128 --verifier reasoning_gym --use-chat-template --seed 18

(`--seed 18` is the sampling seed our trainer's held-out evaluation uses for seed 1: seed + 17.) One JSON
line per step goes to stdout and to OUT/steps.jsonl (reward, completion length, step seconds, wall), one per
saved model to OUT/saved.jsonl (its folder and the training seconds it was saved at);
`python3 Scripts/compare_smollm2_curves.py --ours runs/smollm2-lora --trl OUT` prints both curves side by side.
"""
import argparse
import json
import os
import resource
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import reasoning_gym  # noqa: E402
import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import AutoTokenizer, TrainerCallback  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from make_reasoning_gym_data import extract  # noqa: E402  (the answer our reward hands to score_answer)

torch.set_num_threads(2)
SCORERS = {}


def reasoning_gym_reward(completions, answer, source_dataset, **kw):
    """1.0 when reasoning-gym scores the completion's answer 1.0, else 0.0 (our `reasoning_gym` reward)."""
    scores = []
    for completion, oracle, name in zip(completions, answer, source_dataset):
        text = completion[-1]["content"] if isinstance(completion, list) else completion
        if name not in SCORERS:
            SCORERS[name] = reasoning_gym.create_dataset(name, seed=0, size=1)
        given = extract(text)
        scores.append(1.0 if given and SCORERS[name].score_answer(given, {"answer": oracle}) == 1.0 else 0.0)
    return scores


class WallClock(TrainerCallback):
    """Sums the training steps' wall time, saves the model at each --save-every mark, stops at --minutes."""

    def __init__(self, opts, log):
        self.opts, self.log = opts, log
        self.wall, self.next_save, self.started, self.seconds = 0.0, opts.save_every, None, 0.0
        self.trainer = None

    def on_step_begin(self, args, state, control, **kw):
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        self.seconds = time.perf_counter() - self.started
        self.wall += self.seconds
        done = self.wall >= self.opts.minutes * 60
        if self.wall >= self.next_save or done:
            self.save(int(min(self.wall, self.opts.minutes * 60) if done else self.next_save))
            while self.next_save <= self.wall:
                self.next_save += self.opts.save_every
        if done:
            control.should_training_stop = True

    def on_log(self, args, state, control, logs=None, **kw):
        """After on_step_end, with the step's metrics (TRL logs every step)."""
        if not logs or "reward" not in logs:
            return
        line = {"step": state.global_step, "seconds": round(self.seconds, 2), "wall": round(self.wall, 1),
                "reward": logs["reward"], "completion_length": logs.get("completions/mean_length")}
        print(json.dumps(line), flush=True)
        self.log.write(json.dumps(line) + "\n")
        self.log.flush()

    def save(self, mark):
        folder = os.path.join(self.opts.out, f"wall-{mark:04d}")
        self.trainer.model.save_pretrained(folder)
        if self.opts.full:
            self.trainer.processing_class.save_pretrained(folder)
        line = json.dumps({"saved": folder, "wall": round(self.wall, 1)})
        print(line, flush=True)
        with open(os.path.join(self.opts.out, "saved.jsonl"), "a") as f:
            f.write(line + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="models/smollm2-hf")
    parser.add_argument("--train", default="datasets/basic_arithmetic_2x1/train.jsonl")
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--save-every", type=int, default=300, help="seconds of training between saved models")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--full", action="store_true", help="full fine-tuning (recipes/smollm2/grpo.yaml) instead of LoRA")
    opts = parser.parse_args()
    model = os.path.abspath(opts.model)  # adapter_config.json names the base by this path
    os.makedirs(opts.out, exist_ok=True)
    with open(opts.train) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    data = Dataset.from_dict({"prompt": [[{"role": "user", "content": r["prompt"]}] for r in rows],
                              "answer": [r["answer"] for r in rows],
                              "source_dataset": [r["source_dataset"] for r in rows]})
    peft_config = None
    if not opts.full:
        from peft import LoraConfig
        peft_config = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM")
    # recipes/smollm2/grpo-lora.yaml (grpo-lora) or grpo.yaml (full), key for key.
    args = GRPOConfig(output_dir=opts.out, per_device_train_batch_size=64 if opts.full else 32, gradient_accumulation_steps=1,
                      num_generations=8, max_completion_length=128, temperature=1.0, beta=0.0, epsilon=0.2, num_iterations=1,
                      loss_type="dapo", learning_rate=5e-6 if opts.full else 1e-4, lr_scheduler_type="constant_with_warmup",
                      warmup_steps=5 if opts.full else 3,
                      max_steps=100_000, logging_steps=1, report_to=[], save_strategy="no", use_cpu=True, bf16=False,
                      dataloader_num_workers=0, seed=opts.seed)
    with open(os.path.join(opts.out, "steps.jsonl"), "a") as log:
        clock = WallClock(opts, log)
        trainer = GRPOTrainer(model=model, reward_funcs=reasoning_gym_reward, args=args, train_dataset=data,
                              processing_class=AutoTokenizer.from_pretrained(model), callbacks=[clock], peft_config=peft_config)
        clock.trainer = trainer
        clock.save(0)
        trainer.train()
    print(json.dumps({"trl": __import__("trl").__version__, "torch": torch.__version__, "steps": trainer.state.global_step,
                      "wall": round(clock.wall, 1), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}),
          flush=True)


if __name__ == "__main__":
    main()
