"""The peer's PPO step, for `grpo bench ppo-step` to be compared with: TRL 1.12 PPOTrainer on PyTorch CPU, same
settings, same machine.

Run from the repository root with the TRL 1.12 venv:

    /work/venvs/trl112/bin/python Scripts/bench_trl_ppo_step.py [--json] [--steps N] [--warmup W]
                                                                [--gradient-checkpointing]

The TRL version is pinned to 1.12 in its own venv because 1.12 is the last TRL with a PPOTrainer
(trl.experimental.ppo); TRL 1.13+ has none. The venv was made with
`python3 -m venv --system-site-packages /work/venvs/trl112 && /work/venvs/trl112/bin/pip install "trl==1.12.*"`
and uses the system torch, transformers, accelerate and datasets (see /work/notes/ppo-trl.md).

What it measures: one PPO update of the unmodified PPOTrainer.train() (rollout: generation, reference, value and
reward forwards, GAE; then 4 PPO epochs of forward+backward+AdamW over the rollout, and TRL's per-update logging and
clean-up). The seconds of an update are the wall time between consecutive `trainer.log` calls (PPOTrainer logs once
per update, at its end; the first update is timed from the start of train()). It prints the median over the timed
updates after the warm-up ones, the median completion tokens per update divided by that median, the median time of
TRL's `batch_generation` (the sampling part of the rollout) and the peak RSS.

Settings (our Swift bench's):
  - policy: a random Qwen2ForCausalLM of the tiny preset (Sources/Transformer/Presets.swift: vocab 512, hidden 256,
    intermediate 768, 4 layers, 4 heads, 2 KV heads, max positions 1024, tied embeddings, q/k/v biases,
    rope_theta 10000, rms_norm_eps 1e-6), float32, torch seed 1; value model and reward model:
    Qwen2ForSequenceClassification of the same shape, num_labels 1 (seeds 2 and 3); reference: TRL's default, a
    frozen copy of the policy. pad id 0, eos id 2, no bos.
  - prompts: 64 x (warmup + steps) prompts of 20 random ids in 3..511 (seeded generator, as
    Scripts/bench_trl_grpo_step.py), so the dataloader's one pass covers the run exactly.
  - PPOConfig: bf16/fp16 False, per_device_train_batch_size 16, gradient_accumulation_steps 4 (64 responses per
    rollout), num_mini_batches 1, num_ppo_epochs 4, response_length 32, temperature 1.0, stop_token "eos"
    (a response ends only if eos is sampled; with random weights nearly all run the full 32 tokens), learning_rate
    1e-6, kl_coef 0.05, local_rollout_forward_batch_size 64, num_sample_generations 0, total_episodes
    64 x (warmup + steps), gradient_checkpointing False (True with --gradient-checkpointing, TRL's default),
    report_to none, use_cpu, save_strategy "no", logging_steps 1, seed 1. Everything else is PPOConfig's default.
  - 2 torch threads. Completion tokens of a response: the tokens generate sampled, up to and including the first
    eos, or all 32.
  - Defaults: 10 timed updates after 2 warm-up updates.

Progress (TRL's progress bar and its per-update metrics) goes to stderr; with --json, stdout holds one JSON line:
{"trl", "torch", "median_step_seconds", "completion_tokens_per_second", "peak_rss_mb", "gradient_checkpointing",
"gradient_checkpointing_active", "median_generate_seconds", "optimizer_steps_per_update"}.
`gradient_checkpointing_active` is whether any module of the policy or value model had checkpointing on when an
update was logged. It is False even with --gradient-checkpointing (checked with transformers 5.25): transformers
turns checkpointing on inside Trainer.train(), which PPOTrainer overrides, so the setting has no effect here.
`optimizer_steps_per_update` counts AdamW steps per update: 4 normally (one per PPO epoch, GA 4 over 16
micro-batches), but 16 in the update that draws the dataloader's last batch (here the run's last update), because
accelerate syncs every micro-batch at the end of a dataloader (/work/notes/ppo-trl.md, trap 13). An AdamW step
takes ~4 ms here, so this adds ~50 ms to that update and does not move the median.

Each update's progress line on stderr also shows the process CPU seconds: about 2x the wall time on a quiet machine.
A ratio well below 2 means another process is competing for the 2 cores (the OpenMP threads then wait on each
other and updates become several times slower), so rerun.
"""
import argparse
import contextlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import trl  # noqa: E402
from datasets import Dataset  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402
from transformers import (  # noqa: E402
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen2ForSequenceClassification,
)

