#!/usr/bin/env bash
# Installs what swift-grpo needs on a fresh Debian/Ubuntu machine (OpenBLAS for GEMM), or says
# clearly what to install by hand. Safe to run repeatedly: it does nothing when all is present.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
  echo "error: 'swift' is not on PATH. Install Swift 6.x (https://www.swift.org/install) and retry." >&2
  exit 1
fi

if [ "$(uname -s)" = "Darwin" ]; then
  exit 0  # BLAS comes from Accelerate.
fi

have_cblas() {
  echo '#include <cblas.h>' | cc -E -x c - >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so'
}

if have_cblas; then
  exit 0
fi

echo "OpenBLAS (cblas.h, libopenblas) is missing: installing libopenblas-dev with apt-get..."
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: no apt-get here. Install OpenBLAS with its headers (cblas.h) by hand, e.g. 'dnf install openblas-devel'." >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: installing libopenblas-dev needs root; run 'apt-get install libopenblas-dev' as root." >&2
    exit 1
  fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libopenblas-dev
have_cblas || { echo "error: libopenblas-dev installed but cblas.h or libopenblas.so still not found." >&2; exit 1; }
