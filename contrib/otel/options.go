package chanpoolotel

// An Option configures RegisterMetrics, NewProducer and NewTracer. Each
// takes the options that concern it and ignores the others.
type Option func(*options)

type options struct {
	poolName     string
	everyAcquire bool
}

// DefaultPoolName is the db.client.connection.pool.name of a pool given no
// WithPoolName.
const DefaultPoolName = "chanpool"

// WithPoolName sets the db.client.connection.pool.name attribute of every
// metric and span. Give each pool of a process its own name, and the same
// name to its RegisterMetrics, NewProducer and NewTracer. The default is
// DefaultPoolName.
func WithPoolName(name string) Option {
	return func(o *options) { o.poolName = name }
}

// WithEveryAcquire makes NewTracer's Tracer open a span for every acquire,
// including those served at once from the idle list; by default only those
// that waited or failed get one. Only NewTracer reads it.
func WithEveryAcquire() Option {
	return func(o *options) { o.everyAcquire = true }
}

func newOptions(opts []Option) options {
	o := options{poolName: DefaultPoolName}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