assert trl.__version__.startswith("1.12"), f"needs TRL 1.12 (the last with PPOTrainer), found {trl.__version__}"

import trl.experimental.ppo.ppo_trainer as ppo_module  # noqa: E402
from trl.experimental.ppo import PPOConfig, PPOTrainer  # noqa: E402

torch.set_num_threads(2)
VOCAB, PAD, EOS = 512, 0, 2
ROLLOUT = 64  # responses per update: per_device_train_batch_size 16 x gradient_accumulation_steps 4


def tokenizer():
    vocab = {f"t{i}": i for i in range(VOCAB)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="t0"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="t0", pad_token="t0", eos_token="t2")
    fast.padding_side = "left"
    assert fast.pad_token_id == PAD and fast.eos_token_id == EOS
    return fast


def tiny_config(**kw):
    """The tiny preset (Sources/Transformer/Presets.swift) with vocab 512, eos 2, pad 0."""
    return Qwen2Config(vocab_size=VOCAB, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                       tie_word_embeddings=True, rope_theta=10000.0, rms_norm_eps=1e-6, eos_token_id=EOS,
                       pad_token_id=PAD, bos_token_id=None, **kw)


def main():
    parser = argparse.ArgumentParser(description="TRL 1.12 PPOTrainer: one PPO update on the tiny preset.")
    parser.add_argument("--json", action="store_true", help="print one JSON line on stdout")
    parser.add_argument("--steps", type=int, default=10, help="timed updates (median reported)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed warm-up updates")
    parser.add_argument("--gradient-checkpointing", action="store_true",
                        help="gradient_checkpointing=True (TRL's default) instead of False")
    opts = parser.parse_args()
    if opts.steps < 1 or opts.warmup < 0:
        parser.error("--steps must be >= 1 and --warmup >= 0")
    updates = opts.warmup + opts.steps

    torch.manual_seed(1)
    policy = Qwen2ForCausalLM(tiny_config()).float()
    assert policy.lm_head.weight.data_ptr() == policy.model.embed_tokens.weight.data_ptr(), "lm_head not tied"
    torch.manual_seed(2)
    value_model = Qwen2ForSequenceClassification(tiny_config(num_labels=1)).float()
    torch.manual_seed(3)
    reward_model = Qwen2ForSequenceClassification(tiny_config(num_labels=1)).float()

    g = torch.Generator().manual_seed(3)
    prompts = [torch.randint(3, VOCAB, (20,), generator=g).tolist() for _ in range(ROLLOUT * updates)]
    data = Dataset.from_dict({"input_ids": prompts})

    # Generation: time TRL's batch_generation and count the tokens it sampled (up to and including eos).
    gen_times, gen_tokens = [], []
    batch_generation = ppo_module.batch_generation

    def timed_batch_generation(model, queries, *a, **kw):
        t0 = time.perf_counter()
        query_responses, logits = batch_generation(model, queries, *a, **kw)
        gen_times.append(time.perf_counter() - t0)
        responses = query_responses[:, queries.shape[1]:]
        is_eos = responses == EOS
        lengths = torch.where(is_eos.any(1), is_eos.int().argmax(1) + 1, responses.shape[1])
        gen_tokens.append(int(lengths.sum()))
        return query_responses, logits

    ppo_module.batch_generation = timed_batch_generation

    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(sys.stderr):
        args = PPOConfig(output_dir=out, bf16=False, fp16=False, per_device_train_batch_size=16,
                         gradient_accumulation_steps=4, num_mini_batches=1, num_ppo_epochs=4, response_length=32,
                         temperature=1.0, stop_token="eos", learning_rate=1e-6, kl_coef=0.05,
                         local_rollout_forward_batch_size=64, num_sample_generations=0,
                         total_episodes=ROLLOUT * updates, gradient_checkpointing=opts.gradient_checkpointing,
                         report_to="none", use_cpu=True, save_strategy="no", logging_steps=1, seed=1,
                         dataloader_num_workers=0)
        trainer = PPOTrainer(args=args, processing_class=tokenizer(), model=policy, ref_model=None,
                             reward_model=reward_model, train_dataset=data, value_model=value_model)
        assert args.local_batch_size == ROLLOUT and args.num_total_batches == updates, args.num_total_batches

        # Optimizer steps actually taken (accelerate skips the inner step on accumulation micro-batches).
        opt_steps = [0]

        def count_step(optimizer, *a, **kw):
            opt_steps[0] += 1

        trainer.optimizer.optimizer.register_step_post_hook(count_step)

        # One log call per update, at its end: the update's wall time is the time since the previous one.
        stamps, cpu_stamps, steps_per_update, checkpointing_active = [], [], [], []
        log = trainer.log

        def timed_log(metrics, *a, **kw):
            stamps.append(time.perf_counter())
            cpu_stamps.append(time.process_time())
            steps_per_update.append(opt_steps[0] - sum(steps_per_update))
            checkpointing_active.append(any(getattr(m, "gradient_checkpointing", False) is True
                                            for net in (policy, value_model) for m in net.modules()))
            wall = stamps[-1] - (stamps[-2] if len(stamps) > 1 else t_start)
            cpu = cpu_stamps[-1] - (cpu_stamps[-2] if len(cpu_stamps) > 1 else cpu_start)
            # CPU seconds / wall seconds well below the 2 threads means other load on the machine.
            print(f"update {len(stamps)}/{updates}: {wall:.2f} s (process CPU {cpu:.2f} s), generate "
                  f"{gen_times[-1]:.2f} s, {gen_tokens[-1]} completion tokens, {steps_per_update[-1]} optimizer steps",
                  file=sys.stderr, flush=True)
            return log(metrics, *a, **kw)

        trainer.log = timed_log
        np.random.seed(1)  # PPOTrainer shuffles the rollout rows with numpy's global RNG and never seeds it
        t_start, cpu_start = time.perf_counter(), time.process_time()
        trainer.train()
    assert len(stamps) == updates and len(gen_times) == updates, (len(stamps), len(gen_times))

    step_times = [b - a for a, b in zip([t_start] + stamps[:-1], stamps)]
    timed = step_times[opts.warmup:]
    median = statistics.median(timed)
    tokens = statistics.median(gen_tokens[opts.warmup:])
    generate = statistics.median(gen_times[opts.warmup:])
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    active = any(checkpointing_active)
    if opts.json:
        print(json.dumps({"trl": trl.__version__, "torch": torch.__version__, "median_step_seconds": median,
                          "completion_tokens_per_second": tokens / median, "peak_rss_mb": rss_mb,
                          "gradient_checkpointing": opts.gradient_checkpointing,
                          "gradient_checkpointing_active": active, "median_generate_seconds": generate,
                          "optimizer_steps_per_update": steps_per_update}), flush=True)
        return
    print(f"TRL {trl.__version__}, torch {torch.__version__}: median {median:.3f} s/update over {len(timed)} updates "
          f"(generation {generate:.3f} s); {tokens / median:.0f} completion tokens/s; peak RSS {rss_mb:.0f} MB; "
          f"gradient_checkpointing {opts.gradient_checkpointing} (active: {active}); "
          f"optimizer steps per update {steps_per_update}")


if __name__ == "__main__":
    main()
