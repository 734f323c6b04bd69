// Command echo is a runnable demo of chanpool: it starts a TCP echo server
// on a loopback port the OS picks, pools real net.Conns to it, runs many
// concurrent clients doing write+read round trips for a few seconds, and
// prints the pool's stats and the acquire/release latency percentiles next to
// latency targets for a pool in a latency-sensitive service (acquire p99
// < 5 ms, release p99 < 1 ms).
//
//	go run ./examples/echo -duration 3s -clients 64 -conns 16 -size 64
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chanpool/chanpool/chanpool"
)

const maxSize = 64 << 10

type options struct {
	duration time.Duration
	clients  int
	conns    int
	size     int
	strict   bool
	resize   bool
	trace    bool
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "how long the clients run")
	flag.IntVar(&o.clients, "clients", 64, "concurrent client goroutines")
	flag.IntVar(&o.conns, "conns", 16, "pool MaxConns")
	flag.IntVar(&o.size, "size", 64, "bytes per echo round trip (at most 64 KiB)")
	flag.BoolVar(&o.strict, "strict", false, "exit non-zero if a latency target is missed")
	flag.BoolVar(&o.trace, "trace", false, "trace every acquire (chanpool.Tracer) and print the slowest")
	flag.BoolVar(&o.resize, "resize", false, "lower MaxConns to a quarter a third of the way in, and raise it back at two thirds")
	verbose := flag.Bool("v", false, "debug logging")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if err := run(o, log); err != nil {
		log.Error("demo failed", "err", err)
		os.Exit(1)
	}
}

func run(o options, log *slog.Logger) (err error) {
	if o.duration <= 0 || o.clients < 1 || o.conns < 1 || o.size < 1 {
		return errors.New("-duration, -clients, -conns and -size must be positive")
	}
	// A client writes its whole message before reading the echo: beyond the
	// socket buffers, both sides would block on write.
	if o.size > maxSize {
		return fmt.Errorf("-size %d is over the %d-byte limit", o.size, maxSize)
	}

	srv, err := startServer(log)
	if err != nil {
		return fmt.Errorf("start echo server: %w", err)
	}
	defer func() { // after the pool's Close below: deferred calls run last-in first-out
		srv.stop()
		log.Info("echo server stopped")
	}()
	log.Info("echo server listening", "addr", srv.addr())

	var tracer chanpool.Tracer
	trace := &slowest{}
	if o.trace {
		tracer = trace
	}
	p, err := chanpool.New(chanpool.Config[net.Conn]{
		Dial: func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", srv.addr())
		},
		Close:          net.Conn.Close,
		HealthCheck:    chanpool.CheckConn, // peeks: drops conns the server closed
		MaxConns:       o.conns,
		MinConns:       min(4, o.conns),
		MaxWaiting:     o.clients, // every client may wait: none is turned away
		AcquireTimeout: 5 * time.Second,
		Logger:         log.With("component", "chanpool"),
		Tracer:         tracer,
	})
	if err != nil {
		return fmt.Errorf("new pool: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if cerr := p.Close(ctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close pool: %w", cerr))
			return
		}
		log.Info("pool closed")
	}()

	// Ctrl-C ends the run early, as cleanly as the deadline does.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()

	log.Info("running", "clients", o.clients, "max_conns", o.conns, "size", o.size, "duration", o.duration)
	var ops atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { progress(ctx, p, &ops) })
	if o.resize {
		wg.Go(func() { liveResize(ctx, p, o.conns, o.duration, log) })
	}
	start := time.Now()
	clients := runClients(ctx, p, o.clients, o.size, &ops)
	elapsed := time.Since(start)
	cancel()
	wg.Wait()

	var acq, rel [][]time.Duration
	var failed int
	var firstErr error
	for i, cl := range clients {
		acq, rel = append(acq, cl.acquire), append(rel, cl.release)
		if cl.err != nil {
			failed++
			log.Debug("client failed", "client", i, "err", cl.err)
			if firstErr == nil {
				firstErr = fmt.Errorf("client %d: %w", i, cl.err)
			}
		}
	}
	met := printReport(p.Stats(), ops.Load(), elapsed, summarize(acq), summarize(rel))
	if o.trace {
		fmt.Println(trace)
	}

	if failed > 0 {
		return fmt.Errorf("%d of %d clients failed (-v logs each); first: %w", failed, len(clients), firstErr)
	}
	if ops.Load() == 0 {
		return errors.New("no round trip completed")
	}
	if o.strict && !met {
		return errors.New("latency target missed (-strict)")
	}
	return nil
}
