#!/usr/bin/env bash
# Configures and builds into DIR with extra CMake arguments:
#   scripts/build.sh DIR [-DOPTION=VALUE ...] [--target T ...]
# Every caller passes every cdrd option it relies on (CDRD_BUILD_TESTS,
# CDRD_BUILD_BENCH, CDRD_SANITIZE, CDRD_TSAN, CDRD_WERROR): the CMake cache
# keeps an option from an earlier configure, so a directory that another
# script configured differently must not silently change what is built.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake_args=()
build_args=()
while (($#)); do
  case $1 in
    --target) build_args+=(--target "$2"); shift 2 ;;
    *) cmake_args+=("$1"); shift ;;
  esac
done
# ccache, when installed: a clone in another directory (CI) reuses what an
# earlier build compiled (paths are taken relative to the checkout).
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" "${cmake_args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)" "${build_args[@]}"
