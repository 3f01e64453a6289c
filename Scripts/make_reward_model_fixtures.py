"""Reward-model (Bradley-Terry) fixtures from TRL 1.16's RewardTrainer, for the Swift reward-model trainer.

Run from the repository root with the system Python (TRL 1.16, torch 2.13 CPU, transformers 5.25):

    python3 Scripts/make_reward_model_fixtures.py

It takes a few seconds on one CPU thread and writes Tests/TrainingTests/Fixtures/reward_model/ (~400 KB):

  - model/ (config.json, model.safetensors): the initial reward model, a random tiny float32
    Qwen2ForSequenceClassification (vocab 32, hidden 32, intermediate 64, 2 layers, 4 heads, 2 KV heads, head_dim 8,
    max_position_embeddings 64, tie_word_embeddings true (no lm_head exists in a seq-clf model, so nothing is tied),
    rope_theta 1e4, rms_norm_eps 1e-6, num_labels 1, pad 0, eos 1, bos 2, initializer_range 0.1 so the context moves
    the reward; with the default 0.02 all rewards were within 0.15 of each other and the loss was ln 2 to 1e-4). HF names: model.embed_tokens.weight,
    model.layers.N.{input_layernorm,post_attention_layernorm}.weight,
    model.layers.N.self_attn.{q,k,v}_proj.{weight,bias}, model.layers.N.self_attn.o_proj.weight,
    model.layers.N.mlp.{gate,up,down}_proj.weight, model.norm.weight, score.weight (shape [1, 32], no bias).
    All RMSNorm weights and q/k/v biases are moved off their init (+ 0.1 * randn), so a loader that drops them
    fails; score.weight ~ normal(0, 0.1), seeded.
  - pairs.json: settings, the 4 pairs (prompt/chosen/rejected token ids and the text TRL saw), the exact input ids
    TRL feeds the model for each chosen and rejected sequence, rewards, loss, logged metrics, library versions.
  - grads_<setting>.safetensors: d loss / d parameter for every parameter (HF names), float32, computed in float64.
  - after_<setting>.safetensors: every parameter after one torch.optim.AdamW step (lr 1e-3, betas 0.9/0.999,
    eps 1e-8, weight_decay 0, no gradient clipping) from model/, float32, computed in float64.
  Settings: "plain" (no margin, center_rewards_coefficient None) and "margin_center" (a per-example "margin"
  column [0.5, 0.0, 1.0, 0.25] and center_rewards_coefficient 0.01).

How TRL 1.16 does it (paths relative to site-packages/trl/trainer/, reward_trainer.py unless noted; the model side
is transformers 5.25 transformers/modeling_layers.py):

(a) Tokenization of a plain-text pairwise example {prompt, chosen, rejected} (RewardTrainer._prepare_dataset,
    :649-742; skipped entirely when the dataset already has chosen_ids/rejected_ids columns, :656-658):
    1. EOS is appended to the TEXT, non-conversational data only (:678-695): `add_eos` does
       `example["chosen"] = example["chosen"] + eos_token` unless it already `.endswith(eos_token)` (:684-689), same
       for rejected. Plain string concatenation, no separator (so with a whitespace pre-tokenizer the eos must be an
       added/special token, which is split out before pre-tokenization; here eos is "</s>").
       eos_token is processing_class.eos_token, overridable by RewardConfig.eos_token (:430-440).
    2. Explicit prompt: `chosen = prompt + chosen`, `rejected = prompt + rejected` (:705-707) -- again plain string
       concatenation with no separator; the completion has to carry its own leading space (the pairs below do).
       The prompt is NOT tokenized separately, and nothing is masked: the whole sequence goes to the model.
    3. Each full string is tokenized on its own with `processing_class(text=...)["input_ids"]` (:721-725 via
       trl/data_utils.py:367-403, `_tokenize`, non-conversational branch :398-399): whatever special tokens the
       tokenizer itself adds (bos etc.) are kept; TRL adds none besides the eos of step 1. Conversational examples
       go through apply_chat_template instead (:709-720) and get no extra eos.
    4. NO truncation. `max_length` (RewardConfig, default 1024, reward_config.py:61-63, :144-150) FILTERS: pairs where
       len(chosen_ids) > max_length or len(rejected_ids) > max_length are dropped from the dataset (:730-740).
    5. Collation (DataCollatorForPreference.torch_call, :203-229): input_ids = chosen_ids of all examples followed
       by rejected_ids of all examples (:209), a batch of 2B rows, RIGHT-padded with pad_token_id (:215-220) to the
       longest row (pad_to_multiple_of defaults to "auto" = None off Neuron, reward_config.py:187-189);
       attention_mask 1 on real tokens, 0 on padding (:210, :221-226); an optional "margin" column becomes a
       float32 tensor of B (:207-208, :227-228). The pad token is args.pad_token or tokenizer.pad_token or
       tokenizer.eos_token (:563), written into model.config.pad_token_id (:572); the collator is built at :574-579.
(b) Reward of a sequence: compute_loss calls model(**inputs) with use_cache=False (:782-783; note `margin` is passed
    to the model too and is swallowed by its **kwargs). Qwen2ForSequenceClassification = GenericForSequenceClassification
    (modeling_layers.py:130-202): score = Linear(hidden, 1, bias=False) applied to the final-norm hidden state of
    EVERY position (:166-167), then pooled at the rightmost token whose id != config.pad_token_id:
    `non_pad_mask = (input_ids != pad_token_id)`, `last = (arange(T) * non_pad_mask).argmax(-1)` (:178-182),
    `pooled = logits[arange(B), last]` (:190). It looks at input_ids, not attention_mask. With TRL's eos appended
    (eos 1 != pad 0) that token is the eos, i.e. the reward is score(h[eos]). (A pad id inside a sequence would be
    skipped over; if pad == eos the eos itself would be skipped -- not the case here.) Then
    `rewards_chosen, rewards_rejected = torch.chunk(outputs.logits.squeeze(-1), chunks=2)` (:786).
(c) Loss (:788-795):
       loss = -logsigmoid(r_chosen - r_rejected [- margin]).mean()            (margin only if "margin" in inputs)
       loss += center_rewards_coefficient * mean((r_chosen + r_rejected) ** 2)  (if coefficient is not None)
    Means over the B pairs. There is no separate averaging over tokens; loss_is_scaled_for_ga = False (:330).
(d) Metrics (:797-815), appended per batch to self._metrics[mode] and averaged over the batches since the last log
    by `log` (:824-835, sum(list)/len(list)); for one batch:
       num_tokens  = running total of attention_mask.sum() over training batches (chosen + rejected, no padding)
                     (:797-800) -- a cumulative counter, not per batch
       min_reward  = min over all 2B rewards (chosen and rejected together) (:804-805)
       mean_reward = mean over all 2B rewards (:806)
       max_reward  = max over all 2B rewards (:807)
       accuracy    = mean(r_chosen > r_rejected) (strict) (:809-811)
       margin      = mean(r_chosen - r_rejected) (:813-815) -- WITHOUT the margin column
    There are no "rewards/chosen", "rewards/rejected" or "rewards/margins" keys (those are DPO's). Trainer adds
    loss, grad_norm (total L2 norm before clipping, max_grad_norm 1.0 by default), learning_rate, epoch.

How the fixture is made: for each setting and dtype, a real RewardTrainer is built from model/ (model passed as a
path string, so TRL loads it with AutoModelForSequenceClassification, num_labels 1, float32 by default per trainer/utils.py:1332, :383-400) with a
plain-text Dataset {prompt, chosen, rejected[, margin]} and a tiny WordLevel tokenizer ("<pad>" 0, "</s>" 1,
"<s>" 2, "t3".."t31" -> 3..31, whitespace pre-tokenizer, no post-processor so no bos is added; "t5 t7 t9" ->
[5, 7, 9]). RewardConfig: bf16 False (TRL's default is True), gradient_checkpointing False (no effect on the
values), use_cpu, report_to none. TRL's _prepare_dataset tokenizes (the ids it produced are what pairs.json
records as chosen_input_ids / rejected_input_ids), its DataCollatorForPreference batches all 4 pairs, and
trainer.compute_loss gives the loss; loss.backward() the gradients; trainer.log() the metrics (read back from
trainer.state.log_history). The float64 reference is the same trainer with trainer.model.double() (the float32
weights of model/, widened). Note: even in float64 Qwen2's rotary embedding computes cos/sin in float32
(modeling_qwen2.py Qwen2RotaryEmbedding.forward) and casts them, so the f64 numbers carry float32-rounded RoPE
tables. The script also checks the rewards against an independent unpadded forward (one sequence at a time,
reward = score at the last position) and the loss/metrics against the formulas above.
"""
import json
import os
import shutil
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402
from datasets import Dataset  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForSequenceClassification  # noqa: E402
from trl import RewardConfig, RewardTrainer  # noqa: E402

