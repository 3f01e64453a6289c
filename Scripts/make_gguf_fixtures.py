#!/usr/bin/env python3
"""Writes the GGUF test fixtures into Tests/ModelIOTests/Fixtures (outputs are committed; run by hand).

- gguf_blocks.json: raw blocks of every type our reader dequantises (F32, F16, BF16, Q8_0, Q4_0, Q4_1,
  Q4_K, Q5_K, Q6_K) as hex, with the fp32 values gguf-py's reference dequantiser gives. Q8_0/Q4_0/Q4_1
  blocks come from gguf-py's quantiser on seeded normal values; the k-quants (which gguf-py cannot
  quantise) are seeded random bytes with chosen half-precision scales, which exercise every bit.
- tiny_<arch>.gguf for llama, qwen2 and qwen3: tiny decoders written with gguf-py's GGUFWriter in mixed
  tensor types, Llama's q/k rows permuted the way llama.cpp's converter does, and tokenizer fields.
  tiny_<arch>.json holds checksums (sum, sum of squares) of every Hugging Face tensor and the values of
  a few (before the permutation, as fp32 after the type's rounding), the config transformers reads, and
  the logits transformers computes from the .gguf for two token sequences.
- metadata_types.gguf: one metadata key of every value type (nested arrays too) and one tensor.

Needs: pip install numpy gguf torch transformers accelerate.
Usage: python3 Scripts/make_gguf_fixtures.py
"""
import json
import os

import numpy as np
import torch
from gguf import GGMLQuantizationType as T, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ModelIOTests", "Fixtures")


def fixture_tensor(values):
    values = np.asarray(values, dtype=np.float32)
    return {"shape": list(values.shape), "data": [float(x) for x in values.reshape(-1)]}


def random_kquant_blocks(rng, qtype, count):
    """`count` blocks of random bytes whose f16 scale fields hold small positive values."""
    _, size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(count, size), dtype=np.uint8)
    halves = {T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208]}[qtype]
    for offset in halves:
        scale = rng.uniform(0.002, 0.03, size=count).astype(np.float16)
        raw[:, offset:offset + 2] = scale.view(np.uint8).reshape(count, 2)
    return raw


