"""Reference fixtures for LoRA: what PEFT computes with adapters on the tiny checkpoints of
Scripts/make_model_fixtures.py.

Run by hand from the repository root (needs `pip install torch transformers peft safetensors`):

    python3 Scripts/make_lora_fixtures.py

For each case it writes Tests/TransformerTests/Fixtures/lora_<case>/:
  - adapter_config.json, adapter_model.safetensors: the adapter as `PeftModel.save_pretrained`
    writes it, with A and B drawn from normal(0, 0.2) (B is not zero, so every gradient and the
    adapters' effect on the logits are tested, not only the start).
  - expected.safetensors: the logits of the base fixture's batch with the adapter (B, T, V), the
    mean next-token cross-entropy `loss`, `grad.<saved name>` for every A and B, `logits_base`
    (adapters disabled) and `logits_after_step` after one torch.optim.AdamW step on the adapters
    (lr 1e-2, weight decay 0.01).
Cases: llama (all-linear, r 4, alpha 8: scaling 2) and qwen3 (q_proj, v_proj, down_proj, r 4,
alpha 8, use_rslora: scaling 4).
"""
import json
import os

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TransformerTests", "Fixtures")

CASES = {
    "llama": dict(family="llama", r=4, lora_alpha=8, target_modules="all-linear", use_rslora=False),
    "qwen3": dict(family="qwen3", r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], use_rslora=True),
}


def loss_of(logits, ids, mask):
    # next-token cross-entropy over positions where both the input and the target are real tokens
    keep = (mask[:, :-1] * mask[:, 1:]).bool()
    lp = torch.log_softmax(logits[:, :-1], dim=-1)
    nll = -lp.gather(-1, ids[:, 1:, None])[..., 0]
    return nll[keep].mean()


def main():
    for case, spec in CASES.items():
        base_dir = os.path.join(ROOT, spec["family"])
        expected = load_file(os.path.join(base_dir, "expected.safetensors"))
        ids = expected["ids"].long()
        mask = expected["attention_mask"].long()
        positions = expected["position_ids"].long()
        base = AutoModelForCausalLM.from_pretrained(base_dir, attn_implementation="eager", dtype=torch.float32)
        config = LoraConfig(r=spec["r"], lora_alpha=spec["lora_alpha"], target_modules=spec["target_modules"],
                            lora_dropout=0.0, use_rslora=spec["use_rslora"], task_type="CAUSAL_LM")
        model = get_peft_model(base, config)
        g = torch.Generator().manual_seed(11)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "lora_" in name:
                    p.copy_(0.2 * torch.randn(p.shape, generator=g))
        out_dir = os.path.join(ROOT, "lora_" + case)
        os.makedirs(out_dir, exist_ok=True)
        model.save_pretrained(out_dir)
        os.remove(os.path.join(out_dir, "README.md"))  # PEFT's model card
        # The base path as the Swift test finds it (relative to the adapter folder).
        config_path = os.path.join(out_dir, "adapter_config.json")
        with open(config_path) as f:
            saved = json.load(f)
        saved["base_model_name_or_path"] = "../" + spec["family"]
        with open(config_path, "w") as f:
            json.dump(saved, f, indent=2, sort_keys=True)

        model.train()
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
        loss = loss_of(logits, ids, mask)
        loss.backward()
        tensors = {"logits": logits.detach().contiguous(), "loss": loss.detach().reshape(1)}
        with torch.no_grad(), model.disable_adapter():
            tensors["logits_base"] = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.contiguous()
        trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        for name, p in trainable:
            tensors["grad." + name.replace(".default", "")] = p.grad.detach().clone().contiguous()
        opt = torch.optim.AdamW([p for _, p in trainable], lr=1e-2, weight_decay=0.01, eps=1e-8, foreach=False)
        opt.step()
        with torch.no_grad():
            tensors["logits_after_step"] = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.contiguous()
        save_file(tensors, os.path.join(out_dir, "expected.safetensors"))
        print(case, "adapter tensors", len(trainable), "loss", float(loss.detach()))


if __name__ == "__main__":
    main()
