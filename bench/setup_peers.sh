#!/bin/sh
# Installs the peer programs the benchmarks compare against (Debian 12 packages only):
# MuJoCo 2.2.2 (simulator), PyTorch 1.13 (MLP/PPO), scikit-learn 1.2 and NumPy/OpenBLAS (GP).
# libopenblas0-openmp is the OpenMP OpenBLAS that the PyTorch benchmark puts first on
# LD_LIBRARY_PATH (the pthreads flavour oversubscribes 2 cores against torch's own threads).
set -e
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y \
  build-essential clang libomp-dev libmujoco-dev \
  python3-torch python3-sklearn python3-numpy python3-scipy python3-threadpoolctl \
  libopenblas0-pthread libopenblas0-openmp
