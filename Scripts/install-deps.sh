#!/usr/bin/env bash
# Installs what swift-grpo needs on a fresh Debian/Ubuntu machine, or says clearly what to install by
# hand: OpenBLAS (GEMM on CPUs without AVX2), bubblewrap (the sandbox of the code rewards), Python 3
# (which those rewards run) and Open MPI (headers, library and mpirun: training over several processes).
# Safe to run repeatedly: it does nothing when all is present.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
  echo "error: 'swift' is not on PATH. Install Swift 6.x (https://www.swift.org/install) and retry." >&2
  exit 1
fi

if [ "$(uname -s)" = "Darwin" ]; then
  exit 0  # BLAS comes from Accelerate; the sandbox is Linux-only.
fi

have_cblas() {
  echo '#include <cblas.h>' | cc -E -x c - >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so'
}

have_mpi() {
  pkg-config --exists mpi 2>/dev/null
}

missing=()
have_cblas || missing+=(libopenblas-dev)
have_mpi || missing+=(libopenmpi-dev pkg-config)
command -v mpirun >/dev/null 2>&1 || missing+=(openmpi-bin)
[ -x /usr/bin/bwrap ] || missing+=(bubblewrap)
[ -x /usr/bin/python3 ] || missing+=(python3)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing ${missing[*]} with apt-get..."
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: no apt-get here. Install by hand: OpenBLAS with its headers (cblas.h), bubblewrap, python3, Open MPI (headers, pkg-config file, mpirun)." >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: installing ${missing[*]} needs root; run 'apt-get install ${missing[*]}' as root." >&2
    exit 1
  fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
have_cblas || { echo "error: libopenblas-dev installed but cblas.h or libopenblas.so still not found." >&2; exit 1; }
[ -x /usr/bin/bwrap ] || { echo "error: bubblewrap installed but /usr/bin/bwrap is missing." >&2; exit 1; }
have_mpi || { echo "error: libopenmpi-dev installed but pkg-config finds no 'mpi'." >&2; exit 1; }
command -v mpirun >/dev/null 2>&1 || { echo "error: openmpi-bin installed but mpirun is not on PATH." >&2; exit 1; }
