#!/usr/bin/env bash
# How long `doctor import` takes on a 10 MB paste (issue 12: <= 200 ms): the recorded samples of
# tests/import/samples/ (netstat -s, nstat, sysctl -a, MariaDB result sets in every form, the
# diary with its stack trace, Percona's dumps) concatenated until the text is 10 MB, so every
# recogniser and the log scanner get their share. The whole process is measured by hyperfine
# (start, compile the rules, read, recognise, scan, build, evaluate, render); CPU time (user +
# system) beside it, since a shared machine inflates wall time much more than CPU time.
#
#   bash benches/import.sh            # builds the release binary first
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
cargo build -j2 --release --locked --quiet
bin=target/release/doctor
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
paste="$dir/paste.md"
while [ "$(stat -c %s "$paste" 2>/dev/null || echo 0)" -lt 10000000 ]; do
  for f in tests/import/samples/*.txt tests/import/samples/*.md tests/import/samples/percona/*.txt; do
    printf '\n```\n' >> "$paste"; cat "$f" >> "$paste"; printf '\n```\n' >> "$paste"
  done
done
truncate -s 10000000 "$paste"
echo "input: $(stat -c %s "$paste") bytes, $(wc -l < "$paste") lines"
for _ in $(seq 100); do
  busy=$(vmstat 1 3 | tail -2 | awk '{s += $13 + $14} END {print int(s / 2)}')
  [ "$busy" -lt 15 ] && break
done
echo "machine busy before measuring: ${busy}% (vmstat us+sy)"
results="$dir/results.json"
hyperfine -N --warmup 2 --runs 15 --export-json "$results" \
  "$bin import $paste --format json --fail-on never" >/dev/null 2>&1
python3 - "$results" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
t = sorted(r["times"])
ms = lambda x: x * 1000
median = ms(t[len(t) // 2])
print(f"{median:6.1f} ms median  {ms(t[0]):6.1f} min  {ms(t[-1]):6.1f} max  "
      f"{ms(r['user'] + r['system']):6.1f} ms CPU")
print(f"{'within' if median <= 200 else 'ABOVE'} the 200 ms budget")
PY
/usr/bin/time -f "max RSS %M KiB" "$bin" import "$paste" --format json --fail-on never > /dev/null
