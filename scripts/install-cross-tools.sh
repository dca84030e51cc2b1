#!/bin/sh
# Installs what cross-building for ARM (aarch64) workers needs on a Debian/Ubuntu x86-64 machine:
#   gcc-aarch64-linux-gnu   the runtime jar's linux-aarch64 JNI shim (runtime/pom.xml) and the test driver
#   libc6-dev-arm64-cross   its C library and headers (pulls libc6-arm64-cross, which qemu's -L uses)
#   qemu-user               qemu-aarch64, which runs the aarch64 variant in Aarch64CrossCompileTest
# The compiler needs none of them to emit aarch64 code (LLVM and lld come with the LLVM presets); the build
# and the tests work without them (the shim is then missing from the jar, the emulated tests skip, each
# saying so). Idempotent: installs only what is missing, with apt-get, and only as root; otherwise it
# prints the command to run. Exit status 0 when everything is there at the end, 1 otherwise.
set -eu
packages="gcc-aarch64-linux-gnu libc6-dev-arm64-cross libc6-arm64-cross qemu-user"
missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  echo "cross tools present: $(command -v aarch64-linux-gnu-gcc), $(command -v qemu-aarch64)"
  exit 0
fi
if ! command -v apt-get > /dev/null 2>&1; then
  echo "missing:$missing; this is not a Debian-like system: install an aarch64-linux-gnu cross gcc, its C library and qemu-aarch64 by hand"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing:$missing; run as root: apt-get update && apt-get install -y --no-install-recommends$missing"
  exit 1
fi
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
echo "installed:$missing"
