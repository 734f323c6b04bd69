//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package chanpool

import "syscall"

// canPeek is false where chanpool has no non-blocking peek: CheckConn then
// checks nothing.
const canPeek = false

func peek(syscall.RawConn) (peekResult, error) { return peekEmpty, nil }