assert trl.__version__.startswith("1.16"), f"written against TRL 1.16, found {trl.__version__}"
torch.set_num_threads(1)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "TrainingTests", "Fixtures", "reward_model")
MODEL_DIR = os.path.join(OUT, "model")
SEED = 20240808
INIT_RANGE = 0.1  # transformers' default 0.02 makes every eos-ending sequence score almost the same
VOCAB, PAD, EOS, BOS = 32, 0, 1, 2
SPECIAL = {PAD: "<pad>", EOS: "</s>", BOS: "<s>"}
LR, BETAS, ADAM_EPS = 1e-3, (0.9, 0.999), 1e-8
SETTINGS = {
    "plain": {"margin": None, "center_rewards_coefficient": None},
    "margin_center": {"margin": [0.5, 0.0, 1.0, 0.25], "center_rewards_coefficient": 0.01},
}


def make_model():
    torch.manual_seed(SEED)
    config = Qwen2Config(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6,
                         rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=BOS, eos_token_id=EOS,
                         pad_token_id=PAD, num_labels=1, initializer_range=INIT_RANGE)
    model = Qwen2ForSequenceClassification(config).float()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))  # away from init, so a loader that drops them fails
        g = torch.Generator().manual_seed(SEED + 1)
        model.score.weight.copy_(0.1 * torch.randn(model.score.weight.shape, generator=g))
    return model


