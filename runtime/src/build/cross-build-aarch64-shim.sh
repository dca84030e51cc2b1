#!/bin/sh
# Cross-builds the runtime's JNI shim for linux-aarch64, so that one runtime jar built on an x86-64
# machine serves ARM workers (Graviton, Ampere) too. Run by runtime/pom.xml in process-classes, after
# the shim of the build machine; the flags are the native build's.
#
# usage: cross-build-aarch64-shim.sh OUT_DIR JAVA_HOME JNI_HEADERS C_SOURCES BUILD_PLATFORM
#
# Without the cross compiler (NNVM_AARCH64_CC, default aarch64-linux-gnu-gcc) it prints one line saying
# the jar has no aarch64 shim and exits 0: the build never depends on it. With it, a compile error fails
# the build like one of the native shim. On an aarch64 build machine the native build made the shim.
set -eu
out="$1"
java_home="$2"
headers="$3"
src="$4"
platform="$5"
if [ "$platform" = "linux-aarch64" ]; then
  exit 0
fi
cc="${NNVM_AARCH64_CC:-aarch64-linux-gnu-gcc}"
if ! command -v "$cc" > /dev/null 2>&1; then
  rm -f "$out/libnnvm_runtime.so" # an earlier build's, which would go stale in the jar
  echo "[nnvm-runtime] this jar has no linux-aarch64 JNI shim: $cc is not on PATH (scripts/install-cross-tools.sh installs Debian's gcc-aarch64-linux-gnu); ARM workers cannot load this runtime"
  exit 0
fi
mkdir -p "$out"
"$cc" -std=gnu11 -O2 -fPIC -shared -pthread -fvisibility=hidden -Wall -Werror \
  -I"$java_home/include" -I"$java_home/include/linux" -I"$headers" \
  -o "$out/libnnvm_runtime.so" "$src/nnvm_runtime.c" "$src/nnvm_thread_pool.c" -ldl
echo "[nnvm-runtime] cross-built the linux-aarch64 JNI shim with $cc"
