#!/usr/bin/env bash
# Runs each fuzz target for a bounded time, keeps what it learned beyond the seeds in
# fuzz/corpus/TARGET (minimised, see `keep`), and prints one line of figures per target.
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 120 s, every target)
#
# Needs a nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly --profile minimal
#   cargo +nightly install cargo-fuzz --locked
#
# Seeds come from the repository itself (recorded fixtures, the rule files, the pasted outputs of
# tests/import/samples, the log patterns' own sample lines, the diary) and are read, never
# written. A crash stops that target, leaves the input in fuzz/artifacts/TARGET/ and makes this
# script exit 1: copy the input to fuzz/regressions/TARGET/ (the normal test suite runs every
# file there, tests/fuzz_corpus.rs), fix the bug, and run again.
#
# Not part of CI: it runs for minutes and needs nightly. The figures of the last run are in the
# closing note of the change that ran it.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-120}
KEEP=300
shift || true
all=(snapshot_file rule_file cel_expression pattern_file log_bytes pasted_text)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

if ! cargo +nightly fuzz --help >/dev/null 2>&1; then
    echo "fuzz/run.sh: needs cargo-fuzz on a nightly toolchain:" >&2
    echo "  rustup toolchain install nightly --profile minimal && cargo +nightly install cargo-fuzz --locked" >&2
    exit 2
fi

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT

# seed TARGET FILE...: copies files into the target's seed folder.
seed() {
    local t=$1
    shift
    mkdir -p "$seeds/$t"
    local f
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$seeds/$t/$(printf '%s' "$f" | tr '/' '_')"
    done
    return 0
}

seed snapshot_file fixtures/*.json tests/watch/*.json
seed rule_file rules/*.toml rules/tests/*.toml
seed pattern_file rules/logs/*.toml
seed pasted_text tests/import/samples/*.txt tests/import/samples/*.md tests/import/samples/percona/*.txt
seed log_bytes ../shared/seed/*.md tests/import/samples/diary-mokakbab-issue.md
# Every rule's CEL (its `when`, `let`s, `score`) and every log pattern's sample lines, one per file.
python3 - "$seeds" <<'PY'
import pathlib, sys, tomllib
out = pathlib.Path(sys.argv[1])
(out / "cel_expression").mkdir(exist_ok=True)
(out / "log_bytes").mkdir(exist_ok=True)
n = 0
for path in sorted(pathlib.Path("rules").glob("*.toml")):
    rule = tomllib.loads(path.read_text())
    exprs = [rule.get("when"), rule.get("score"), *rule.get("let", {}).values()]
    for group in rule.get("from", []):
        exprs += [group.get("when"), group.get("score")]
    for e in exprs:
        if isinstance(e, str):
            n += 1
            (out / "cel_expression" / f"{path.stem}-{n}").write_text(e)
for path in sorted(pathlib.Path("rules/logs").glob("*.toml")):
    lines = tomllib.loads(path.read_text()).get("samples", [])
    # The first byte chooses the scanner's options (doctor::fuzzing::log_bytes).
    (out / "log_bytes" / path.stem).write_bytes(b"\x05" + "\n".join(lines).encode() + b"\n")
PY

cargo +nightly fuzz build -O 2>&1 | tail -1
# keep TARGET: what the corpus adds to the seeds, minimised: libFuzzer's merge into a copy of the
# seeds adds only the inputs that reach new coverage; the seeds themselves are not kept (they are
# in the repository already), nor inputs over 16 KiB (mutations of the larger fixtures, which
# would make the corpus tens of megabytes; their seeds are fuzzed again every run). Of the rest,
# KEEP (300) spread over the sizes: libFuzzer keeps an input for every new edge-count bucket,
# thousands per target after a few minutes; the kept ones are a regression check for the normal
# suite and a head start for the next run, which the seeds bring back to full coverage in
# minutes.
keep() {
    local t=$1 merged
    merged=$(mktemp -d)
    cp "$seeds/$t"/* "$merged/"
    cargo +nightly fuzz run -O "$t" "$merged" "fuzz/corpus/$t" -- -merge=1 -max_len=262144 \
        -rss_limit_mb=2048 >/dev/null 2>&1 || { rm -rf "$merged"; return 0; }
    (cd "$seeds/$t" && ls) | while read -r f; do rm -f "$merged/$f"; done
    find "$merged" -type f -size +16k -delete
    # KEEP inputs spread evenly over the sizes, smallest to largest.
    find "$merged" -type f -printf '%s %p\n' | sort -n | awk -v keep="$KEEP" '
        { path[NR] = $2 }
        END { if (NR > keep) for (i = 1; i <= NR; i++) drop[i] = 1
              if (NR > keep) for (i = 0; i < keep; i++) delete drop[int(i * NR / keep) + 1]
              for (i in drop) print path[i] }' | xargs -r rm -f
    rm -rf "fuzz/corpus/$t"
    mkdir -p "fuzz/corpus/$t"
    find "$merged" -type f -exec mv {} "fuzz/corpus/$t/" \;
    rm -rf "$merged"
}

printf '%-15s %8s %12s %9s %6s %7s %7s  %s\n' target seconds executions exec/s cov features corpus result
failed=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/regressions/$t"
    log=$(mktemp)
    started=$(date +%s)
    # -timeout: one input taking 10 s is a hang, reported like a crash. -rss_limit_mb: the same
    # for memory. Seeds are read from their own folder; new inputs go to the kept corpus.
    if cargo +nightly fuzz run -O "$t" "fuzz/corpus/$t" "$seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
        -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result="CRASH: $(ls -t "fuzz/artifacts/$t" 2>/dev/null | head -1)"
        failed=1
    fi
    took=$(($(date +%s) - started))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    if [ "$result" = ok ]; then
        keep "$t"
    else
        tail -40 "$log" >&2
    fi
    kept=$(find "fuzz/corpus/$t" -type f | wc -l)
    printf '%-15s %8s %12s %9s %6s %7s %7s  %s\n' "$t" "$took" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "$kept" "$result"
    rm -f "$log"
done
exit $failed
