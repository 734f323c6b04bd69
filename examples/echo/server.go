package main

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
)

// server is an in-process TCP echo server. Every goroutine it starts is
// owned by it and waited for in stop.
type server struct {
	ln  net.Listener
	log *slog.Logger
	wg  sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{} // open server-side connections; guarded by mu
	done  bool                  // stop has begun; guarded by mu
}

// startServer listens on a loopback port the OS picks and serves until stop.
func startServer(log *slog.Logger) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{ln: ln, log: log, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

func (s *server) addr() string { return s.ln.Addr().String() }

func (s *server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error("accept", "err", err)
			}
			return
		}
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1) // under mu, before stop can reach wg.Wait
		s.mu.Unlock()
		go s.serve(c)
	}
}

// serve echoes everything it reads until the client hangs up.
func (s *server) serve(c net.Conn) {
	defer s.wg.Done()
	if _, err := io.Copy(c, c); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("echo connection ended", "err", err)
	}
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// stop closes the listener and every connection still open, and waits for
// all the server's goroutines to end.
func (s *server) stop() {
	s.mu.Lock()
	s.done = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}
