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
#   TAGS=smartconnpool  build tags: the default adds vitess's smartconnpool, whose
#                    dependencies take about 4 minutes to compile the first time
#   CALLGRIND=auto   count instructions with callgrind.sh: auto (if valgrind is
#                    installed), yes, or no
#
# Defaults take about 13 minutes on 2 cores, callgrind included.
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
TAGS=${TAGS-smartconnpool}
CALLGRIND=${CALLGRIND:-auto}
raw="$OUTDIR/results"
mkdir -p "$raw"

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
echo "run.sh: building the benchmarks (tags: ${TAGS:-none})" >&2
go test -tags "$TAGS" -c -o "$bin/benchmarks.test" .
go build -tags "$TAGS" -o "$bin/report" ./cmd/report
# The contenders' own checks, with the binary that is about to be measured
# (the race-enabled run of `make test` builds without TAGS, to stay quick).
"$bin/benchmarks.test" -test.run '^(TestContenders|TestRunTail|TestMeasureMemory|TestChanpoolZeroAllocs)$' -test.count 1 >&2

# Which chanpool was measured: the commit, and a hash of its non-test
# sources, which tells uncommitted states apart.
commit=$(git -C .. rev-parse --short HEAD 2>/dev/null || echo "no commit")
srchash() { find ../chanpool ../internal -name '*.go' ! -name '*_test.go' | sort | xargs cat | sha256sum | cut -c1-12; }
src=$(srchash)
version="chanpool at $commit, sources sha256 $src"

# One calibration of the ≈ 1 µs hold, shared by the benchmarks and the report.
HOLD_ROUNDS=${HOLD_ROUNDS:-$("$bin/report" -calibrate)}
export HOLD_ROUNDS

# The grid's contenders (chanpool-checks too) × (8 AcquireRelease + 8 Hold
# + 2 Handoff cases, each size × clients pair), and the others × 4 Growth
# cases; smartconnpool is one
# of each only when TAGS has it.
ncpu=$(tr ',' '\n' <<<"$CPU" | grep -c .)
grid=8
[[ ,$TAGS, == *,smartconnpool,* ]] && grid=9
total=0 # unknown for a -bench filter
if [[ $BENCH == . ]]; then total=$(((grid * 18 + (grid - 1) * 4) * ncpu * COUNT)); fi

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
	for clients in 64 1024; do
		cells+=("Handoff\$/pool=/size=8\$/clients=$clients\$")
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

# Instructions per acquire+release, noise-free, for the instruction bar.
cg=()
if [[ $CALLGRIND == yes || ($CALLGRIND == auto && -n $(command -v valgrind)) ]]; then
	echo "run.sh: callgrind" >&2
	TAGS=$TAGS bash ./callgrind.sh | tee "$raw/callgrind.txt" >&2
	cg=(-callgrind "$raw/callgrind.txt")
else
	echo "run.sh: valgrind not found: no instruction counts (apt-get install valgrind)" >&2
	rm -f "$raw/callgrind.txt"
fi

settings="$version; tags ${TAGS:-none}; $COUNT passes of -count 1, -benchtime $BENCHTIME, -cpu $CPU, hold $HOLD_ROUNDS Spin rounds, tail $ROUNDS rounds of $TAIL after $WARMUP warm-up; load average before the benchmarks: $load"
reproduce="make -C benchmarks bench"
if [[ $COUNT != 6 || $BENCHTIME != 100ms || $CPU != 1,2 || $BENCH != . || $TAIL != 1s || $ROUNDS != 3 || $TAGS != smartconnpool ]]; then
	reproduce="make -C benchmarks bench COUNT=$COUNT BENCHTIME=$BENCHTIME CPU=$CPU BENCH='$BENCH' TAIL=$TAIL ROUNDS=$ROUNDS TAGS=$TAGS"
fi
"$bin/report" -bench "$raw/bench.txt" -benchstat "$raw/benchstat.txt" "${cg[@]}" \
	-out "$OUTDIR/RESULTS.md" -tail "$TAIL" -warmup "$WARMUP" -rounds "$ROUNDS" -waiters "$WAITERS" \
	-settings "$settings" -reproduce "$reproduce"
echo "run.sh: wrote $OUTDIR/RESULTS.md in $((SECONDS - start))s" >&2
