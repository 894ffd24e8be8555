#!/usr/bin/env bash
# A short run of every fuzz target (fuzz/fuzz_targets), then every target over the corpus.
#
#   scripts/fuzz-smoke.sh            # 30 s per target
#   FUZZ_SECONDS=300 scripts/fuzz-smoke.sh http_request
#
# Needs the nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz, which this
# installs from crates.io when it is missing. Without nightly it still runs the targets over
# their seed corpus on stable (`cargo test --manifest-path fuzz/Cargo.toml`), which checks the
# same properties without exploring. New inputs the fuzzer finds stay in fuzz/corpus/<target>/;
# a crash leaves its input in fuzz/artifacts/<target>/ and fails this script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${FUZZ_SECONDS:-30}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(typed_input policy_set key_file csv_import http_request radius_packet)
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/fuzz/target}"

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
  fi
  for t in "${targets[@]}"; do
    echo "== fuzzing $t for ${seconds}s"
    # The corpus folder both seeds the run and keeps what it finds.
    cargo +nightly fuzz run --fuzz-dir fuzz "$t" "fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1
  done
else
  echo "no nightly toolchain: running the targets over their seed corpus only" >&2
fi

echo "== every target over its corpus (stable)"
cargo test --manifest-path fuzz/Cargo.toml --release