def make_tokenizer():
    vocab = {SPECIAL.get(i, f"t{i}"): i for i in range(VOCAB)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", bos_token="<s>")
    assert hf("t5 t7 t9")["input_ids"] == [5, 7, 9]
    assert hf("t5 t7</s>")["input_ids"] == [5, 7, EOS]
    return hf


def make_pairs():
    g = torch.Generator().manual_seed(SEED + 2)

    def ids(n):
        return torch.randint(3, VOCAB, (n,), generator=g).tolist()

    pairs = []
    for i in range(4):
        prompt = ids(3 + i)  # prompt lengths 3, 4, 5, 6
        chosen = ids(int(torch.randint(2, 6, (1,), generator=g)))
        rejected = ids(int(torch.randint(2, 6, (1,), generator=g)))
        pairs.append({"prompt_ids": prompt, "chosen_ids": chosen, "rejected_ids": rejected})
    pairs[1]["rejected_ids"] = pairs[1]["rejected_ids"][:2]  # make sure the length 2 edge case is present
    pairs[2]["chosen_ids"] = (pairs[2]["chosen_ids"] + ids(5))[:5]  # and length 5
    return pairs


def text(ids, leading_space=False):
    return (" " if leading_space else "") + " ".join(f"t{i}" for i in ids)


def run(setting, dtype, pairs, tokenizer, tmp):
    spec = SETTINGS[setting]
    data = {
        "prompt": [text(p["prompt_ids"]) for p in pairs],
        "chosen": [text(p["chosen_ids"], leading_space=True) for p in pairs],
        "rejected": [text(p["rejected_ids"], leading_space=True) for p in pairs],
    }
    if spec["margin"] is not None:
        data["margin"] = spec["margin"]
    args = RewardConfig(
        output_dir=os.path.join(tmp, f"{setting}_{dtype}"), bf16=False, gradient_checkpointing=False, use_cpu=True,
        report_to="none", per_device_train_batch_size=4, learning_rate=LR, seed=SEED, logging_steps=1,
        center_rewards_coefficient=spec["center_rewards_coefficient"], dataset_num_proc=None,
    )
    trainer = RewardTrainer(model=MODEL_DIR, args=args, train_dataset=Dataset.from_dict(data),
                            processing_class=tokenizer)
    model = trainer.model
    assert model.config.pad_token_id == PAD
    if dtype == "float64":
        model.double()
    model.train()
    model.zero_grad(set_to_none=True)

    examples = [trainer.train_dataset[i] for i in range(len(pairs))]
    assert len(examples) == len(pairs) == len(trainer.train_dataset)
    batch = trainer.data_collator(examples)
    batch = trainer._prepare_inputs(batch)
    input_ids = batch["input_ids"].clone()
    attention_mask = batch["attention_mask"].clone()

    loss, outputs = trainer.compute_loss(model, batch, return_outputs=True)
    loss.backward()
    rewards = outputs.logits.squeeze(-1).detach()
    r_c, r_r = rewards[:4], rewards[4:]
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    grad_norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())).item()

    trainer.log({"loss": loss.item(), "grad_norm": grad_norm})
    logged = dict(trainer.state.log_history[-1])

    # ---- independent checks ---------------------------------------------------------------------------------
    with torch.no_grad():
        for row in range(8):
            ids = input_ids[row][attention_mask[row].bool()]
            out = model(input_ids=ids[None], use_cache=False).logits.squeeze()
            assert torch.allclose(out, rewards[row], atol=1e-5 if dtype == "float32" else 1e-12), (row, out, rewards)
        m = torch.tensor(spec["margin"] or [0.0] * 4, dtype=rewards.dtype)
        ref = -torch.nn.functional.logsigmoid(r_c - r_r - m).mean()
        if spec["center_rewards_coefficient"] is not None:
            ref = ref + spec["center_rewards_coefficient"] * ((r_c + r_r) ** 2).mean()
        assert abs(ref.item() - loss.item()) < 1e-6, (ref, loss)
        assert abs(logged["accuracy"] - (r_c > r_r).float().mean().item()) < 1e-7
        assert abs(logged["margin"] - (r_c - r_r).mean().item()) < 1e-6
        assert logged["num_tokens"] == attention_mask.sum().item()

    # ---- one AdamW step from the initial weights ---------------------------------------------------------------
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=BETAS, eps=ADAM_EPS, weight_decay=0.0)
    opt.step()
    after = {n: p.detach().clone() for n, p in model.named_parameters()}

    unpadded = [input_ids[r][attention_mask[r].bool()].tolist() for r in range(8)]
    return {
        "chosen_input_ids": unpadded[:4],
        "rejected_input_ids": unpadded[4:],
        "collated_input_ids": input_ids.tolist(),
        "collated_attention_mask": attention_mask.tolist(),
        "collated_margin": batch["margin"].tolist() if "margin" in batch else None,
        "rewards_chosen": r_c.tolist(),
        "rewards_rejected": r_r.tolist(),
        "loss": loss.item(),
        "logged": logged,
        "grads": grads,
        "after": after,
        "trained_dataset_text": {k: [trainer.train_dataset[i][k] for i in range(4)] for k in ("chosen", "rejected")},
    }


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(MODEL_DIR)
    model = make_model()
    model.save_pretrained(MODEL_DIR, safe_serialization=True)
    initial = {n: p.detach().clone() for n, p in model.named_parameters()}
    tokenizer = make_tokenizer()
    pairs = make_pairs()

    settings_out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for setting in SETTINGS:
            r64 = run(setting, "float64", pairs, make_tokenizer(), tmp)
            r32 = run(setting, "float32", pairs, make_tokenizer(), tmp)
            assert r64["chosen_input_ids"] == r32["chosen_input_ids"]
            assert r64["rejected_input_ids"] == r32["rejected_input_ids"]
            for i, p in enumerate(pairs):
                assert r64["chosen_input_ids"][i] == p["prompt_ids"] + p["chosen_ids"] + [EOS]
                assert r64["rejected_input_ids"][i] == p["prompt_ids"] + p["rejected_ids"] + [EOS]
            names = list(initial)
            save_file({n: r64["grads"][n].float().contiguous() for n in names},
                      os.path.join(OUT, f"grads_{setting}.safetensors"))
            save_file({n: r64["after"][n].float().contiguous() for n in names},
                      os.path.join(OUT, f"after_{setting}.safetensors"))
            grad_diff = max((r64["grads"][n] - r32["grads"][n].double()).abs().max().item() for n in names)
            after_diff = max((r64["after"][n] - r32["after"][n].double()).abs().max().item() for n in names)
            moved = {n: (r64["after"][n] - initial[n].double()).abs().max().item() for n in names}
            zero_grad_rows = (r64["grads"]["model.embed_tokens.weight"].abs().sum(-1) == 0).nonzero().flatten()
            tiny = sum(int(((g.abs() > 0) & (g.abs() < 1e-6)).sum()) for g in r64["grads"].values())

            def metrics(r):
                keep = ("loss", "grad_norm", "num_tokens", "min_reward", "mean_reward", "max_reward", "accuracy",
                        "margin")
                return {k: r["logged"][k] for k in keep}

            settings_out[setting] = {
                "margin": SETTINGS[setting]["margin"],
                "center_rewards_coefficient": SETTINGS[setting]["center_rewards_coefficient"],
                "text_fed_to_trl": {"prompt": [text(p["prompt_ids"]) for p in pairs],
                                    "chosen": [text(p["chosen_ids"], True) for p in pairs],
                                    "rejected": [text(p["rejected_ids"], True) for p in pairs]},
                "text_after_trl_add_eos_and_prompt": r64["trained_dataset_text"],
                "chosen_input_ids": r64["chosen_input_ids"],
                "rejected_input_ids": r64["rejected_input_ids"],
                "collated_input_ids": r64["collated_input_ids"],
                "collated_attention_mask": r64["collated_attention_mask"],
                "collated_margin": r64["collated_margin"],
                "float64": {"rewards_chosen": r64["rewards_chosen"], "rewards_rejected": r64["rewards_rejected"],
                            "loss": r64["loss"], "metrics": metrics(r64)},
                "float32": {"rewards_chosen": r32["rewards_chosen"], "rewards_rejected": r32["rewards_rejected"],
                            "loss": r32["loss"], "metrics": metrics(r32)},
                "grads_file": f"grads_{setting}.safetensors",
                "after_file": f"after_{setting}.safetensors",
                "max_abs_diff_float32_vs_float64": {"grads": grad_diff, "after": after_diff},
                "max_abs_param_change_after_step": max(moved.values()),
                "embed_rows_with_zero_grad": zero_grad_rows.tolist(),
                "grad_elements_nonzero_below_1e-6": tiny,
            }
            print(f"{setting}: loss f64 {r64['loss']:.10f} f32 {r32['loss']:.10f}  "
                  f"grad diff f32/f64 {grad_diff:.2e} after diff {after_diff:.2e}  metrics {metrics(r64)}")

    out = {
        "description": (
            "Pairwise reward-model loss of TRL 1.16 RewardTrainer on a tiny random Qwen2ForSequenceClassification "
            "(model/). Each pair is fed to TRL as plain text {prompt, chosen, rejected}; TRL appends eos to chosen "
            "and rejected, prepends the prompt (string concatenation) and tokenizes, so the model sees "
            "chosen_input_ids = prompt_ids + chosen_ids + [eos 1] and rejected_input_ids = prompt_ids + "
            "rejected_ids + [eos 1] (no bos, no truncation). TRL's collator stacks the 4 chosen rows then the 4 "
            "rejected rows, right-padded with pad 0 (collated_*). The reward of a sequence is score.weight . "
            "h_final at its last non-pad token (here the eos). loss = -mean(logsigmoid(r_c - r_r - margin)) "
            "[+ center_rewards_coefficient * mean((r_c + r_r)^2)]. Metrics are what RewardTrainer.log emits for "
            "this single batch (min/mean/max_reward over all 8 rewards, accuracy = mean(r_c > r_r), margin = "
            "mean(r_c - r_r) without the margin column, num_tokens = total real tokens; grad_norm is the L2 norm "
            "of all unclipped gradients, as Trainer logs it). grads_<setting>.safetensors: gradient of the loss "
            "w.r.t. every parameter (HF names), computed in float64 from the float32 weights of model/ widened, "
            "stored float32. after_<setting>.safetensors: weights after one torch.optim.AdamW step (lr 1e-3, betas "
            "0.9/0.999, eps 1e-8, weight_decay 0, no clipping) on those gradients, computed in float64, stored "
            "float32. One Adam step moves every parameter with a non-zero gradient by ~lr * sign(grad) "
            "(lr * g / (|g| + eps)); parameters with zero gradient (pad row and unused-token rows of the embedding) "
            "do not move. float32 results of the same TRL path are recorded next to the float64 ones. Even in float64 "
            "the Qwen2 rotary cos/sin tables are computed in float32 by transformers."
        ),
        "versions": {"trl": trl.__version__, "torch": torch.__version__, "transformers": transformers.__version__},
        "seed": SEED,
        "special_tokens": {"pad": PAD, "eos": EOS, "bos": BOS},
        "tokenizer": "WordLevel {'<pad>': 0, '</s>': 1, '<s>': 2, 't3'..'t31': 3..31}, WhitespaceSplit, no "
                     "post-processor (adds no bos/eos); pad_token '<pad>', eos_token '</s>'",
        "reward_config": {"bf16": False, "gradient_checkpointing": False, "max_length": 1024,
                          "pad_to_multiple_of": None, "disable_dropout": True, "per_device_train_batch_size": 4},
        "optimizer": {"type": "torch.optim.AdamW", "lr": LR, "betas": list(BETAS), "eps": ADAM_EPS,
                      "weight_decay": 0.0, "grad_clipping": None, "steps": 1},
        "pairs": pairs,
        "settings": settings_out,
    }
    with open(os.path.join(OUT, "pairs.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(d, x)) for d, _, fs in os.walk(OUT) for x in fs)
    print(f"wrote {OUT} ({total / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
