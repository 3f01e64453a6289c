"""One real PPO update of TRL 1.12's PPOTrainer.train() on a tiny float32 Qwen2, for the Swift PPO trainer to
reproduce end to end (rollout tensors, logged metrics and the weights after two AdamW steps).

Run from the repository root with the TRL 1.12 venv (TRL >= 1.13 has no PPOTrainer; see /work/notes/ppo-trl.md):

    /work/venvs/trl112/bin/python Scripts/make_ppo_step_fixture.py

It takes a few seconds on one CPU thread. It writes Tests/TrainingTests/Fixtures/ppo_step/:

  - policy/ (config.json, model.safetensors, generation_config.json): the initial policy, a random tiny
    Qwen2ForCausalLM (vocab 32, hidden 32, intermediate 64, 2 layers, 4 heads, 2 KV heads, tied embeddings,
    q/k/v biases, bos 2, eos 1, pad 0), float32. Its RMSNorm weights and q/k/v biases are moved away from their
    init (+ 0.1 * randn), so a loader that drops them fails. The reference model is TRL's default: a frozen copy
    of this policy (ref_model=None).
  - value_model/ (config.json, model.safetensors): the initial value model,
    AutoModelForSequenceClassification.from_pretrained(policy/, num_labels=1), i.e. Qwen2ForSequenceClassification
    with the policy's backbone and a seeded random `score.weight` (1, 32); config.pad_token_id = 0.
  - policy_after.safetensors: the policy after the update (HF names, model.* only; lm_head is tied to
    model.embed_tokens.weight and is not stored).
  - value_after.safetensors: the value model after the update (model.* and score.weight).
  - steps.json: the settings, the prompts and responses (token ids, unpadded; responses include their eos), the
    fixed scores, the rollout tensors TRL computed, the per-micro-batch losses and statistics of both PPO epochs,
    TRL's logged metrics, the number of optimizer steps, the optimizer's hyper-parameters and the library versions.
    Every per-row array is in prompt order (row i belongs to prompts[i]); TRL's own row order (the dataloader
    shuffles the 4 prompts) is kept as `trl_row_to_prompt`, and each epoch's `b_inds` too. Masks are 1 = excluded
    (TRL's padding_mask / padding_mask_p1); masked logprobs hold INVALID_LOGPROB = 1.0.

How it is made deterministic (everything else is the unmodified PPOTrainer.train()):

  - Generation: ppo_trainer.batch_generation (ppo_trainer.py:114) is replaced by a function that returns the fixed
    responses, right-padded with pad 0 to T = 5, after the (left-padded) queries TRL passes, and as logits the
    policy's own logits for those tokens: TRL's `forward` (ppo_trainer.py:191: pad-masked attention, exclusive-cumsum
    position ids) of the policy on query+response, sliced [:, context_length-1 : -1], cast to float32 and divided by
    (temperature + 1e-7). These are generate's processed scores for a sampler that drew these tokens (no logits
    processor other than the temperature applies: top_k=0, top_p=1.0), so the "old" logprobs are the policy's.
    Each query row is matched to its prompt by its unpadded ids, so the responses follow the prompts whatever the
    dataloader's order.
  - Scores: the `get_reward` that ppo_trainer.py imports (trl/experimental/utils.py:746) is wrapped; for the reward
    model it runs the original and replaces the score by the fixed score of the row's prompt; for the value model
    it is untouched.
  - One rollout of 4 rows (per_device_train_batch_size 4, gradient_accumulation_steps 1, num_mini_batches 1,
    total_episodes 4): one micro-batch holds the whole rollout, so each of the 2 PPO epochs is exactly one AdamW
    step (counted on the inner torch optimizer), and the numpy row shuffle b_inds only permutes the rows inside the
    micro-batch (the masked means are order-independent up to float rounding). numpy is seeded anyway.
  - Since the reference is an exact copy of the policy and the old logprobs are the policy's, the rollout KL is 0
    (bit for bit here); rewards are then just the scores at the score positions. For the same reason the first
    epoch's ratio is exactly 1 (approxkl 0, pg_loss ~ 0, but a non-zero policy gradient -A/N per token).

What a reimplementation should expect:

  - The optimizer is transformers' default torch AdamW (fused=True on CPU here; betas 0.9/0.999, eps 1e-8, weight
    decay 0 in both parameter groups, constant lr 1e-3, no gradient clipping). Each element moves by at most
    ~2 * lr over the two steps.
  - In the value model, the embedding rows of tokens that feed no trained value position stay unchanged: the pad 0,
    every id in no prompt or response, and the last token of the full-length row (its hidden state is only read at
    the value position after the response, which TRL slices off). The tied policy embedding changes in every row
    (through lm_head).
  - An independent float32 re-implementation on unpadded rows with torch's non-fused AdamW matched the rollout
    tensors to ~4e-7 and the final weights to 1.1e-5 (one element whose second-step gradient is near 0, where
    Adam's step is sensitive); every other element within 1e-6.

The rollout and micro-batch tensors are recorded with sys.settrace on PPOTrainer.train at ppo_trainer.py:797
(advantages before whitening), :803 (each PPO epoch's b_inds; the first time also every rollout tensor) and :869
(end of each micro-batch), as in Scripts/make_ppo_fixtures.py. The logged metrics are
caught by replacing trainer.log. `eps` (episodes per second) depends on the wall clock and is not reproducible.
"""
import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402