def encode(rng, qtype, count):
    """Raw bytes and gguf-py's fp32 values for `count` values of `qtype`."""
    if qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
        block, _ = GGML_QUANT_SIZES[qtype]
        raw = random_kquant_blocks(rng, qtype, count // block).reshape(-1)
    elif qtype == T.F32:
        raw = np.concatenate([[0.0, -0.0, 1.0, -2.5, 3.4e38, 1e-45], rng.normal(size=count - 6)]).astype(np.float32)
        raw = raw.view(np.uint8)
    elif qtype == T.F16:
        raw = np.concatenate([[0.0, -0.0, 65504, -6e-8, 1e-5], rng.normal(size=count - 5)]).astype(np.float16)
        raw = raw.view(np.uint8)
    elif qtype == T.BF16:
        bits = (rng.normal(size=count).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        raw = bits.view(np.uint8)
    else:
        raw = quantize(rng.normal(size=(1, count)).astype(np.float32), qtype).reshape(-1)
    values = dequantize(raw.reshape(1, -1), qtype).reshape(-1)
    assert values.size == count
    return raw, values


def write_blocks(rng):
    cases = [(T.F32, 16), (T.F16, 16), (T.BF16, 16), (T.Q8_0, 64), (T.Q4_0, 64), (T.Q4_1, 64),
             (T.Q4_K, 512), (T.Q5_K, 512), (T.Q6_K, 512)]
    params, tensors = {}, {}
    for qtype, count in cases:
        raw, values = encode(rng, qtype, count)
        params[qtype.name] = {"type_id": int(qtype), "hex": raw.tobytes().hex()}
        tensors[qtype.name] = fixture_tensor(values)
    with open(os.path.join(OUT, "gguf_blocks.json"), "w") as f:
        json.dump({"op": "gguf_blocks", "params": params, "tensors": tensors}, f)


def permute(w, n_head):
    """llama.cpp's converter: each head's rows [first half, second half] -> interleaved pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


TINY = {
    # vocab, hidden, heads, kv heads, head dim, intermediate, layers, rope theta, tied, q/k/v biases, q/k norms
    "llama": dict(vocab=48, hidden=32, heads=4, kv=2, head_dim=8, inter=256, layers=3, theta=10000.0, tied=False,
                  bias=False, qk_norm=False, alignment=None),
    "qwen2": dict(vocab=48, hidden=32, heads=4, kv=2, head_dim=8, inter=256, layers=3, theta=1000000.0, tied=True,
                  bias=True, qk_norm=False, alignment=64),
    # transformers' GGUF loader ignores qwen3.attention.key_length and uses Qwen3's default head_dim 128.
    "qwen3": dict(vocab=48, hidden=32, heads=2, kv=1, head_dim=128, inter=256, layers=3, theta=1000000.0, tied=False,
                  bias=False, qk_norm=True, alignment=None),
}
SEQUENCES = [[1, 5, 9, 2, 47, 30, 11], [3, 3, 40, 17]]


def write_tiny(arch, rng):
    c = TINY[arch]
    path = os.path.join(OUT, f"tiny_{arch}.gguf")
    writer = GGUFWriter(path, arch)
    if c["alignment"]:
        writer.add_custom_alignment(c["alignment"])
    writer.add_context_length(128)
    writer.add_embedding_length(c["hidden"])
    writer.add_block_count(c["layers"])
    writer.add_feed_forward_length(c["inter"])
    writer.add_head_count(c["heads"])
    writer.add_head_count_kv(c["kv"])
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(c["theta"])
    writer.add_key_length(c["head_dim"])
    writer.add_value_length(c["head_dim"])
    writer.add_rope_dimension_count(c["head_dim"])
    writer.add_vocab_size(c["vocab"])
    tokens = ["<unk>", "<s>", "</s>"] + [f"t{i}" for i in range(c["vocab"] - 3)]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_types([3, 3, 3] + [1] * (c["vocab"] - 3))
    writer.add_token_merges(["t 1", "t 2", "t1 0"])
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_pad_token_id(2)
    writer.add_chat_template("{% for m in messages %}{{ m['content'] }}{% endfor %}")
    hf, stored = {}, []  # Hugging Face name -> fp32 values; (gguf name, array, raw type)

    def add(hf_name, gguf_name, shape, qtype, std=0.1, mean=0.0, permute_heads=None):
        rows, cols = shape if len(shape) == 2 else (1, shape[0])
        if qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
            raw, values = encode(rng, qtype, rows * cols)
            stored.append((gguf_name, raw.reshape(rows, -1), qtype))
            hf[hf_name] = values.reshape(shape)
            return
        w = (mean + std * rng.normal(size=shape)).astype(np.float32)
        on_disk = permute(w, permute_heads) if permute_heads else w
        if qtype == T.F32:
            stored.append((gguf_name, on_disk, None))
            hf[hf_name] = w
        elif qtype == T.F16:
            stored.append((gguf_name, on_disk.astype(np.float16), None))
            hf[hf_name] = w.astype(np.float16).astype(np.float32)
        else:
            raw = quantize(on_disk.reshape(rows, cols), qtype)
            stored.append((gguf_name, raw, qtype))
            values = dequantize(raw, qtype).reshape(shape)
            assert not permute_heads, "quantised q/k would need the inverse permutation here"
            hf[hf_name] = values

    h, q, kv = c["hidden"], c["heads"] * c["head_dim"], c["kv"] * c["head_dim"]
    permuted = arch == "llama"
    add("model.embed_tokens.weight", "token_embd.weight", (c["vocab"], h), T.Q8_0, std=0.5)
    for layer in range(c["layers"]):
        p, b = f"model.layers.{layer}.", f"blk.{layer}."
        add(p + "input_layernorm.weight", b + "attn_norm.weight", (h,), T.F32, mean=1.0)
        add(p + "self_attn.q_proj.weight", b + "attn_q.weight", (q, h), T.F32, std=0.3,
            permute_heads=c["heads"] if permuted else None)
        add(p + "self_attn.k_proj.weight", b + "attn_k.weight", (kv, h), T.F16, std=0.3,
            permute_heads=c["kv"] if permuted else None)
        add(p + "self_attn.v_proj.weight", b + "attn_v.weight", (kv, h), T.Q8_0, std=0.2)
        if c["bias"]:
            add(p + "self_attn.q_proj.bias", b + "attn_q.bias", (q,), T.F32)
            add(p + "self_attn.k_proj.bias", b + "attn_k.bias", (kv,), T.F32)
            add(p + "self_attn.v_proj.bias", b + "attn_v.bias", (kv,), T.F32)
        add(p + "self_attn.o_proj.weight", b + "attn_output.weight", (h, q), T.Q4_0, std=0.2)
        if c["qk_norm"]:
            add(p + "self_attn.q_norm.weight", b + "attn_q_norm.weight", (c["head_dim"],), T.F32, mean=1.0)
            add(p + "self_attn.k_norm.weight", b + "attn_k_norm.weight", (c["head_dim"],), T.F32, mean=1.0)
        add(p + "post_attention_layernorm.weight", b + "ffn_norm.weight", (h,), T.F32, mean=1.0)
        add(p + "mlp.gate_proj.weight", b + "ffn_gate.weight", (c["inter"], h), T.Q4_1, std=0.2)
        add(p + "mlp.up_proj.weight", b + "ffn_up.weight", (c["inter"], h), T.Q8_0, std=0.2)
        add(p + "mlp.down_proj.weight", b + "ffn_down.weight", (h, c["inter"]), [T.Q4_K, T.Q5_K, T.Q6_K][layer])
    add("model.norm.weight", "output_norm.weight", (h,), T.F32, mean=1.0)
    if not c["tied"]:
        add("lm_head.weight", "output.weight", (c["vocab"], h), T.F16, std=0.3)
    for name, array, raw_dtype in stored:
        writer.add_tensor(name, array, raw_dtype=raw_dtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(OUT, gguf_file=f"tiny_{arch}.gguf", dtype=torch.float32).eval()
    state = model.state_dict()
    for name, values in hf.items():  # our expected tensors are what transformers loaded
        assert np.array_equal(state[name].numpy(), values), f"{arch}: transformers' {name} differs"
    cfg = model.config
    params = {"architecture": arch, "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size,
              "intermediate_size": cfg.intermediate_size, "num_hidden_layers": cfg.num_hidden_layers,
              "num_attention_heads": cfg.num_attention_heads, "num_key_value_heads": cfg.num_key_value_heads,
              "head_dim": getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads,
              "rms_norm_eps": cfg.rms_norm_eps, "rope_theta": c["theta"],
              "tie_word_embeddings": cfg.tie_word_embeddings, "max_position_embeddings": cfg.max_position_embeddings,
              "alignment": c["alignment"] or 32, "sequences": SEQUENCES, "tokens": len(tokens)}
    # Every tensor's checksum, and the values of a few (q/k to check the un-permutation, a k-quant).
    params["checksums"] = {name: [float(values.astype(np.float64).sum()), float((values.astype(np.float64) ** 2).sum())]
                           for name, values in hf.items()}
    shown = {"llama": ["model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight"],
             "qwen2": ["model.layers.0.self_attn.q_proj.bias", "model.layers.1.self_attn.k_proj.weight"],
             "qwen3": ["model.layers.0.self_attn.q_norm.weight", "model.norm.weight"]}[arch]
    tensors = {name: fixture_tensor(hf[name]) for name in shown if name in hf}
    with torch.no_grad():
        for i, ids in enumerate(SEQUENCES):
            tensors[f"logits_{i}"] = fixture_tensor(model(torch.tensor([ids])).logits[0].numpy())
    with open(os.path.join(OUT, f"tiny_{arch}.json"), "w") as f:
        json.dump({"op": f"gguf_tiny_{arch}", "params": params, "tensors": tensors}, f)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def write_metadata_types():
    """A file with one metadata key of every value type (nested arrays too), and one tensor."""
    path = os.path.join(OUT, "metadata_types.gguf")
    writer = GGUFWriter(path, "test")
    writer.add_uint8("test.u8", 200)
    writer.add_int8("test.i8", -100)
    writer.add_uint16("test.u16", 60000)
    writer.add_int16("test.i16", -30000)
    writer.add_uint32("test.u32", 4000000000)
    writer.add_int32("test.i32", -2000000000)
    writer.add_float32("test.f32", 0.25)
    writer.add_uint64("test.u64", 2**63 + 5)
    writer.add_int64("test.i64", -(2**62))
    writer.add_float64("test.f64", -1.5e300)
    writer.add_bool("test.bool", True)
    writer.add_string("test.string", "h\u00e9llo \u2713")
    writer.add_array("test.strings", ["a", "", "bc"])
    writer.add_array("test.floats", [0.5, -2.0])
    writer.add_array("test.nested", [[1, 2], [3]])
    writer.add_tensor("t", np.arange(6, dtype=np.float32).reshape(2, 3))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240605)
    write_blocks(rng)
    write_metadata_types()
    for arch in TINY:
        write_tiny(arch, rng)


if __name__ == "__main__":
    main()
