// Command report turns the output of the chanpool benchmarks into
// RESULTS.md: it reads `go test -bench` output (and benchstat's summary of
// it), runs the tail-latency and memory harnesses itself, draws the plots
// and marks every cell against chanpool's performance targets (tables.go).
//
//	go run ./cmd/report -bench bench.txt -benchstat benchstat.txt -out RESULTS.md
//
// run.sh runs the benchmarks and then this command; see README.md.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chanpool/chanpool/benchmarks"
)

// The cells of bench_test.go. The -cpu values are those of the results.
var (
	sizes          = []int{8, 64}
	clients        = []int{1, 8, 64, 1024}
	growth         = []int{8, 64, 512, 4096}
	handoffClients = []int{64, 1024}
)

const handoffSize = 8

func main() {
	benchPath := flag.String("bench", "bench.txt", "go test -bench output to read")
	statPath := flag.String("benchstat", "", "benchstat output to include, if any")
	out := flag.String("out", "RESULTS.md", "report to write; plots go beside it")
	tailDur := flag.Duration("tail", time.Second, "how long to record each tail-latency case")
	rounds := flag.Int("rounds", 3, "rounds of every tail-latency case")
	warmup := flag.Duration("warmup", 200*time.Millisecond, "unrecorded run before each tail case")
	waiters := flag.String("waiters", "8,64,512,4096", "waiting-client counts for the memory table")
	connSize := flag.Int("conns", 1024, "pool size for bytes per connection")
	settings := flag.String("settings", "", "how the benchmarks were run, for the report")
	reproduce := flag.String("reproduce", "make -C benchmarks bench", "command that reproduces the report")
	plotsOnly := flag.Bool("plots-only", false, "only redraw the plots from -bench, beside -out")
	callgrind := flag.String("callgrind", "", "callgrind.sh output to read, if valgrind ran")
	calibrate := flag.Bool("calibrate", false, "print how many Spin rounds take 1µs, for $"+benchmarks.HoldEnv+", and exit")
	flag.Parse()
	if *calibrate {
		fmt.Println(benchmarks.HoldIters())
		return
	}
	start := time.Now()
	progress := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "report [%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	if *plotsOnly {
		res, err := readResults(*benchPath)
		if err == nil {
			_, err = drawPlots(res, filepath.Dir(*out), progress)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*benchPath, *statPath, *callgrind, *out, *tailDur, *warmup, *rounds, *waiters, *connSize, *settings, *reproduce, progress); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(benchPath, statPath, callgrindPath, out string, tailDur, warmup time.Duration, rounds int, waiterList string, connSize int,
	settings, reproduce string, progress func(string, ...any)) error {
	res, err := readResults(benchPath)
	if err != nil {
		return err
	}
	var stat []byte
	if statPath != "" {
		if stat, err = os.ReadFile(statPath); err != nil {
			return err
		}
	}
	var instr instructions
	if callgrindPath != "" {
		if instr, err = readCallgrind(callgrindPath); err != nil {
			return err
		}
	}
	waiters, err := parseInts(waiterList)
	if err != nil {
		return fmt.Errorf("-waiters: %w", err)
	}

	progress("hold: %d Spin rounds ≈ 1µs", benchmarks.HoldIters())
	scenarios := tailScenarios(tailDur, warmup)
	tails, err := runTails(scenarios, rounds, progress)
	if err != nil {
		return err
	}
	mem, err := runMemory(waiters, 8, connSize, progress)
	if err != nil {
		return err
	}

	plots, err := drawPlots(res, filepath.Dir(out), progress)
	if err != nil {
		return err
	}

	var w bytes.Buffer
	writeReport(&w, report{
		machine:   describeMachine(res.cpu),
		res:       res,
		stat:      stat,
		scenarios: scenarios,
		tails:     tails,
		mem:       mem,
		plots:     plots,
		settings:  settings,
		reproduce: reproduce,
		tailDur:   tailDur,
		rounds:    rounds,
		procs:     res.procs(),
		instr:     instr,
	})
	progress("write %s", out)
	return os.WriteFile(out, w.Bytes(), 0o644)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// drawPlots draws one PNG per benchmark into dir and returns their names.
func drawPlots(res *results, dir string, progress func(string, ...any)) (map[string]string, error) {
	plots := map[string]string{}
	for _, b := range []struct {
		bench string
		sizes []int
		cl    []int
	}{
		{"AcquireRelease", sizes, clients},
		{"Hold", sizes, clients},
		{"Handoff", []int{handoffSize}, handoffClients},
		{"Growth", []int{8}, growth},
	} {
		if !res.has(b.bench) {
			continue // filtered out by BENCH: a plot with no line cannot be drawn
		}
		name := "plot_" + strings.ToLower(b.bench) + ".png"
		progress("plot %s", name)
		if err := plotBench(res, b.bench, b.sizes, b.cl, res.procs(), filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("plot %s: %w", b.bench, err)
		}
		plots[b.bench] = name
	}
	return plots, nil
}
