#!/usr/bin/env bash
# Run every atheris harness in fuzz/ for a fixed time each, in parallel, and
# write a report. Usage:
#   pip install ".[fuzz]"            # atheris
#   bash fuzz/run.sh [seconds per harness, default 1800] [output dir, default fuzz-out]
# Each harness grows its corpus in <output>/corpus/<harness> (seeded from
# fuzz/corpus/<harness>); a crash leaves <output>/<harness>/crash-* and fails
# the run. <output>/report.md sums up runs, speed, coverage and crashes.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-1800}
out=${2:-fuzz-out}
python=${PYTHON:-python}
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$(pwd)

harnesses=()
for path in fuzz/fuzz_*.py; do
    name=$(basename "$path" .py)
    name=${name#fuzz_}
    harnesses+=("$name")
    mkdir -p "$out/corpus/$name" "$out/$name"
    # Inputs up to 64 KiB + options: long enough for 16- and 64-bit lengths.
    (cd "$out/$name" && "$python" "$root/$path" -max_total_time="$seconds" -max_len=66000 \
        -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 \
        "$out/corpus/$name" "$root/fuzz/corpus/$name" >"$out/$name.log" 2>&1) &
done
wait

status=0
{
    echo "# Fuzzing report"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), ${seconds} s per harness, $("$python" -c 'import platform; print(platform.python_implementation(), platform.python_version())'), wsframe backend compared: C and pure Python."
    echo
    echo "| harness | runs | runs/s | coverage (edges) | corpus | peak RSS (MB) | crashes |"
    echo "|---|---|---|---|---|---|---|"
    for name in "${harnesses[@]}"; do
        log="$out/$name.log"
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}')
        speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | awk '{print $2}')
        rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | awk '{print $2}')
        coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
        corpus=$(find "$out/corpus/$name" -type f | wc -l)
        crashes=$(find "$out/$name" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
        echo "| $name | ${runs:-?} | ${speed:-?} | ${coverage:-?} | $corpus | ${rss:-?} | $crashes |"
        if [ "$crashes" -ne 0 ] || [ -z "$runs" ]; then status=1; fi
    done
} >"$out/report.md"
cat "$out/report.md"
exit $status
