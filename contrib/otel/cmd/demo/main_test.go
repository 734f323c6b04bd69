package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	chanpoolotel "github.com/chanpool/chanpool/contrib/otel"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// exported is the part of a span as stdouttrace prints it that the test
// reads.
type exported struct {
	Name        string
	SpanContext struct{ SpanID string }
	Parent      struct{ SpanID string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
}

// The demo prints the acquire's span, then the request's, its parent; the
// acquire waited exactly hold (synctest's virtual time) for connection 1.
func TestDemoExportsTheSlowAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, run(&out), "run")
		var spans []exported
		for dec := json.NewDecoder(&out); ; {
			var s exported
			err := dec.Decode(&s)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "decoding the output")
			spans = append(spans, s)
		}
		require.Len(t, spans, 2, "spans printed")
		acq, req := spans[0], spans[1]
		assert.Equal(t, chanpoolotel.SpanName, acq.Name, "first span")
		assert.Equal(t, "handle request", req.Name, "second span")
		assert.Equal(t, req.SpanContext.SpanID, acq.Parent.SpanID, "the acquire's parent")
		got := map[string]any{}
		for _, kv := range acq.Attributes {
			got[kv.Key] = kv.Value.Value
		}
		assert.Equal(t, map[string]any{
			"db.client.connection.pool.name": "demo",
			string(chanpoolotel.WaitedKey):   true,
			string(chanpoolotel.WaitTimeKey): hold.Seconds(),
			string(chanpoolotel.ConnIDKey):   float64(1), // a JSON number
		}, got, "the acquire's attributes")
	})
}

func TestCheckWantsOneAcquireSpan(t *testing.T) {
	assert.ErrorContains(t, check(nil, [8]byte{}), "got 0 chanpool.acquire spans")
}
