"""The peer's GRPO step, for `grpo bench grpo-step` to be compared with: TRL 1.16 GRPOTrainer on
PyTorch CPU, same settings, same machine.

Run by hand (needs `pip install "trl==1.16.*" torch transformers tokenizers datasets`):

    python3 Scripts/bench_trl_grpo_step.py [--json]

`grpo bench grpo-step --trl` runs this script after its own measurement and prints the ratio.

Tiny Qwen2 preset (hidden 256, 4 layers, 4 heads, 2 KV heads, intermediate 768, vocab 512, tied
embeddings, random weights), 8 prompts x 8 completions of a ~20-token prompt, max_completion_length
32, temperature 1, beta 0.04, epsilon 0.2, num_iterations 1, loss_type dapo, 2 threads. Prints the
median seconds per step over 10 steps after 2 warm-up steps, completion tokens/s and peak RSS.
"""
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
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM, TrainerCallback  # noqa: E402
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


def main():
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=VOCAB, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                         max_position_embeddings=1024, eos_token_id=2, pad_token_id=1, bos_token_id=None)
    model_dir = tempfile.mkdtemp()
    Qwen2ForCausalLM(config).save_pretrained(model_dir)  # TRL loads the reference model from a path
    g = torch.Generator().manual_seed(3)
    prompts = [" ".join(f"t{int(x)}" for x in torch.randint(3, VOCAB, (20,), generator=g)) for _ in range(64)]
    data = Dataset.from_dict({"prompt": prompts})

    def reward(completions, **kw):
        return [float(len(c) % 2) for c in completions]

    steps, warmup = 10, 2
    with tempfile.TemporaryDirectory() as out:
        args = GRPOConfig(output_dir=out, per_device_train_batch_size=64, gradient_accumulation_steps=1,
                          num_generations=8, max_completion_length=32, temperature=1.0, beta=0.04, epsilon=0.2,
                          num_iterations=1, loss_type="dapo", learning_rate=1e-5, max_steps=steps + warmup,
                          logging_steps=1, report_to=[], save_strategy="no", use_cpu=True, bf16=False,
                          dataloader_num_workers=0, seed=0)
        timer = StepTimer()
        trainer = GRPOTrainer(model=model_dir, reward_funcs=reward, args=args, train_dataset=data,
                              processing_class=tokenizer(), callbacks=[timer])
        trainer.train()
    timed = timer.times[warmup:]
    lengths = [h["completions/mean_length"] for h in trainer.state.log_history if "completions/mean_length" in h][warmup:]
    median = statistics.median(timed)
    tokens = statistics.median(lengths) * 64
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if "--json" in sys.argv[1:]:
        print(json.dumps({"trl": __import__("trl").__version__, "torch": torch.__version__, "median_step_seconds": median,
                          "completion_tokens_per_second": tokens / median, "peak_rss_mb": rss_mb}), flush=True)
        return
    print(f"TRL {__import__('trl').__version__}, torch {torch.__version__}: median {median:.3f} s/step over {len(timed)} steps; "
          f"{tokens / median:.0f} completion tokens/s; peak RSS {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
