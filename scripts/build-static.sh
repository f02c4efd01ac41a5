#!/usr/bin/env bash
# Builds the one static binary to copy onto any Linux x86_64 server (CentOS 7's glibc 2.17
# included): target/x86_64-unknown-linux-musl/release/doctor. Needs musl-tools for crates that
# compile C (ring); no OpenSSL or other system library is linked.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v musl-gcc >/dev/null || { echo "installing musl-tools" >&2; apt-get install -y -qq musl-tools >/dev/null; }
rustup target list --installed | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl
cargo build -j2 --release --locked --target x86_64-unknown-linux-musl --bin doctor
bin=target/x86_64-unknown-linux-musl/release/doctor
file "$bin" | grep -Eq 'static(-pie)? linked' || { echo "not static: $(file "$bin")" >&2; exit 1; }
echo "$bin: $(du -h "$bin" | cut -f1), $(file -b "$bin" | cut -d, -f1-4)"
"$bin" --version
# Smoke test where a Docker engine runs: the binary in a busybox container (no libc at all, as
# good a stand-in for an old distribution as this machine has) replays a fixture and samples the
# host. The image is the tests' own (`docker import` of busybox-static, made by tests/run.sh's
# container tests or benches/containers.sh). grep reads to the end (not -q): quitting at the first
# match closed the pipe under a doctor still writing, and pipefail counted docker's broken pipe.
if docker image inspect doctor-test-busybox:latest >/dev/null 2>&1; then
  docker run --rm --network none -v "$PWD/$bin:/doctor:ro" -v "$PWD/fixtures:/fixtures:ro" \
    doctor-test-busybox:latest /doctor analyze /fixtures/pool-queue-limit.json --format json \
    --fail-on never | grep '"id": "db-pool-exhausted"' >/dev/null ||
    { echo "the static binary did not replay a fixture inside busybox" >&2; exit 1; }
  docker run --rm --network none -v "$PWD/$bin:/doctor:ro" doctor-test-busybox:latest \
    /doctor snapshot --interval 1s --quiet | grep '"schema"' >/dev/null ||
    { echo "the static binary did not take a snapshot inside busybox" >&2; exit 1; }
  echo "runs inside a busybox container (no libc): analyze and snapshot ok"
fi
