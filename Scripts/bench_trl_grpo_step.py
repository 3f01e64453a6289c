"""The peer's GRPO step, for `grpo bench grpo-step` to be compared with: TRL 1.16 GRPOTrainer on
PyTorch CPU, same settings, same machine.

Run by hand (needs `pip install "trl==1.16.*" torch transformers tokenizers datasets`):

    python3 Scripts/bench_trl_grpo_step.py [--json] [--model HF_FOLDER] [--prompts 8] [--generations 8]
        [--max-completion-length 32] [--lora-r 0] [--steps 10] [--warmup 2]

`grpo bench grpo-step --trl` runs this script after its own measurement and prints the ratio.

Tiny Qwen2 preset (hidden 256, 4 layers, 4 heads, 2 KV heads, intermediate 768, vocab 512, tied
embeddings, random weights), 8 prompts x 8 completions of a ~20-token prompt, max_completion_length
32, temperature 1, beta 0.04, epsilon 0.2, num_iterations 1, loss_type dapo, 2 threads. Prints the
median seconds per step over 10 steps after 2 warm-up steps, completion tokens/s and peak RSS.
With --model: that Hugging Face folder (e.g. SmolLM2-135M-Instruct written by `grpo convert`) and
its tokenizer, on prompts in words (the texts `grpo bench grpo-step --model` uses). With --lora-r R:
PEFT LoRA adapters r R, alpha 2R, dropout 0.05 on every linear layer ("all-linear").
TRL's own defaults stay (gradient_checkpointing among them), as a user would run it.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402
from transformers import AutoTokenizer, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM, TrainerCallback  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

torch.set_num_threads(2)
VOCAB = 512


def tokenizer():
    vocab = {f"t{i}": i for i in range(VOCAB)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="t0"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="t0", pad_token="t1", eos_token="t2")
    fast.padding_side = "left"
    return fast


class StepTimer(TrainerCallback):
    def __init__(self):
        self.times, self.last = [], None

    def on_step_begin(self, args, state, control, **kw):
        self.last = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        self.times.append(time.perf_counter() - self.last)


def word_prompts(count):
    return [f"Question {i}: what is {100 + 37 * i % 900} plus {200 + 53 * i % 700}? Think step by step, then give the answer."
            for i in range(count)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--model")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--max-completion-length", type=int, default=32)
    parser.add_argument("--lora-r", type=int, default=0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    opts = parser.parse_args()
    torch.manual_seed(0)
    if opts.model:
        run(opts, opts.model, AutoTokenizer.from_pretrained(opts.model), word_prompts(opts.prompts * opts.generations))
        return
    config = Qwen2Config(vocab_size=VOCAB, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                         max_position_embeddings=1024, eos_token_id=2, pad_token_id=1, bos_token_id=None)
    model_dir = tempfile.mkdtemp()
    Qwen2ForCausalLM(config).save_pretrained(model_dir)  # TRL loads the reference model from a path
    g = torch.Generator().manual_seed(3)
    prompts = [" ".join(f"t{int(x)}" for x in torch.randint(3, VOCAB, (20,), generator=g))
               for _ in range(opts.prompts * opts.generations)]
    run(opts, model_dir, tokenizer(), prompts)


def run(opts, model_dir, processing_class, prompts):
    data = Dataset.from_dict({"prompt": prompts})
    batch = opts.prompts * opts.generations
    peft_config = None
    if opts.lora_r > 0:
        from peft import LoraConfig
        peft_config = LoraConfig(r=opts.lora_r, lora_alpha=2 * opts.lora_r, lora_dropout=0.05, target_modules="all-linear",
                                 task_type="CAUSAL_LM")

    def reward(completions, **kw):
        return [float(len(c) % 2) for c in completions]

    steps, warmup = opts.steps, opts.warmup
    with tempfile.TemporaryDirectory() as out:
        args = GRPOConfig(output_dir=out, per_device_train_batch_size=batch, gradient_accumulation_steps=1,
                          num_generations=opts.generations, max_completion_length=opts.max_completion_length, temperature=1.0, beta=0.04, epsilon=0.2,
                          num_iterations=1, loss_type="dapo", learning_rate=1e-5, max_steps=steps + warmup,
                          logging_steps=1, report_to=[], save_strategy="no", use_cpu=True, bf16=False,
                          dataloader_num_workers=0, seed=0)
        timer = StepTimer()
        trainer = GRPOTrainer(model=model_dir, reward_funcs=reward, args=args, train_dataset=data,
                              processing_class=processing_class, callbacks=[timer], peft_config=peft_config)
        trainer.train()
    timed = timer.times[warmup:]
    lengths = [h["completions/mean_length"] for h in trainer.state.log_history if "completions/mean_length" in h][warmup:]
    median = statistics.median(timed)
    tokens = statistics.median(lengths) * batch
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if opts.json:
        print(json.dumps({"trl": __import__("trl").__version__, "torch": torch.__version__, "median_step_seconds": median,
                          "completion_tokens_per_second": tokens / median, "peak_rss_mb": rss_mb,
                          "gradient_checkpointing": bool(args.gradient_checkpointing),
                          "mean_completion_length": statistics.median(lengths)}), flush=True)
        return
    print(f"TRL {__import__('trl').__version__}, torch {torch.__version__}: median {median:.3f} s/step over {len(timed)} steps; "
          f"{tokens / median:.0f} completion tokens/s; peak RSS {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
