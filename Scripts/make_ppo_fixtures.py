"""PPO math fixtures from TRL 1.12's own PPOTrainer code (the last TRL line that ships PPOTrainer).

Writes Tests/TrainingTests/Fixtures/ppo_math.json. Run from the repository root with the TRL 1.12 venv
(TRL >= 1.13 no longer has PPOTrainer; the system Python keeps TRL 1.16 for the GRPO fixtures):

    python3 -m venv --system-site-packages /work/venvs/trl112
    /work/venvs/trl112/bin/pip install "trl==1.12.*"
    /work/venvs/trl112/bin/python Scripts/make_ppo_fixtures.py            # fixtures + check against train()
    /work/venvs/trl112/bin/python Scripts/make_ppo_fixtures.py --no-check # fixtures only

PPOTrainer.train() computes its loss inline, so the lines below are a line-by-line replica, in float64, of
trl/experimental/ppo/ppo_trainer.py (TRL 1.12.0), built on TRL's own helpers imported from that module
(`masked_mean` :237, `masked_var` :245, `masked_whiten` :264, `truncate_response` :168, `INVALID_LOGPROB` :69),
`first_true_indices` (trl/experimental/utils.py:723) and `selective_log_softmax` (trl/trainer/utils.py:480):

- rollout(): ppo_trainer.py:718-723 (truncate at stop_token_id), :727 (sequence_length = first pad - 1),
  :757-759 (missing_eos_penalty on rows without eos_token_id), :763-769 (padding_mask, INVALID_LOGPROB=1.0 fill,
  values masked with the one-longer padding_mask_p1), :773-779 (k1 / k3 KL, -kl_coef * kl, score added at
  sequence_length + 1, or at sequence_length when the response fills the whole length), :782-784
  (whiten_rewards: masked_whiten(shift_mean=False) over ~padding_mask_p1, then zero), :787-798 (GAE backwards
  with next value 0 after the last position, returns = advantages + values, masked_whiten of the advantages
  over ~padding_mask with shift_mean=True, then zero on padding), and the logged rollout metrics :881-905.
- micro_batch(): ppo_trainer.py:820-868 (logits[:, context-1:-1] / (temperature + 1e-7), selective_log_softmax,
  INVALID_LOGPROB fill of the new logprobs, vpred masked with padding_mask_p1, the clipped value loss
  0.5 * masked_mean(max((v-R)^2, (clip(v, V-c, V+c)-R)^2), ~padding_mask_p1), the clipped policy loss
  masked_mean(max(-A r, -A clip(r, 1-c, 1+c)), ~padding_mask), loss = pg_loss + vf_coef * vf_loss, and the
  micro-batch statistics pg_clipfrac, vf_clipfrac, approxkl, entropy, ratio). The gradients of `loss` with
  respect to the new logits, new logprobs and new values come from torch.autograd in float64.

Each case holds the inputs (raw response tokens, rollout logprobs, reference logprobs and value-head outputs on
every position, before TRL's masking; reward-model scores; the micro-batch's new logits and new value-head
outputs, and which rows it takes), the settings, and TRL's intermediate and final values. Arrays of the
micro-batch follow the order of `micro_batch_inds`. Masks are 1 where TRL's `padding_mask` /
`padding_mask_p1` are True (i.e. 1 = excluded).

Unless --no-check is given, the script then runs the real PPOTrainer.train() for two updates on tiny random
float64 GPT-2 models (policy, value and reward models built from a config, no download), records TRL's own
tensors with sys.settrace at ppo_trainer.py:757, :797, :803 and :869, feeds them to the same replica and
asserts that every reward, advantage, return, loss, statistic and logged metric agrees. It also counts the real
optimizer steps (see the notes in /work/notes/ppo-trl.md on accelerate's gradient accumulation).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

import torch  # noqa: E402
import trl  # noqa: E402

assert trl.__version__.startswith("1.12"), f"line citations are for TRL 1.12.0, found {trl.__version__}"

import trl.experimental.ppo.ppo_trainer as ppo_module  # noqa: E402
from trl.experimental.ppo.ppo_trainer import (  # noqa: E402
    INVALID_LOGPROB,  # ppo_trainer.py:69
    masked_mean,  # ppo_trainer.py:237
    masked_whiten,  # ppo_trainer.py:264 (masked_var :245, unbiased)
    truncate_response,  # ppo_trainer.py:168
)
from trl.experimental.utils import first_true_indices  # noqa: E402  experimental/utils.py:723
from trl.trainer.utils import selective_log_softmax  # noqa: E402  trainer/utils.py:480

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "TrainingTests", "Fixtures", "ppo_math.json")
PAD, EOS = 0, 1


def rollout(responses, logprobs, ref_logprobs, values, scores, s):
    """ppo_trainer.py:718-799 and the rollout metrics :881-905, for one rollout batch (no micro-batching)."""
    out = {}
    # :719-723 Response Processing 1: truncate after the first stop token (kept), pad the rest
    postprocessed_responses = responses
    if s["stop_token_id"] is not None:
        postprocessed_responses = truncate_response(s["stop_token_id"], s["pad_token_id"], responses)
    # :727 index of the last real token (first pad - 1; T - 1 when there is no pad)
    sequence_lengths = first_true_indices(postprocessed_responses == s["pad_token_id"]) - 1
    # :757-759 Response Processing 3: penalise rows without eos_token_id (not stop_token_id!)
    contain_eos_token = torch.any(postprocessed_responses == s["eos_token_id"], dim=-1)
    scores = scores.clone()
    if s["missing_eos_penalty"] is not None:
        scores[~contain_eos_token] -= s["missing_eos_penalty"]
    # :763-769 masks; logprobs of padding := INVALID_LOGPROB; the value mask is one token longer
    response_idxs = torch.arange(responses.shape[1]).repeat(responses.shape[0], 1)
    padding_mask = response_idxs > sequence_lengths.unsqueeze(1)
    logprobs = torch.masked_fill(logprobs, padding_mask, INVALID_LOGPROB)
    ref_logprobs = torch.masked_fill(ref_logprobs, padding_mask, INVALID_LOGPROB)
    sequence_lengths_p1 = sequence_lengths + 1
    padding_mask_p1 = response_idxs > (sequence_lengths_p1.unsqueeze(1))
    values = torch.masked_fill(values, padding_mask_p1, 0)
    # :773-779 4. rewards: k1 = -logr, k3 = (exp(logr) - 1) - logr; score after the last real token if there is room
    logr = ref_logprobs - logprobs
    kl = -logr if s["kl_estimator"] == "k1" else (logr.exp() - 1) - logr
    non_score_reward = -s["kl_coef"] * kl
    rewards = non_score_reward.clone()
    actual_start = torch.arange(rewards.size(0))
    actual_end = torch.where(sequence_lengths_p1 < rewards.size(1), sequence_lengths_p1, sequence_lengths)
    rewards[actual_start, actual_end] += scores
    out["rewards_unwhitened"] = rewards.clone()
    # :782-784 5. whiten rewards (mean added back), zero beyond padding_mask_p1
    if s["whiten_rewards"]:
        rewards = masked_whiten(rewards, mask=~padding_mask_p1, shift_mean=False)
        rewards = torch.masked_fill(rewards, padding_mask_p1, 0)
    # :787-798 6. GAE, backwards over every position; the value after the last position is 0
    lastgaelam = 0
    advantages_reversed = []
    gen_length = responses.shape[1]
    for t in reversed(range(gen_length)):
        nextvalues = values[:, t + 1] if t < gen_length - 1 else 0.0
        delta = rewards[:, t] + s["gamma"] * nextvalues - values[:, t]
        lastgaelam = delta + s["gamma"] * s["lam"] * lastgaelam
        advantages_reversed.append(lastgaelam)
    advantages = torch.stack(advantages_reversed[::-1], axis=1)
    returns = advantages + values
    out["advantages_unwhitened"] = advantages.clone()
    advantages = masked_whiten(advantages, ~padding_mask)
    advantages = torch.masked_fill(advantages, padding_mask, 0)
    # :881-905 rollout metrics (one rank: gather_for_metrics is the identity)
    mean_kl = kl.sum(1).mean()
    mean_entropy = ((-logprobs) * (~padding_mask).float()).sum(1).mean()
    mean_non_score_reward = non_score_reward.sum(1).mean()
    rlhf_reward = mean_non_score_reward + scores.mean()
    metrics = {
        "objective/kl": float(mean_kl),
        "objective/entropy": float(mean_entropy),
        "objective/non_score_reward": float(mean_non_score_reward),
        "objective/rlhf_reward": float(rlhf_reward),
        "objective/scores": float(scores.mean()),
        "val/num_eos_tokens": int((responses == s["eos_token_id"]).sum()),  # raw responses, not postprocessed
    }
    out.update(postprocessed_responses=postprocessed_responses, sequence_lengths=sequence_lengths,
               contain_eos_token=contain_eos_token, scores=scores, padding_mask=padding_mask,
               padding_mask_p1=padding_mask_p1, logprobs=logprobs, ref_logprobs=ref_logprobs, values=values, kl=kl,
               non_score_reward=non_score_reward, score_index=actual_end, rewards=rewards, returns=returns,
               advantages=advantages, metrics=metrics)
    return out


def micro_batch(r, inds, new_logprobs, vpred, s, scaled_logits=None):
    """ppo_trainer.py:813-868 for the rows `inds` of rollout `r`. new_logprobs / vpred are the raw per-position
    outputs for those rows (before TRL's masking), scaled_logits the logits already divided by temperature + 1e-7."""
    mb_advantage = r["advantages"][inds]
    mb_logprobs = r["logprobs"][inds]
    mb_return = r["returns"][inds]
    mb_values = r["values"][inds]
    padding_mask = r["padding_mask"][inds]
    padding_mask_p1 = r["padding_mask_p1"][inds]
    # :824-828
    new_logprobs = torch.masked_fill(new_logprobs, padding_mask, INVALID_LOGPROB)
    vpred = torch.masked_fill(vpred, padding_mask_p1, 0)
    # :829-840 clipped value loss, masked over the one-longer value mask
    vpredclipped = torch.clamp(vpred, mb_values - s["cliprange_value"], mb_values + s["cliprange_value"])
    vf_losses1 = torch.square(vpred - mb_return)
    vf_losses2 = torch.square(vpredclipped - mb_return)
    vf_loss_max = torch.max(vf_losses1, vf_losses2)
    vf_loss = 0.5 * masked_mean(vf_loss_max, ~padding_mask_p1)
    vf_clipfrac = masked_mean((vf_losses2 > vf_losses1).float(), ~padding_mask_p1)
    # :841-847 clipped policy loss
    logprobs_diff = new_logprobs - mb_logprobs
    ratio = torch.exp(logprobs_diff)
    pg_losses = -mb_advantage * ratio
    pg_losses2 = -mb_advantage * torch.clamp(ratio, 1.0 - s["cliprange"], 1.0 + s["cliprange"])
    pg_loss_max = torch.max(pg_losses, pg_losses2)
    pg_loss = masked_mean(pg_loss_max, ~padding_mask)
    loss = pg_loss + s["vf_coef"] * vf_loss
    out = dict(new_logprobs=new_logprobs, vpred=vpred, vpredclipped=vpredclipped, vf_losses1=vf_losses1,
               vf_losses2=vf_losses2, ratio=ratio, pg_losses=pg_losses, pg_losses2=pg_losses2, pg_loss=pg_loss,
               vf_loss=vf_loss, loss=loss, vf_clipfrac=vf_clipfrac)
    # :851-868 statistics (no grad); entropy, approxkl and ratio are plain means over every position
    with torch.no_grad():
        out["pg_clipfrac"] = masked_mean((pg_losses2 > pg_losses).float(), ~padding_mask)
        out["approxkl"] = 0.5 * (logprobs_diff**2).mean()
        out["ratio_mean"] = ratio.mean()
        if scaled_logits is not None:
            prob_dist = torch.nn.functional.softmax(scaled_logits, dim=-1)
            entropy = torch.logsumexp(scaled_logits, dim=-1) - torch.sum(prob_dist * scaled_logits, dim=-1)
            out["entropy"] = entropy
            out["entropy_mean"] = entropy.mean()
    return out


# ----------------------------------------------------------------------------------------------------------------
# Fixture cases


def settings(**kw):
    s = dict(kl_coef=0.05, kl_estimator="k1", whiten_rewards=False, gamma=1.0, lam=0.95, cliprange=0.2,
             cliprange_value=0.2, vf_coef=0.1, temperature=0.7, missing_eos_penalty=None, stop_token_id=EOS,
             eos_token_id=EOS, pad_token_id=PAD)  # PPOConfig defaults (ppo_config.py:123-271), stop_token="eos"
    s.update(kw)
    return s


# Response rows (T = 5, vocabulary 0..5, pad 0, eos 1); `x` stands for any non-pad token.
ROWS_MIXED = [
    [3, 1, 0, 0, 0],  # eos at 1: last real token 1, score on position 2 (a padding position)
    [2, 4, 5, 1, 0],  # eos at 3: score on position 4 = T - 1, the only padding position
    [5, 2, 3, 4, 2],  # no eos, fills the length: score on its last token 4, together with that token's KL
    [4, 3, 2, 5, 1],  # eos on the last position: score on the eos token itself (no room after it)
]
ROWS_TRUNCATE = [
    [1, 4, 2, 0, 0],  # eos at 0 followed by tokens: truncate_response pads them; last real token 0, score on 1
    [2, 3, 1, 5, 4],  # tokens after the stop token are padded too
    [3, 5, 2, 4, 3],  # no eos
    [0, 4, 1, 3, 0],  # a sampled pad token first: last real token -1, every position masked, score on position 0
    [2, 0, 3, 1, 4],  # a sampled pad token mid-response ends it (last real token 0), yet the row "contains" eos
]
ROWS_FULL = [[2, 3, 4, 5, 2], [5, 4, 3, 2, 3], [3, 3, 5, 4, 2], [4, 2, 2, 3, 5]]  # every response fills T


def make_case(g, name, rows, s, micro_inds, note):
    b, t, v = len(rows), len(rows[0]), 6
    responses = torch.tensor(rows, dtype=torch.long)
    # Rollout log-probabilities from sampling-time logits (TRL: generate's scores, already / (temperature + 1e-7)),
    # the reference model's, and the value head on every position: random everywhere, padding included, since TRL
    # overwrites the padding itself.
    old_logits = torch.randn(b, t, v, generator=g, dtype=torch.float64) * 1.5
    ref_logits = old_logits + 0.3 * torch.randn(b, t, v, generator=g, dtype=torch.float64)
    temp = s["temperature"] + 1e-7
    logprobs = selective_log_softmax(old_logits / temp, responses)
    ref_logprobs = selective_log_softmax(ref_logits / temp, responses)
    values = 0.5 * torch.randn(b, t, generator=g, dtype=torch.float64)
    scores = torch.randn(b, generator=g, dtype=torch.float64) * 2
    r = rollout(responses, logprobs, ref_logprobs, values, scores, s)
    # The micro-batch: new logits near the old ones, new value-head outputs near the old values.
    inds = torch.tensor(micro_inds, dtype=torch.long)
    new_logits = (old_logits[inds] + 0.35 * torch.randn(len(inds), t, v, generator=g, dtype=torch.float64))
    new_logits.requires_grad_(True)
    new_values = (values[inds] + 0.3 * torch.randn(len(inds), t, generator=g, dtype=torch.float64)).requires_grad_(True)
    scaled = new_logits / temp  # :822 logits /= args.temperature + 1e-7
    new_logprobs = selective_log_softmax(scaled, responses[inds])  # :823
    new_logprobs.retain_grad()
    m = micro_batch(r, inds, new_logprobs, new_values, s, scaled_logits=scaled.detach())
    m["loss"].backward()

    def L(x):
        x = x.detach() if torch.is_tensor(x) else x
        if torch.is_tensor(x):
            if x.dtype == torch.bool:
                return x.long().tolist()
            return x.tolist()
        return x

    stats = {"pg_clipfrac": L(m["pg_clipfrac"]), "vf_clipfrac": L(m["vf_clipfrac"]), "approxkl": L(m["approxkl"]),
             "entropy_mean": L(m["entropy_mean"]), "ratio_mean": L(m["ratio_mean"])}
    return {
        "name": name,
        "note": note,
        "settings": s,
        "inputs": {
            "responses": L(responses),
            "logprobs": L(logprobs),
            "ref_logprobs": L(ref_logprobs),
            "values": L(values),
            "scores": L(scores),
            "micro_batch_inds": micro_inds,
            "new_logits": L(new_logits),
            "new_logprobs": L(new_logprobs),
            "new_values": L(new_values),
        },
        "rollout": {k: L(r[k]) for k in [
            "postprocessed_responses", "sequence_lengths", "contain_eos_token", "scores", "padding_mask",
            "padding_mask_p1", "logprobs", "ref_logprobs", "values", "kl", "non_score_reward", "score_index",
            "rewards_unwhitened", "rewards", "advantages_unwhitened", "returns", "advantages"]},
        "metrics": r["metrics"],
        "micro_batch": {
            **{k: L(m[k]) for k in ["new_logprobs", "vpred", "vpredclipped", "vf_losses1", "vf_losses2", "ratio",
                                    "pg_losses", "pg_losses2", "entropy"]},
            "pg_loss": L(m["pg_loss"]), "vf_loss": L(m["vf_loss"]), "loss": L(m["loss"]), **stats,
            "grad_new_logprobs": L(new_logprobs.grad),
            "grad_new_values": L(new_values.grad),
            "grad_new_logits": L(new_logits.grad),
        },
    }


def fixture_cases():
    g = torch.Generator().manual_seed(1012)
    all_rows = [0, 1, 2, 3]
    specs = [
        ("k1", ROWS_MIXED, settings(), all_rows,
         "defaults; rows end early (score on the next, padding position), at T-2, not at all, and on the last position"),
        ("k3", ROWS_MIXED, settings(kl_estimator="k3"), all_rows, "as k1 with the k3 estimator"),
        ("k1_whiten", ROWS_MIXED, settings(whiten_rewards=True), all_rows, "whiten_rewards over ~padding_mask_p1"),
        ("k3_whiten_penalty", ROWS_MIXED, settings(kl_estimator="k3", whiten_rewards=True, missing_eos_penalty=1.0),
         all_rows, "k3, whitened rewards, missing_eos_penalty on the row without eos"),
        ("full_length", ROWS_FULL, settings(missing_eos_penalty=0.5), all_rows,
         "every response fills the length: each score sits on the last token with its KL; next value 0 after it"),
        ("truncate_gamma", ROWS_TRUNCATE,
         settings(kl_estimator="k3", gamma=0.9, lam=0.8, kl_coef=0.2, cliprange=0.1, cliprange_value=0.05,
                  vf_coef=0.5, temperature=1.0), [2, 0],
         "tokens after the stop token are truncated; eos at 0; pad tokens sampled at 0 and mid-response; gamma/lam != defaults; the micro-batch is rows "
         "[2, 0] only (advantages are whitened over the whole batch, the losses are masked means over the "
         "micro-batch)"),
        ("no_stop_token", ROWS_TRUNCATE, settings(stop_token_id=None, whiten_rewards=True, missing_eos_penalty=2.0),
         [3, 1, 4, 0, 2],
         "stop_token_id None: no truncation, so only pad tokens end a response; rows still count as containing "
         "eos for missing_eos_penalty"),
    ]
    return [make_case(g, *spec) for spec in specs]


# ----------------------------------------------------------------------------------------------------------------
# Check of the replica against the real PPOTrainer.train()


def check_against_train():
    from datasets import Dataset
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel, PreTrainedTokenizerFast
    from trl.experimental.ppo import PPOConfig, PPOTrainer

    torch.manual_seed(0)
    vocab = {"<pad>": PAD, "<eos>": EOS, **{f"w{i}": i + 2 for i in range(14)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>",
                                        padding_side="left")
    cfg = GPT2Config(vocab_size=16, n_positions=32, n_embd=16, n_layer=1, n_head=2, pad_token_id=PAD,
                     eos_token_id=EOS, bos_token_id=EOS, num_labels=1)
    policy = GPT2LMHeadModel(cfg).double()
    with torch.no_grad():  # make eos likely so that responses end at different places
        policy.lm_head.weight[EOS] += 0.6 * policy.transformer.wte.weight.mean(0)
        policy.transformer.wte.weight[EOS] *= 3
    value_model = GPT2ForSequenceClassification(cfg).double()
    reward_model = GPT2ForSequenceClassification(cfg).double()
    ids = [[2 + (i * 5 + j * 3) % 14 for j in range(2 + i % 3)] for i in range(32)]
    ds = Dataset.from_dict({"input_ids": ids})
    out_dir = tempfile.mkdtemp(prefix="ppo_check_")
    args = PPOConfig(output_dir=out_dir, report_to="none", bf16=False, gradient_checkpointing=False, use_cpu=True,
                     per_device_train_batch_size=8, gradient_accumulation_steps=2, num_mini_batches=2,
                     num_ppo_epochs=2, total_episodes=32, response_length=5, stop_token="eos", learning_rate=3e-2,
                     num_sample_generations=0, local_rollout_forward_batch_size=16, kl_estimator="k3", kl_coef=0.2,
                     whiten_rewards=True, missing_eos_penalty=1.0, save_strategy="no", disable_tqdm=True, seed=7)
    trainer = PPOTrainer(args=args, processing_class=tokenizer, model=policy, ref_model=None,
                         reward_model=reward_model, train_dataset=ds, value_model=value_model, eval_dataset=ds)
    # ref_model=None without PEFT -> create_reference_model deep-copies the policy; perturb the copy so KL != 0
    with torch.no_grad():
        for p in trainer.ref_model.parameters():
            p.add_(0.05 * torch.randn_like(p))

    code = ppo_module.PPOTrainer.train.__code__
    want = {757: "penalty", 797: "raw", 803: "rollout", 869: "micro"}
    keep = ("micro_batch_inds", "ppo_epoch_idx", "minibatch_idx", "gradient_accumulation_idx", "update")
    snaps = []

    def tracer(frame, event, arg):
        if frame.f_code is not code:
            return None

        def local(frame, event, arg):
            if event == "line" and frame.f_lineno in want:
                snaps.append((want[frame.f_lineno], {
                    k: (v.detach().clone() if torch.is_tensor(v) else v) for k, v in frame.f_locals.items()
                    if torch.is_tensor(v) or k in keep}))
            return local
        return local

    logs = []
    trainer.log = lambda metrics, *a, **k: logs.append(dict(metrics))
    real_steps = []
    inner = trainer.optimizer.optimizer
    inner_step = inner.step

    def counting_step(*a, **k):
        real_steps.append(1)
        return inner_step(*a, **k)
    inner.step = counting_step
    sys.settrace(tracer)
    try:
        trainer.train()
    finally:
        sys.settrace(None)
        shutil.rmtree(out_dir, ignore_errors=True)

    s = settings(kl_coef=args.kl_coef, kl_estimator=args.kl_estimator, whiten_rewards=args.whiten_rewards,
                 gamma=args.gamma, lam=args.lam, cliprange=args.cliprange, cliprange_value=args.cliprange_value,
                 vf_coef=args.vf_coef, temperature=args.temperature, missing_eos_penalty=args.missing_eos_penalty,
                 stop_token_id=trainer.stop_token_id)

    def close(a, b, what, tol=2e-6):
        a = torch.as_tensor(a, dtype=torch.float64)
        b = torch.as_tensor(b, dtype=torch.float64)
        err = (a - b).abs().max().item() if a.numel() else 0.0
        assert err <= tol * max(1.0, b.abs().max().item()), f"{what}: replica differs from TRL by {err}"

    n_updates, n_micro, dilution, lengths = 0, 0, [], []
    update_snaps = []
    for kind, loc in snaps:  # one "penalty" snapshot opens each update
        if kind == "penalty":
            update_snaps.append({"penalty": loc, "micro": []})
        elif kind == "micro":
            update_snaps[-1]["micro"].append(loc)
        else:
            update_snaps[-1].setdefault(kind, loc)  # :803 runs once per PPO epoch; keep the first
    for u, snap in enumerate(update_snaps):
        pre, raw, roll = snap["penalty"], snap["raw"], snap["rollout"]
        r = rollout(raw["responses"], raw["logprobs"], raw["ref_logprobs"], pre["values"], pre["scores"], s)
        for k in ["postprocessed_responses", "sequence_lengths", "scores", "padding_mask", "padding_mask_p1",
                  "logprobs", "ref_logprobs", "values", "kl", "non_score_reward", "rewards", "returns"]:
            close(r[k].double(), raw[k].double(), f"update {u} {k}")
        close(r["advantages_unwhitened"], raw["advantages"], f"update {u} advantages (before whitening)")
        close(r["advantages"], roll["advantages"], f"update {u} advantages (whitened)")
        stat_keys = {"approxkl": "policy/approxkl_avg", "pg_clipfrac": "policy/clipfrac_avg",
                     "pg_loss": "loss/policy_avg", "vf_loss": "loss/value_avg", "vf_clipfrac": "val/clipfrac_avg",
                     "entropy_mean": "policy/entropy_avg", "ratio_mean": "val/ratio"}
        shape = (args.num_ppo_epochs, args.num_mini_batches, args.gradient_accumulation_steps)
        stats = {k: torch.zeros(shape) for k in stat_keys}  # float32, as TRL's :632-638
        for mb in snap["micro"]:
            inds = torch.as_tensor(mb["micro_batch_inds"])
            m = micro_batch(r, inds, mb["new_logprobs"], mb["vpred"], s, scaled_logits=mb["logits"])
            for k in ["new_logprobs", "vpred", "vpredclipped", "ratio", "pg_losses", "pg_losses2", "pg_loss",
                      "vf_loss", "loss", "vf_clipfrac", "pg_clipfrac", "approxkl", "entropy"]:
                close(m[k].double(), mb[k].double(), f"update {u} micro {k}")
            idx = (mb["ppo_epoch_idx"], mb["minibatch_idx"], mb["gradient_accumulation_idx"])
            for k in stat_keys:
                stats[k][idx] = m[k]
            n_micro += 1
        log = logs[u]
        for k, name in stat_keys.items():
            close(stats[k].mean(), log[name], f"update {u} {name}", tol=1e-5)
        close(stats["ratio_mean"].var(), log["val/ratio_var"], f"update {u} val/ratio_var", tol=1e-5)
        for k, val in r["metrics"].items():
            close(val, log[k], f"update {u} {k}", tol=1e-5)
        lengths.append(r["sequence_lengths"].tolist())
        filled = len(snap["micro"]) / stats["ratio_mean"].numel()
        dilution.append(filled)
        n_updates += 1
    print(f"check against PPOTrainer.train(): {n_updates} updates, {n_micro} micro-batches agree "
          f"(stat slots filled per update: {dilution}, so the *_avg metrics are diluted by zeros when "
          f"num_mini_batches > 1); real optimizer steps: {len(real_steps)} for "
          f"{n_micro} micro-batches with gradient_accumulation_steps={args.gradient_accumulation_steps}; "
          f"last real token per row: {lengths}")
    return dict(updates=n_updates, micro_batches=n_micro, optimizer_steps=len(real_steps))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--no-check", action="store_true", help="skip the check against a real PPOTrainer.train()")
    a = p.parse_args()
    torch.set_default_dtype(torch.float64)
    cases = fixture_cases()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"trl_version": trl.__version__, "source": "trl/experimental/ppo/ppo_trainer.py",
                   "invalid_logprob": INVALID_LOGPROB, "cases": cases}, f, separators=(",", ":"))
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({os.path.getsize(OUT)} bytes, {len(cases)} cases)")
    if not a.no_check:
        torch.set_default_dtype(torch.float32)
        check_against_train()


if __name__ == "__main__":
    main()
