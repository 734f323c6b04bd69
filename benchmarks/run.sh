#!/usr/bin/env bash
# Runs every chanpool benchmark, summarizes them with benchstat and writes
# RESULTS.md with cmd/report. Knobs, from the environment:
#
#   COUNT=6          passes over the suite, one run of each case each (benchstat wants ≥ 6)
#   BENCHTIME=100ms  -benchtime of each run (1x for a smoke run)
#   CPU=1,2          -cpu list
#   BENCH=.          -bench regexp
#   TAIL=1s          recorded time of each tail-latency case (WARMUP=200ms before it)
#   ROUNDS=3         rounds of the tail-latency cases (medians are reported)
#   WAITERS=8,64,512,4096  waiting-client counts of the memory table
#   OUTDIR=.         where RESULTS.md and the plots go; raw output in OUTDIR/results/
#
# Defaults take about 8 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")"

COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-100ms}
CPU=${CPU:-1,2}
BENCH=${BENCH:-.}
TAIL=${TAIL:-1s}
WARMUP=${WARMUP:-200ms}
ROUNDS=${ROUNDS:-3}
WAITERS=${WAITERS:-8,64,512,4096}
OUTDIR=${OUTDIR:-.}
raw="$OUTDIR/results"
mkdir -p "$raw"

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
echo "run.sh: building the benchmarks" >&2
go test -c -o "$bin/benchmarks.test" .
go build -o "$bin/report" ./cmd/report

# Which chanpool was measured: the commit, and a hash of its non-test
# sources, which tells uncommitted states apart.
commit=$(git -C .. rev-parse --short HEAD 2>/dev/null || echo "no commit")
srchash() { find ../chanpool ../internal -name '*.go' ! -name '*_test.go' | sort | xargs cat | sha256sum | cut -c1-12; }
src=$(srchash)
version="chanpool at $commit, sources sha256 $src"

# One calibration of the ≈ 1 µs hold, shared by the benchmarks and the report.
HOLD_ROUNDS=${HOLD_ROUNDS:-$("$bin/report" -calibrate)}
export HOLD_ROUNDS

# 8 contenders (chanpool-checks too) × (8 AcquireRelease + 8 Hold cases),
# and 7 × 4 Growth cases.
ncpu=$(tr ',' '\n' <<<"$CPU" | grep -c .)
total=0 # unknown for a -bench filter
if [[ $BENCH == . ]]; then total=$(((8 * 16 + 7 * 4) * ncpu * COUNT)); fi

# One -bench pattern per cell, so that within a pass the contenders of a
# cell run back to back (the sizes and client counts of bench_test.go): the
# report's ratios pair runs made seconds apart, not minutes. A BENCH filter
# runs as one pattern.
cells=("$BENCH")
if [[ $BENCH == . ]]; then
	cells=()
	for bench in AcquireRelease Hold; do
		for size in 8 64; do
			for clients in 1 8 64 1024; do
				cells+=("$bench\$/pool=/size=$size\$/clients=$clients\$")
			done
		done
	done
	for clients in 8 64 512 4096; do
		cells+=("Growth\$/pool=/size=8\$/clients=$clients\$")
	done
fi

echo "run.sh: $total runs, -count $COUNT -benchtime $BENCHTIME -cpu $CPU, hold $HOLD_ROUNDS rounds" >&2
# COUNT passes over the whole suite rather than -count: a slow spell of the
# machine then hits one run of many cases instead of every run of one case.
load=$(cut -d" " -f1-3 /proc/loadavg)
start=$SECONDS
for pass in $(seq "$COUNT"); do
	for re in "${cells[@]}"; do
		"$bin/benchmarks.test" -test.run '^$' -test.bench "$re" -test.benchmem \
			-test.count 1 -test.benchtime "$BENCHTIME" -test.cpu "$CPU"
	done | {
		n=0
		while IFS= read -r line; do
			printf '%s\n' "$line"
			if [[ $line == Benchmark* ]]; then
				n=$((n + 1))
				read -r name _ ns unit _ <<<"$line"
				printf 'bench [%4ds] pass %s/%s, %s/%s %s %s %s\n' $((SECONDS - start)) "$pass" "$COUNT" \
					"$n" "$((total == 0 ? 0 : total / COUNT))" "${name#Benchmark}" "$ns" "$unit" >&2
			fi
		done
	}
done >"$raw/bench.txt"
if [[ $(srchash) != "$src" ]]; then
	# Both binaries were built before the first measurement: the numbers are
	# for the sources hashed above.
	echo "run.sh: note: chanpool's sources changed after the build; the report is for $src" >&2
	version="$version (changed since the build: rerun to measure the new ones)"
fi
if grep -qE '^(FAIL|panic:|--- FAIL)' "$raw/bench.txt"; then
	echo "run.sh: benchmarks failed, see $raw/bench.txt" >&2
	exit 1
fi

echo "run.sh: benchstat" >&2
go tool benchstat -col /pool "$raw/bench.txt" >"$raw/benchstat.txt"

settings="$version; $COUNT passes of -count 1, -benchtime $BENCHTIME, -cpu $CPU, hold $HOLD_ROUNDS Spin rounds, tail $ROUNDS rounds of $TAIL after $WARMUP warm-up; load average before the benchmarks: $load"
reproduce="make -C benchmarks bench"
if [[ $COUNT != 6 || $BENCHTIME != 100ms || $CPU != 1,2 || $BENCH != . || $TAIL != 1s || $ROUNDS != 3 ]]; then
	reproduce="make -C benchmarks bench COUNT=$COUNT BENCHTIME=$BENCHTIME CPU=$CPU BENCH='$BENCH' TAIL=$TAIL ROUNDS=$ROUNDS"
fi
"$bin/report" -bench "$raw/bench.txt" -benchstat "$raw/benchstat.txt" \
	-out "$OUTDIR/RESULTS.md" -tail "$TAIL" -warmup "$WARMUP" -rounds "$ROUNDS" -waiters "$WAITERS" \
	-settings "$settings" -reproduce "$reproduce"
echo "run.sh: wrote $OUTDIR/RESULTS.md in $((SECONDS - start))s" >&2
