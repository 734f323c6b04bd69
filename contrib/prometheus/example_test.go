package chanpoolprom_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chanpool/chanpool/chanpool"
	chanpoolprom "github.com/chanpool/chanpool/contrib/prometheus"
)

// A pool's Collector registered on a registry served over HTTP. A real
// service would use prometheus.MustRegister and promhttp.Handler; here one
// scrape goes through an httptest.Recorder instead of a port.
func ExampleNewCollector() {
	// In-memory buffers stand in for real connections.
	p, err := chanpool.New(chanpool.Config[*bytes.Buffer]{
		Dial:     func(context.Context) (*bytes.Buffer, error) { return new(bytes.Buffer), nil },
		MinConns: chanpool.None, // dial on demand only, so that the counts below are exact
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	reg := prometheus.NewRegistry()
	reg.MustRegister(chanpoolprom.NewCollector(p,
		chanpoolprom.WithConstLabels(prometheus.Labels{"pool": "sessions"})))

	for range 3 {
		s, err := p.Acquire(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		if err := s.Release(); err != nil {
			log.Fatal(err)
		}
	}

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		for _, name := range []string{"chanpool_acquires_total", "chanpool_acquire_waits_total", "chanpool_acquire_wait_seconds_count", "chanpool_connections_created_total", "chanpool_idle_connections"} {
			if strings.HasPrefix(line, name+"{") {
				fmt.Print(line)
			}
		}
	}
	// Output:
	// chanpool_acquire_wait_seconds_count{pool="sessions"} 1
	// chanpool_acquire_waits_total{pool="sessions"} 1
	// chanpool_acquires_total{pool="sessions"} 3
	// chanpool_connections_created_total{pool="sessions"} 1
	// chanpool_idle_connections{pool="sessions"} 1
}
