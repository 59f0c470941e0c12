#!/usr/bin/env bash
# Run every cargo-fuzz target of the Rust core for a bounded time (FUZZ_SECONDS each,
# default 10), seeded with the public sample files, and print each target's executions.
# Installs cargo-fuzz from the crate registry when missing; libFuzzer needs the nightly
# toolchain, which rustup on this machine carries.
source "$(dirname "$0")/common.sh"
SECONDS_EACH="${FUZZ_SECONDS:-10}"
cd "$REPO/rust_core/fuzz"
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  say "the nightly Rust toolchain is needed by cargo-fuzz (libFuzzer's instrumentation) and is missing"
  exit 1
fi
SEEDS="$REPO/../shared/testdata"
WORK="$REPO/target/fuzz"
mkdir -p "$WORK"
cargo +nightly fuzz build -O >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; exit 1; }
total=0
for target in $(cargo +nightly fuzz list); do
  corpus="$WORK/corpus/$target"
  mkdir -p "$corpus"
  seeds=()
  [ -d "$SEEDS/small" ] && seeds+=("$SEEDS/small")
  log="$WORK/$target.log"
  if ! cargo +nightly fuzz run -O "$target" "$corpus" "${seeds[@]}" -- \
      -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1 >"$log" 2>&1; then
    say "fuzz target $target crashed:"
    tail -40 "$log"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  printf 'fuzz %-14s %10s executions in %ss, no crash\n' "$target" "${runs:-?}" "$SECONDS_EACH"
  total=$((total + ${runs:-0}))
done
printf 'fuzz summary: %d targets, %d executions, 0 crashes\n' "$(cargo +nightly fuzz list | wc -l)" "$total"