assert trl.__version__.startswith("1.12"), f"line numbers are for TRL 1.12.0, found {trl.__version__}"

import trl.experimental.ppo.ppo_trainer as ppo_module  # noqa: E402
from datasets import Dataset  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSequenceClassification,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen2ForSequenceClassification,
)
from trl.experimental.ppo import PPOConfig, PPOTrainer  # noqa: E402
from trl.experimental.ppo.ppo_trainer import INVALID_LOGPROB  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "Tests", "TrainingTests", "Fixtures", "ppo_step")
PAD, EOS, BOS, VOCAB = 0, 1, 2, 32
SEED = 1
TEMPERATURE = 0.7
SCORES = [0.8, -0.3, 1.2, 0.1]
PROMPT_LENGTHS = [3, 5, 4, 6]
T = 5

PPO_SETTINGS = dict(
    bf16=False, fp16=False, per_device_train_batch_size=4, gradient_accumulation_steps=1, num_mini_batches=1,
    num_ppo_epochs=2, learning_rate=1e-3, lr_scheduler_type="constant", weight_decay=0.0, kl_coef=0.05,
    kl_estimator="k1", cliprange=0.2, vf_coef=0.1, cliprange_value=0.2, gamma=1.0, lam=0.95, whiten_rewards=False,
    missing_eos_penalty=None, response_length=T, temperature=TEMPERATURE, stop_token="eos", total_episodes=4,
    local_rollout_forward_batch_size=4, num_sample_generations=0, seed=SEED, report_to="none",
)
# Needed to run on CPU / quietly; none of them changes the math.
RUN_SETTINGS = dict(use_cpu=True, gradient_checkpointing=False, save_strategy="no", disable_tqdm=True,
                    logging_strategy="no")


def make_prompts_and_responses():
    g = torch.Generator().manual_seed(20240611)
    prompts = [torch.randint(3, VOCAB, (n,), generator=g).tolist() for n in PROMPT_LENGTHS]
    assert len({tuple(p) for p in prompts}) == len(prompts)

    def ids(n):
        return torch.randint(3, VOCAB, (n,), generator=g).tolist()
    # a..e are drawn independently for every row
    responses = [ids(2) + [EOS],  # eos at index 2
                 ids(5),  # fills T = 5, no eos
                 ids(1) + [EOS],  # eos at index 1
                 ids(3) + [EOS]]  # eos at index 3
    return prompts, responses


def make_policy():
    torch.manual_seed(SEED)
    config = Qwen2Config(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6,
                         rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=BOS, eos_token_id=EOS,
                         pad_token_id=PAD)
    policy = Qwen2ForCausalLM(config).float()
    with torch.no_grad():
        for name, p in policy.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))  # away from init, so a loader that drops them fails
    assert policy.lm_head.weight.data_ptr() == policy.model.embed_tokens.weight.data_ptr(), "lm_head not tied"
    return policy


def make_tokenizer():
    vocab = {f"t{i}": i for i in range(VOCAB)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="t0"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="t0", eos_token="t1", bos_token="t2",
                                        padding_side="left")
    assert tokenizer.pad_token_id == PAD and tokenizer.eos_token_id == EOS
    return tokenizer


def state(model, drop_lm_head=False):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()
            if not (drop_lm_head and k.startswith("lm_head."))}


