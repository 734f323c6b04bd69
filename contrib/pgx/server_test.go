package pgxpool_test

// A throwaway PostgreSQL cluster per test: initdb into a temporary
// directory, pg_ctl start on 127.0.0.1 and a free port with trust
// authentication, and, whatever the test's outcome, pg_ctl stop and the
// directory removed (t.Cleanup runs after a failure or a panic too). Every
// server binary runs as the postgres user through runuser when the tests
// run as root (initdb refuses root), as the current user otherwise.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

type server struct {
	bin, dir, data, sock, logf string
	port                       int
	asPostgres                 bool
	uid, gid                   int
}

// missing skips the test with reason, or fails it under CI=true, where
// the binaries must be present (.ci/run installs them).
func missing(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and %s: the real-server tests must run in CI", reason)
	}
	t.Skipf("skipping the real-server test: %s (apt-get install postgresql)", reason)
}

// serverBin is the newest /usr/lib/postgresql/*/bin holding initdb, pg_ctl
// and postgres, or "". CHANPOOL_PG_BIN, if set, names the one directory to
// look in instead (another installation).
func serverBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if d := os.Getenv("CHANPOOL_PG_BIN"); d != "" {
		dirs = []string{d}
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		ok := true
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if _, err := os.Stat(filepath.Join(d, b)); err != nil {
				ok = false
			}
		}
		if ok {
			return d
		}
	}
	return ""
}

func version(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return n
}

// startServer starts a cluster for t and returns it; t's cleanup stops it and
// removes its directory.
func startServer(t *testing.T) *server {
	t.Helper()
	bin := serverBin()
	if bin == "" {
		missing(t, "no PostgreSQL server binaries (initdb, pg_ctl, postgres) under /usr/lib/postgresql/*/bin or $CHANPOOL_PG_BIN")
	}
	s := &server{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			missing(t, "running as root and there is no postgres user to run the server as")
		}
		s.asPostgres = true
		s.uid, _ = strconv.Atoi(u.Uid)
		s.gid, _ = strconv.Atoi(u.Gid)
	}
	dir, err := os.MkdirTemp("", "chanpool-pgx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s.dir, s.data, s.sock, s.logf = dir, filepath.Join(dir, "data"), filepath.Join(dir, "sock"), filepath.Join(dir, "server.log")
	if err := os.Mkdir(s.sock, 0o700); err != nil {
		t.Fatal(err)
	}
	if s.asPostgres {
		for _, d := range []string{dir, s.sock} {
			if err := os.Chown(d, s.uid, s.gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.run(2*time.Minute, "initdb", "-D", s.data, "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatal(err)
	}
	hba := filepath.Join(s.data, "pg_hba.conf")
	if err := os.WriteFile(hba, []byte("local all all trust\nhost all all 127.0.0.1/32 trust\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s.asPostgres {
		if err := os.Chown(hba, s.uid, s.gid); err != nil {
			t.Fatal(err)
		}
	}
	s.port = freePort(t)
	t.Cleanup(func() { s.stop(t) })
	if err := s.start(); err != nil {
		t.Fatalf("%v\n%s", err, s.log())
	}
	return s
}

// freePort is a port free on 127.0.0.1 below the ephemeral range: a client
// dialing a stopped server on a port inside the range can, in a dial storm,
// be given that very port as its own and connect to itself, and then the
// server cannot bind it again.
func freePort(t *testing.T) int {
	lo := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		_, _ = fmt.Sscan(string(b), &lo)
	}
	lo = min(lo, 32768)
	for range 100 {
		port := 20000 + rand.IntN(max(lo-20000, 1))
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		_ = l.Close()
		return port
	}
	t.Fatal("no free port found on 127.0.0.1 in 100 tries")
	return 0
}

// run runs a server binary, as the postgres user if need be, killed after
// timeout.
func (s *server) run(timeout time.Duration, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	path := filepath.Join(s.bin, name)
	cmd := exec.CommandContext(ctx, path, args...)
	if s.asPostgres {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	cmd.Dir = s.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func (s *server) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off", s.port, s.sock)
	return s.run(90*time.Second, "pg_ctl", "-D", s.data, "-o", opts, "-l", s.logf, "-w", "-t", "60", "start")
}

// stopFast stops the server with a fast shutdown: every session is ended.
func (s *server) stopFast() error {
	return s.run(90*time.Second, "pg_ctl", "-D", s.data, "-w", "-t", "60", "-m", "fast", "stop")
}

// stop stops the server if it runs (immediate if fast fails).
func (s *server) stop(t *testing.T) {
	if _, err := os.Stat(filepath.Join(s.data, "postmaster.pid")); err != nil {
		return
	}
	if err := s.stopFast(); err != nil {
		t.Logf("stopping the server: %v; trying -m immediate", err)
		if err := s.run(90*time.Second, "pg_ctl", "-D", s.data, "-w", "-t", "60", "-m", "immediate", "stop"); err != nil {
			t.Errorf("stopping the server: %v", err)
		}
	}
}

func (s *server) log() string {
	b, _ := os.ReadFile(s.logf)
	return string(b)
}

// connString is the URL of the server's postgres database, plus extra
// (k=v&k=v) settings.
func (s *server) connString(extra string) string {
	u := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	if extra != "" {
		u += "&" + extra
	}
	return u
}
