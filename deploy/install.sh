#!/usr/bin/env bash
# Install everything Quarry needs on this machine: Debian packages, a Python venv with
# Quarry (its Rust core built by maturin), and the MinIO server built with Go.
# Safe to run again: each part is skipped when already in place.
source "$(dirname "$0")/common.sh"

need_apt=()
command -v prometheus >/dev/null || need_apt+=(prometheus)
command -v sha256sum >/dev/null || need_apt+=(coreutils)
command -v ssdeep >/dev/null || need_apt+=(ssdeep)
command -v debugfs >/dev/null || need_apt+=(e2fsprogs)
command -v hashdeep >/dev/null || need_apt+=(hashdeep)
command -v mkfs.fat >/dev/null || need_apt+=(dosfstools)
command -v mcopy >/dev/null || need_apt+=(mtools)
command -v mkfs.exfat >/dev/null || need_apt+=(exfatprogs)
# The carving benchmark's peers (bench/carving.py): PhotoRec comes in the testdisk package.
command -v foremost >/dev/null || need_apt+=(foremost)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
command -v scalpel >/dev/null || need_apt+=(scalpel)
command -v photorec >/dev/null || need_apt+=(testdisk)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# The Debian package starts a system Prometheus; Quarry runs its own, so leave that one alone.

if [ ! -x "$VENV/bin/python" ]; then
  say "creating Python venv at $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -U pip
fi
say "installing Quarry and its Python packages (builds the Rust core with maturin)"
"$VENV/bin/pip" install -q -e "$REPO[dev]"

"$REPO/deploy/minio.sh" install
say "install done"