def main():
    torch.set_num_threads(1)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    prompts, responses = make_prompts_and_responses()

    # ---- models -------------------------------------------------------------------------------------------------
    policy = make_policy()
    policy_dir = os.path.join(OUT, "policy")
    policy.save_pretrained(policy_dir, safe_serialization=True)
    policy = Qwen2ForCausalLM.from_pretrained(policy_dir, dtype=torch.float32)  # train what the Swift side loads

    torch.manual_seed(SEED + 1)
    value_model = AutoModelForSequenceClassification.from_pretrained(policy_dir, num_labels=1, dtype=torch.float32)
    assert isinstance(value_model, Qwen2ForSequenceClassification)
    value_model.config.pad_token_id = PAD
    with torch.no_grad():  # seeded explicitly, whatever from_pretrained's init of missing weights does
        value_model.score.weight.copy_(0.1 * torch.randn(1, 32, generator=torch.Generator().manual_seed(SEED + 2)))
    value_dir = os.path.join(OUT, "value_model")
    value_model.save_pretrained(value_dir, safe_serialization=True)
    value_model = AutoModelForSequenceClassification.from_pretrained(value_dir, dtype=torch.float32)
    assert value_model.config.pad_token_id == PAD and value_model.config.num_labels == 1

    torch.manual_seed(SEED + 3)
    rm_dict = {k: v for k, v in policy.config.to_dict().items() if k not in ("id2label", "label2id")}
    rm_config = Qwen2Config(**{**rm_dict, "num_labels": 1, "pad_token_id": PAD})
    reward_model = Qwen2ForSequenceClassification(rm_config).float()  # its outputs are replaced by SCORES

    policy_before, value_before = state(policy, drop_lm_head=True), state(value_model)
    tokenizer = make_tokenizer()
    dataset = Dataset.from_dict({"input_ids": prompts})

    # ---- deterministic rollout: fixed responses and scores --------------------------------------------------------
    prompt_index = {tuple(p): i for i, p in enumerate(prompts)}
    row_to_prompt = []
    gen_calls = []
    orig_get_reward = ppo_module.get_reward

    def fixed_batch_generation(model, queries, local_rollout_forward_batch_size, pad_token_id, generation_config):
        rows = [prompt_index[tuple(q[q != pad_token_id].tolist())] for q in queries]
        for q in queries:  # left-padded: pads only before the first real token
            real = (q != pad_token_id).long()
            assert torch.equal(real, real.cummax(0).values), q
        row_to_prompt[:] = rows
        resp = torch.full((len(rows), T), pad_token_id, dtype=torch.long, device=queries.device)
        for r, p in enumerate(rows):
            resp[r, :len(responses[p])] = torch.tensor(responses[p])
        query_responses = torch.cat([queries, resp], 1)
        context_length = queries.shape[1]
        with torch.no_grad():
            out = ppo_module.forward(model, query_responses, pad_token_id)
        logits = out.logits[:, context_length - 1: -1].float() / (TEMPERATURE + 1e-7)
        gen_calls.append(dict(generation_config=generation_config.to_dict(), training=model.training))
        return query_responses, logits

    def fixed_get_reward(model, query_responses, pad_token_id, context_length):
        out = orig_get_reward(model, query_responses, pad_token_id, context_length)
        if model is reward_model:
            assert query_responses.shape[0] == len(row_to_prompt)
            score = torch.tensor([SCORES[p] for p in row_to_prompt], dtype=out[1].dtype, device=out[1].device)
            return out[0], score, out[2]
        return out

    ppo_module.batch_generation = fixed_batch_generation
    ppo_module.get_reward = fixed_get_reward

    # ---- trainer ------------------------------------------------------------------------------------------------
    out_dir = tempfile.mkdtemp(prefix="ppo_step_")
    args = PPOConfig(output_dir=out_dir, **PPO_SETTINGS, **RUN_SETTINGS)
    trainer = PPOTrainer(args=args, processing_class=tokenizer, model=policy, ref_model=None,
                         reward_model=reward_model, train_dataset=dataset, value_model=value_model)
    assert trainer.stop_token_id == EOS
    assert args.num_total_batches == 1, args.num_total_batches

    code = PPOTrainer.train.__code__
    want = {797: "adv_raw", 803: "epoch", 869: "micro"}
    keep = ("micro_batch_inds", "b_inds", "ppo_epoch_idx", "minibatch_idx", "gradient_accumulation_idx",
            "context_length", "update")
    snaps = []

    def tracer(frame, event, arg):
        if frame.f_code is not code:
            return None

        def local(frame, event, arg):
            if event == "line" and frame.f_lineno in want:
                snaps.append((want[frame.f_lineno], {
                    k: (v.detach().clone() if torch.is_tensor(v) else (v.copy() if isinstance(v, np.ndarray) else v))
                    for k, v in frame.f_locals.items() if torch.is_tensor(v) or k in keep}))
            return local
        return local

    logs = []
    trainer.log = lambda metrics, *a, **k: logs.append(dict(metrics))
    steps = []
    inner = trainer.optimizer.optimizer
    inner_step = inner.step

    def counting_step(*a, **k):
        steps.append(1)
        return inner_step(*a, **k)
    inner.step = counting_step

    np.random.seed(SEED)
    sys.settrace(tracer)
    try:
        trainer.train()
    finally:
        sys.settrace(None)
        shutil.rmtree(out_dir, ignore_errors=True)
    assert len(gen_calls) == 1 and len(logs) == 1
    assert len(steps) == 2, f"expected 2 optimizer steps, got {len(steps)}"

    # ---- weights after ------------------------------------------------------------------------------------------
    wrapper = trainer.accelerator.unwrap_model(trainer.model)
    assert wrapper.policy is policy and wrapper.value_model is value_model
    policy_after, value_after = state(policy, drop_lm_head=True), state(value_model)
    save_file(policy_after, os.path.join(OUT, "policy_after.safetensors"), metadata={"format": "pt"})
    save_file(value_after, os.path.join(OUT, "value_after.safetensors"), metadata={"format": "pt"})
    # the saved initial folders hold exactly the weights that were trained
    saved_policy = load_file(os.path.join(policy_dir, "model.safetensors"))
    saved_value = load_file(os.path.join(value_dir, "model.safetensors"))
    assert set(saved_policy) == set(policy_before), set(saved_policy) ^ set(policy_before)
    assert set(saved_value) == set(value_before), set(saved_value) ^ set(value_before)
    for k in saved_policy:
        assert torch.equal(saved_policy[k], policy_before[k]), k
    for k in saved_value:
        assert torch.equal(saved_value[k], value_before[k]), k

    changes = {}
    for tag, before, after in [("policy", policy_before, policy_after), ("value", value_before, value_after)]:
        for k in before:
            d = (after[k] - before[k]).abs()
            changes[f"{tag}:{k}"] = dict(rel_norm=(d.norm() / before[k].norm()).item(), max_abs=d.max().item(),
                                         max_rel=(d / before[k].abs().clamp_min(1e-12)).max().item(),
                                         frac_unchanged=(d == 0).float().mean().item())

    # ---- recorded tensors, in prompt order --------------------------------------------------------------------
    adv_raw = next(v for k, v in snaps if k == "adv_raw")
    epochs = [v for k, v in snaps if k == "epoch"]
    micros = [v for k, v in snaps if k == "micro"]
    roll = epochs[0]
    assert len(epochs) == 2 and len(micros) == 2
    row_to_prompt_t = torch.tensor(row_to_prompt)
    prompt_to_row = torch.argsort(row_to_prompt_t)  # prompt i sits at TRL row prompt_to_row[i]

    def P(x):  # TRL row order -> prompt order
        return x[prompt_to_row]

    def L(x):
        if torch.is_tensor(x):
            return x.long().tolist() if x.dtype == torch.bool else x.tolist()
        if isinstance(x, np.ndarray):
            return x.tolist()
        return x

    for r, p in enumerate(row_to_prompt):  # the rollout really used the fixed responses
        assert roll["responses"][r, :len(responses[p])].tolist() == responses[p]
        assert (roll["responses"][r, len(responses[p]):] == PAD).all()
    assert torch.equal(roll["postprocessed_responses"], roll["responses"])

    rollout_keys = ["responses", "postprocessed_responses", "sequence_lengths", "logprobs", "ref_logprobs", "values",
                    "scores", "kl", "non_score_reward", "rewards", "advantages", "returns", "padding_mask",
                    "padding_mask_p1"]
    rollout = {k: L(P(roll[k])) for k in rollout_keys}
    rollout["advantages_unwhitened"] = L(P(adv_raw["advantages"]))
    rollout["contain_eos_token"] = L(P(roll["contain_eos_token"]))
    rollout["query_responses"] = L(P(roll["query_responses"]))  # left-padded queries + right-padded responses
    rollout["context_length"] = int(roll["context_length"])

    micro_batches = []
    micro_keys = ["new_logprobs", "vpred", "vpredclipped", "vf_losses1", "vf_losses2", "ratio", "pg_losses",
                  "pg_losses2", "entropy", "logits"]
    for m in micros:
        inds = torch.as_tensor(np.asarray(m["micro_batch_inds"]))
        rows_prompt = row_to_prompt_t[inds]  # micro-batch row j is prompt rows_prompt[j]
        order = torch.argsort(rows_prompt)
        assert rows_prompt[order].tolist() == list(range(4))
        entry = {k: L(m[k][order]) for k in micro_keys}
        entry["logits_note"] = "policy logits [:, context_length-1:-1] / (temperature + 1e-7), float32, prompt order"
        for k in ["pg_loss", "vf_loss", "loss", "pg_clipfrac", "vf_clipfrac", "approxkl"]:
            entry[k] = m[k].item()
        entry["entropy_mean"] = m["entropy"].mean().item()
        entry["ratio_mean"] = m["ratio"].mean().item()
        entry["ppo_epoch_idx"] = int(m["ppo_epoch_idx"])
        entry["b_inds"] = L(m["b_inds"])
        entry["micro_batch_prompt_order"] = rows_prompt.tolist()
        micro_batches.append(entry)

    # order-free sanity checks of what was recorded
    assert rollout["sequence_lengths"] == [len(r) - 1 for r in responses]
    assert rollout["scores"] == [float(np.float32(s)) for s in SCORES]
    assert abs(logs[0]["objective/scores"] - float(np.mean(SCORES))) < 1e-6
    assert abs(logs[0]["loss/policy_avg"] - np.mean([m["pg_loss"] for m in micro_batches])) < 1e-6

    opt_group = {k: (list(v) if isinstance(v, tuple) else v) for k, v in inner.param_groups[0].items() if k != "params"}
    steps_json = {
        "description": "One PPOTrainer.train() update of TRL 1.12 (see Scripts/make_ppo_step_fixture.py).",
        "settings": {**PPO_SETTINGS, **RUN_SETTINGS, "pad_token_id": PAD, "eos_token_id": EOS, "bos_token_id": BOS,
                     "stop_token_id": trainer.stop_token_id, "ref_model": "frozen copy of the initial policy",
                     "local_batch_size": args.local_batch_size, "local_mini_batch_size": args.local_mini_batch_size,
                     "num_total_batches": args.num_total_batches, "max_grad_norm_applied": False,
                     "invalid_logprob": INVALID_LOGPROB,
                     "attn_implementation": policy.config._attn_implementation},
        "optimizer": {"class": type(inner).__name__, "param_groups": len(inner.param_groups),
                      "param_group_0": opt_group,
                      "weight_decay_per_group": [g["weight_decay"] for g in inner.param_groups],
                      "note": "one AdamW over the policy and the value model's parameters; no gradient clipping"},
        "prompts": prompts,
        "responses": responses,
        "scores": SCORES,
        "rollout": rollout,
        "trl_row_to_prompt": row_to_prompt,
        "micro_batches": micro_batches,
        "metrics": logs[0],
        "metrics_note": "eps is episodes per second (wall clock): not reproducible",
        "optimizer_steps": len(steps),
        "weight_changes": changes,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__,
                     "python": sys.version.split()[0]},
    }
    with open(os.path.join(OUT, "steps.json"), "w") as f:
        json.dump(steps_json, f, indent=1)

    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({total} bytes); optimizer steps: {len(steps)}; "
          f"TRL row -> prompt: {row_to_prompt}; b_inds: {[m['b_inds'] for m in micro_batches]}")
    print("metrics:", json.dumps(logs[0]))
    ranked = sorted(changes.items(), key=lambda kv: kv[1]["rel_norm"])
    for k, c in ranked[:3] + ranked[-3:]:
        print(f"  {k}: rel_norm {c['rel_norm']:.3e} max_abs {c['max_abs']:.3e} unchanged {c['frac_unchanged']:.3f}")
    unchanged = [k for k, c in changes.items() if c["max_abs"] == 0]
    print("tensors that did not change:", unchanged or "none")


if __name__ == "__main__":
    main()
