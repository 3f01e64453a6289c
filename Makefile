# swift-grpo: `make demo` runs the main job, `make test` runs the tests. Both install what is
# missing first (Scripts/install-deps.sh) and build with optimisation, since numeric Swift code is
# 10-100x slower in debug builds.

SWIFT ?= swift
GRPO := .build/release/grpo

.PHONY: deps build demo test bench fixtures clean

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

# Reference fixtures from PyTorch (needs `pip install torch numpy`); outputs are committed.
fixtures:
	python3 Scripts/make_tensorcore_fixtures.py

clean:
	rm -rf .build
