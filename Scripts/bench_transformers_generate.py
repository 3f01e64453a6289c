"""transformers' generate with the settings of `grpo bench generate`, on the same machine.

Run by hand (needs `pip install torch transformers gguf accelerate`; `make smollm2` for the real model):

    python3 Scripts/bench_transformers_generate.py [--gguf models/SmolLM2-135M-Instruct.Q4_1.gguf]

Tiny Qwen2 preset with random weights (vocab 512) and optionally the GGUF model, batch 1, 8 and 64,
16-token random prompts, 64 new tokens, temperature 1, 2 threads; tokens/s includes the prefill.
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
import torch  # noqa: E402
from transformers import AutoModelForCausalLM, Qwen2Config, Qwen2ForCausalLM  # noqa: E402

torch.set_num_threads(2)


def measure(name, model, vocab, batches=(1, 8, 64), prompt=16, new=64):
    model.eval()
    g = torch.Generator().manual_seed(7)
    for b in batches:
        ids = torch.randint(3, vocab, (b, prompt), generator=g)
        kw = dict(max_new_tokens=new, min_new_tokens=new, do_sample=True, temperature=1.0, top_k=0,
                  pad_token_id=0, attention_mask=torch.ones_like(ids))
        with torch.no_grad():
            model.generate(ids, **{**kw, "max_new_tokens": 4, "min_new_tokens": 4})
            times = []
            for _ in range(3):
                start = time.perf_counter()
                model.generate(ids, **kw)
                times.append(time.perf_counter() - start)
        s = statistics.median(times)
        print(f"{name:>34s}  batch {b:3d}  {b * new / s:7.0f} tokens/s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf")
    args = parser.parse_args()
    torch.manual_seed(1)
    config = Qwen2Config(vocab_size=512, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True, max_position_embeddings=1024)
    measure("tiny", Qwen2ForCausalLM(config), 512)
    if args.gguf:
        folder, name = os.path.split(os.path.abspath(args.gguf))
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        measure(name, model, model.config.vocab_size)


if __name__ == "__main__":
    main()
