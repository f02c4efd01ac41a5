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
