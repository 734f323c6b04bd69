#!/usr/bin/env bash
# Instructions per uncontended acquire+release, counted by valgrind's
# callgrind: the one measure of the fast path that a shared, noisy machine
# does not move. Each benchmark runs twice, for LOW and HIGH iterations
# (-benchtime=Nx), and the difference of the two totals divided by the
# difference of the iterations is the cost of one iteration, without the
# process's start-up and the pool's construction.
#
#	bash benchmarks/callgrind.sh            # from the repository root
#	LOW=20000 HIGH=220000 bash benchmarks/callgrind.sh
#	OTEL=1 bash benchmarks/callgrind.sh     # also contrib/otel's Tracer cases
#	TAGS=smartconnpool bash benchmarks/callgrind.sh   # smartconnpool too
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }

LOW=${LOW:-20000}
HIGH=${HIGH:-220000}
GO=${GO:-go}
TAGS=${TAGS:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# total BINARY BENCH N: the instructions callgrind counted in one run.
total() {
	local out="$tmp/cg.out" log="$tmp/cg.log"
	rm -f "$out"
	# asyncpreemptoff: callgrind can abort on the runtime's preemption
	# signal; the benchmark runs one goroutine and needs no preemption.
	if ! GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$out" "$1" \
		-test.run='^$' -test.bench="$2" -test.benchtime="$3x" -test.cpu=1 >"$log" 2>&1 ||
		! grep -q "^Benchmark.*[[:space:]]$3[[:space:]]" "$log"; then
		echo "callgrind.sh: $2 ($3 iterations) failed under valgrind:" >&2
		cat "$log" >&2
		return 1
	fi
	awk '/^(summary|totals):/ {print $2; exit}' "$out"
}

# per BINARY BENCH: instructions per iteration of BENCH.
per() {
	local lo hi
	lo=$(total "$1" "$2" "$LOW") || return 1
	hi=$(total "$1" "$2" "$HIGH") || return 1
	awk -v lo="$lo" -v hi="$hi" -v n=$((HIGH - LOW)) 'BEGIN {printf "%.0f", (hi - lo) / n}'
}

$GO test -c -o "$tmp/chanpool.test" ./chanpool
(cd benchmarks && $GO test -tags "$TAGS" -c -o "$tmp/benchmarks.test" .)

printf '%-72s %s\n' "benchmark (GOMAXPROCS=1, $LOW and $HIGH iterations)" "instructions/op"
# The Traced ones are the cost of a Tracer that does nothing: one that is not
# a LeaseTracer, and one that is.
for b in '^BenchmarkAcquireRelease$' '^BenchmarkAcquireReleaseEvicting$' \
	'^BenchmarkAcquireReleaseTraced$/^tracer=acquires$' '^BenchmarkAcquireReleaseTraced$/^tracer=leases$'; do
	n=$(per "$tmp/chanpool.test" "$b")
	printf '%-72s %s\n' "chanpool: $b" "$n"
done
# chanpool-checks is chanpool with a HealthCheck and a Reset that return nil
# at once: the fast path of a realistic configuration.
pools=(chanpool chanpool-checks chancas chan)
[[ ,$TAGS, == *,smartconnpool,* ]] && pools+=(smartconnpool)
for pool in "${pools[@]}"; do
	b="^BenchmarkAcquireRelease\$/^pool=$pool\$/^size=8\$/^clients=1\$"
	n=$(per "$tmp/benchmarks.test" "$b")
	printf '%-72s %s\n' "benchmarks: AcquireRelease/pool=$pool/size=8/clients=1" "$n"
done
# contrib/otel's BenchmarkAcquireRelease: its Tracer on a no-op and an SDK
# provider, by default and WithEveryAcquire, against no Tracer and the bare
# channel. Optional: the SDK cases take a minute under callgrind.
if [ -n "${OTEL:-}" ]; then
	(cd contrib/otel && $GO test -c -o "$tmp/otel.test" .)
	for c in 'tracer=none$' 'tracer=empty$' 'tracer=empty-leases$' \
		'tracer=otel$/^provider=noop$/^every=false$' 'tracer=otel$/^provider=sdk$/^every=false$' \
		'tracer=otel$/^provider=noop$/^every=true$' 'tracer=otel$/^provider=sdk$/^every=true$'; do
		n=$(per "$tmp/otel.test" "^BenchmarkAcquireRelease\$/^$c")
		label=${c//\$\/^//}
		printf '%-72s %s\n' "contrib/otel: AcquireRelease/${label%\$}" "$n"
	done
	printf '%-72s %s\n' "contrib/otel: ChannelFloor" "$(per "$tmp/otel.test" '^BenchmarkChannelFloor$')"
fi
