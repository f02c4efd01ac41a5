#!/usr/bin/env bash
# How long `doctor analyze` takes on each recorded fixture with all built-in rules: the whole
# process (start, compile the rules once, read the snapshot, evaluate, rank, render), measured by
# hyperfine. The target is <= 5 ms wall per run.
#
#   bash benches/analyze.sh            # builds the release binary first
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
cargo build -j2 --release --locked --quiet
bin=target/release/doctor
echo "rules: $($bin rules list | wc -l) built in"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
cmds=()
for f in fixtures/*.json; do
  cmds+=("$bin analyze $f --format json --fail-on never")
done
hyperfine -N --warmup 20 --runs 200 --export-json "$results" "${cmds[@]}" >/dev/null
python3 - "$results" <<'PY' 2>/dev/null || jq -r '.results[] | "\(.mean*1000) ms mean  \(.command)"' "$results"
import json, sys
worst = 0.0
for r in json.load(open(sys.argv[1]))["results"]:
    mean, p95 = r["mean"] * 1000, sorted(r["times"])[int(len(r["times"]) * 0.95)] * 1000
    worst = max(worst, mean)
    print(f"{mean:6.2f} ms mean  {p95:6.2f} ms p95  {r['command'].split()[2]}")
print(f"worst mean {worst:.2f} ms: {'within' if worst <= 5 else 'ABOVE'} the 5 ms budget")
PY
