"""GRPO loss and advantage fixtures from TRL 1.16's own code.

Run by hand from the repository root (needs `pip install "trl==1.16.*" torch`):

    python3 Scripts/make_grpo_fixtures.py

Writes Tests/TrainingTests/Fixtures/grpo_loss.json and grpo_advantages.json.

- The loss cases call `trl.GRPOTrainer._compute_loss` itself, on a stub trainer whose
  `_get_per_token_logps_and_entropies` returns the fixture's per-token logprobs (float64, with
  requires_grad), and record the loss, its gradient with respect to those logprobs, and the clip and
  KL metrics TRL logs. Cases cover every loss_type (grpo, bnpo, dr_grpo, dapo), token and sequence
  importance sampling, beta 0 and 0.04, the KL bias correction on and off, epsilon_high != epsilon,
  and the two-sided `delta` clip, with completion masks of different lengths.
- The advantage cases replicate, line by line, the "sum_then_normalize" branch of
  `GRPOTrainer._generate_and_score_completions` (trl/trainer/grpo_trainer.py, TRL 1.16.0, lines
  2754-2800: unscorable rows -> NaN, weighted nansum, nanmean group baseline, nanstd (Bessel) per
  group or over the batch, `/ (std + 1e-4)` unless scale_rewards == "none", nan_to_num), using
  TRL's own `nanstd`, for every scale_rewards value, with None rewards.
"""
import json
import os
from collections import defaultdict
from types import SimpleNamespace

import torch
import trl
from trl import GRPOTrainer
from trl.trainer.utils import nanstd

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
    stub = SimpleNamespace()
    stub._get_per_token_logps_and_entropies = lambda *a, **k: (logps, entropies, None)
    stub.top_entropy_quantile = 1.0
    stub.off_policy_mask_threshold = None
    stub.importance_sampling_level = case["importance_sampling_level"]
    stub.beta = case["beta"]
    stub.args = SimpleNamespace(use_bias_correction_kl=case["use_bias_correction_kl"], delta=case["delta"],
                                steps_per_generation=case["steps_per_generation"])
    stub.loss_type = case["loss_type"]
    stub.epsilon_low = case["epsilon"]
    stub.epsilon_high = case["epsilon_high"]
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
    g = torch.Generator().manual_seed(1016)
    cases = []
    lengths = [7, 3, 5, 1, 6, 4]  # completion lengths (mask), padded to T = 7
    b, t = len(lengths), 7
    mask = torch.zeros(b, t, dtype=torch.float64)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    n = 0
    for loss_type in ["grpo", "bnpo", "dr_grpo", "dapo"]:
        for level in ["token", "sequence"]:
            for beta in [0.0, 0.04]:
                n += 1
                case = dict(loss_type=loss_type, importance_sampling_level=level, beta=beta,
                            use_bias_correction_kl=(n % 2 == 0), delta=(1.5 if n % 3 == 0 else None),
                            epsilon=0.2, epsilon_high=0.28, gradient_accumulation_steps=2,
                            steps_per_generation=2, max_completion_length=8)
                logps = -torch.rand(b, t, generator=g, dtype=torch.float64) * 3
                old = logps + 0.3 * torch.randn(b, t, generator=g, dtype=torch.float64)
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
                            advantages=advantages.tolist(), num_items_in_batch=num_items, loss=float(loss),
                            grad=current.grad.tolist(), metrics=metrics)
                cases.append(case)
    return cases


def advantage_cases():
    """Replica of grpo_trainer.py lines 2754-2800 (TRL 1.16.0), sum_then_normalize."""
    g = torch.Generator().manual_seed(2024)
    num_generations = 4
    cases = []
    for scale_rewards in ["group", "batch", "none"]:
        rewards_per_func = torch.randint(0, 3, (12, 2), generator=g).double() + 0.5 * torch.rand(12, 2, generator=g, dtype=torch.float64)
        rewards_per_func[1, 0] = float("nan")  # one function could not judge
        rewards_per_func[5, :] = float("nan")  # no function could judge: unscorable
        rewards_per_func[8:12, 0] = 1.0  # a group whose first function is constant...
        rewards_per_func[8:12, 1] = float("nan")  # ...and whose second could not judge: zero std
        weights = torch.tensor([1.0, 0.5], dtype=torch.float64)
        unscorable_mask = torch.isnan(rewards_per_func).all(dim=1)
        rewards = (rewards_per_func * weights.unsqueeze(0)).nansum(dim=1)
        rewards[unscorable_mask] = torch.nan
        mean_grouped_rewards = torch.nanmean(rewards.view(-1, num_generations), dim=1)
        mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(num_generations, dim=0)
        if scale_rewards in ["group", "none"]:
            std_rewards = nanstd(rewards.view(-1, num_generations), dim=1)
            std_rewards = std_rewards.repeat_interleave(num_generations, dim=0)
        else:
            std_rewards = nanstd(rewards).expand_as(rewards)
        advantages = rewards - mean_grouped_rewards
        if scale_rewards != "none":
            advantages = advantages / (std_rewards + 1e-4)
        is_std_zero = torch.isclose(std_rewards, torch.zeros_like(std_rewards))
        advantages = torch.nan_to_num(advantages, nan=0.0)
        per_func = [[None if v != v else v for v in row] for row in rewards_per_func.tolist()]
        cases.append(dict(scale_rewards=scale_rewards, num_generations=num_generations, weights=weights.tolist(),
                          rewards_per_func=per_func, advantages=advantages.tolist(),
                          frac_reward_zero_std=float(is_std_zero.float().mean())))
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "grpo_loss.json"), "w") as f:
        json.dump({"trl_version": trl.__version__, "cases": loss_cases()}, f)
    with open(os.path.join(OUT, "grpo_advantages.json"), "w") as f:
        json.dump({"trl_version": trl.__version__, "cases": advantage_cases()}, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
