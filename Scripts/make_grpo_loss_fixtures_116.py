"""GRPO loss fixtures for the loss types TRL 1.16 adds beyond grpo/bnpo/dr_grpo/dapo: cispo, sapo, luspo, vespo.

Run by hand from the repository root with the system Python (needs `pip install "trl==1.16.*" torch`):

    python3 Scripts/make_grpo_loss_fixtures_116.py

Writes Tests/TrainingTests/Fixtures/grpo_loss_116.json, in the structure of grpo_loss.json (written by
Scripts/make_grpo_fixtures.py, which this script leaves alone), plus the settings the new loss types read
(sapo_temperature_pos/neg, vespo_k_pos/lambda_pos/k_neg/lambda_neg) on every case.

Every case calls `trl.GRPOTrainer._compute_loss` itself (trl/trainer/grpo_trainer.py, TRL 1.16.0, lines
3020-3290) on a stub trainer whose `_get_per_token_logps_and_entropies` returns the fixture's per-token logprobs
(float64, requires_grad), and records the loss, its gradient with respect to those logprobs (torch.autograd),
and the metrics TRL logs into `_metrics["train"]`. What each loss type does in that method:

- cispo (:3109-3111, aggregated :3168-3174 like dapo, metric `cispo_clip_ratio` :3284-3286):
  -min(r, epsilon_high).detach() * A * logp, normalised by num_items_in_batch * GA / steps_per_generation.
- sapo (:3121-3124, aggregated :3153-3157 like grpo, no clip metric):
  -sigmoid(tau * (r - 1)) * 4 / tau * A, tau = sapo_temperature_pos if A > 0 else sapo_temperature_neg.
- luspo (:3112-3120 the grpo clipped term incl. `delta`, aggregated :3175-3182 as
  mean over completions of the masked SUM over tokens, / GA; clip metrics :3272-3283).
- vespo (:3125-3136 with get_gamma_weights :2970-3018, aggregated like dapo :3168-3174; metric
  `vespo/phi_seq_mean` :3287-3288): -phi(w).detach() * A * logp, w = exp(sum_t clamp(log r_t, +-20)), log w
  clamped to [log 1e-8, 20], phi = exp(lambda + k log w - lambda w), (k, lambda) by the sign of A (A >= 0: pos).
The KL term (:3098-3105, k3, times r when use_bias_correction_kl) is added per token for beta != 0 (:3149-3150).

Cases: every loss type x importance_sampling_level (token, sequence) x beta (0, 0.04), with the KL bias
correction alternating on and off, `delta` set on some luspo cases (the only new type that reads it), cispo at
epsilon_high 1.1 (its absolute ratio cap; the paper's 5.0 would clip nothing here) and at 5.0, non-default sapo
temperatures on some cases, and completion masks of lengths 7, 3, 5, 1, 6, 4 and 0 (an all-masked row, as
`mask_truncated_completions` produces).
"""
import json
import os
from collections import defaultdict
from types import SimpleNamespace

import torch
import trl
from trl import GRPOTrainer

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TrainingTests", "Fixtures")
assert trl.__version__.startswith("1.16"), f"written against TRL 1.16, found {trl.__version__}"


class StubAccelerator:
    num_processes = 1
    sync_gradients = True

    def reduce(self, x, reduction="sum"):
        return x

    def gather(self, x):
        return x

    def gather_for_metrics(self, x):
        return x


def stub_trainer(case, logps, entropies):
    """The attributes `_compute_loss` reads (grpo_trainer.py:3020-3290), nothing else."""
    stub = SimpleNamespace()
    stub._get_per_token_logps_and_entropies = lambda *a, **k: (logps, entropies, None)
    stub.get_gamma_weights = GRPOTrainer.get_gamma_weights  # staticmethod, called as self.get_gamma_weights
    stub.top_entropy_quantile = 1.0
    stub.off_policy_mask_threshold = None
    stub.importance_sampling_level = case["importance_sampling_level"]
    stub.beta = case["beta"]
    stub.args = SimpleNamespace(
        use_bias_correction_kl=case["use_bias_correction_kl"], delta=case["delta"],
        steps_per_generation=case["steps_per_generation"],
        sapo_temperature_pos=case["sapo_temperature_pos"], sapo_temperature_neg=case["sapo_temperature_neg"],
        vespo_k_pos=case["vespo_k_pos"], vespo_lambda_pos=case["vespo_lambda_pos"],
        vespo_k_neg=case["vespo_k_neg"], vespo_lambda_neg=case["vespo_lambda_neg"])
    stub.loss_type = case["loss_type"]
    stub.epsilon_low = case["epsilon"]  # grpo_trainer.py:945
    stub.epsilon_high = case["epsilon_high"]  # grpo_trainer.py:946
    stub.use_vllm = False
    stub.vllm_importance_sampling_correction = False
    stub.aux_loss_enabled = False
    stub._entropy_bonus_enabled = False
    stub.model = SimpleNamespace(training=True)
    stub.current_gradient_accumulation_steps = case["gradient_accumulation_steps"]
    stub.max_completion_length = case["max_completion_length"]
    stub.accelerator = StubAccelerator()
    stub._metrics = defaultdict(lambda: defaultdict(list))
    return stub


