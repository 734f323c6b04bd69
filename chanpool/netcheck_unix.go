//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package chanpool

import (
	"os"
	"syscall"
)

const canPeek = true

// peek looks at the socket behind rc with recv(MSG_PEEK|MSG_DONTWAIT): one
// byte at most, left in the socket buffer, and never waiting for one.
func peek(rc syscall.RawConn) (peekResult, error) {
	var (
		buf [1]byte
		n   int
		err error
	)
	rerr := rc.Read(func(fd uintptr) bool {
		for {
			n, _, err = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if err != syscall.EINTR {
				// Done either way: returning false would make the runtime
				// wait for the socket to become readable.
				return true
			}
		}
	})
	switch {
	case rerr != nil:
		return peekEmpty, rerr
	case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
		return peekEmpty, nil
	case err == syscall.ECONNRESET:
		return peekEOF, os.NewSyscallError("recvfrom", err)
	case err != nil:
		return peekEmpty, os.NewSyscallError("recvfrom", err)
	case n > 0:
		return peekData, nil
	}
	return peekEOF, nil // a zero-byte read on a stream socket is end-of-file
}
