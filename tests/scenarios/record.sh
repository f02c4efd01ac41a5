#!/usr/bin/env bash
# Re-records the scenario fixtures: each scenario is induced for real on this machine
# (tests/scenarios/lab.rs), `doctor snapshot` is taken while it holds, and fixtures/<name>.json is
# replaced only if the built-in rules read it as expected. Needs root (swap, cgroups), fio,
# sysstat, iproute2, perl; run it on an otherwise quiet machine.
#
#   bash tests/scenarios/record.sh all
#   bash tests/scenarios/record.sh accept-queue-overflow
#
# Scenarios: accept-queue-overflow disk-saturation cpu-saturation single-core memory-swapping healthy
set -euo pipefail
cd "$(dirname "$0")/../.."
name="${1:?usage: record.sh <scenario>|all}"
export PATH="/usr/sbin:$PATH"
DOCTOR_SCENARIO="$name" cargo test -j2 --test live -- --ignored --exact record --nocapture