def loss_cases():
    g = torch.Generator().manual_seed(1161)
    cases = []
    lengths = [7, 3, 5, 1, 6, 4, 0]  # completion lengths (mask), padded to T = 7; the last row is fully masked
    b, t = len(lengths), 7
    mask = torch.zeros(b, t, dtype=torch.float64)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    n = 0
    for loss_type in ["cispo", "sapo", "luspo", "vespo"]:
        for level in ["token", "sequence"]:
            for beta in [0.0, 0.04]:
                n += 1
                epsilon_high = 0.28
                if loss_type == "cispo":
                    epsilon_high = 1.1 if n % 2 == 1 else 5.0
                case = dict(loss_type=loss_type, importance_sampling_level=level, beta=beta,
                            use_bias_correction_kl=(n % 2 == 0),
                            delta=(1.3 if loss_type == "luspo" and beta == 0.04 else None),
                            epsilon=0.2, epsilon_high=epsilon_high, gradient_accumulation_steps=2,
                            steps_per_generation=2, max_completion_length=8,
                            sapo_temperature_pos=(1.0 if n % 2 == 1 else 2.0),
                            sapo_temperature_neg=(1.05 if n % 2 == 1 else 3.0),
                            vespo_k_pos=2.0, vespo_lambda_pos=3.0, vespo_k_neg=3.0, vespo_lambda_neg=2.0)
                logps = -torch.rand(b, t, generator=g, dtype=torch.float64) * 3
                # per-token noise plus a per-completion drift, so that sequence-level ratios clip too
                old = (logps + 0.3 * torch.randn(b, t, generator=g, dtype=torch.float64)
                       + 0.3 * torch.randn(b, 1, generator=g, dtype=torch.float64))
                ref = logps + 0.2 * torch.randn(b, t, generator=g, dtype=torch.float64)
                advantages = torch.randn(b, generator=g, dtype=torch.float64)
                entropies = torch.rand(b, t, generator=g, dtype=torch.float64)
                num_items = float(mask.sum() + 9)  # the generation batch holds more tokens than this mini-batch
                current = logps.clone().requires_grad_(True)
                stub = stub_trainer(case, current, entropies)
                inputs = {
                    "prompt_ids": torch.zeros(b, 2, dtype=torch.long), "prompt_mask": torch.ones(b, 2, dtype=torch.long),
                    "completion_ids": torch.zeros(b, t, dtype=torch.long), "completion_mask": mask.clone(),
                    "advantages": advantages, "old_per_token_logps": old,
                    "ref_per_token_logps": ref if beta != 0 else None,
                    "num_items_in_batch": torch.tensor(num_items, dtype=torch.float64),
                }
                loss = GRPOTrainer._compute_loss(stub, None, inputs)
                loss.backward()
                metrics = {k: v[0] for k, v in stub._metrics["train"].items()}
                case.update(logps=logps.tolist(), old_logps=old.tolist(), ref_logps=ref.tolist(), mask=mask.tolist(),
                            advantages=advantages.tolist(), num_items_in_batch=num_items,
                            loss=float(loss.detach()), grad=current.grad.tolist(), metrics=metrics)
                cases.append(case)
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "grpo_loss_116.json")
    cases = loss_cases()
    with open(path, "w") as f:
        json.dump({"trl_version": trl.__version__, "cases": cases}, f)
    print("wrote", os.path.normpath(path), f"({len(cases)} cases)")


if __name__ == "__main__":
    main()
