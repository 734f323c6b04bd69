//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package chanpool_test

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/chanpool"
)

func TestCheckConnPeerReset(t *testing.T) {
	client, server := tcpPair(t)
	require.NoError(t, server.SetLinger(0)) // close with a RST, not a FIN
	require.NoError(t, server.Close())
	err := waitCheckFails(t, client)
	assert.ErrorIs(t, err, chanpool.ErrConnClosedByPeer)
	assert.ErrorIs(t, err, syscall.ECONNRESET)
}
