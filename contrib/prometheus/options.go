package chanpoolprom

import (
	"maps"

	"github.com/prometheus/client_golang/prometheus"
)

// An Option configures a Collector. Pass options to NewCollector.
type Option func(*options)

type options struct {
	namespace   string
	subsystem   string
	constLabels prometheus.Labels
	// For a GroupCollector only.
	keyLabel  string
	maxKeys   int
	keyString any // func(K) string, for the GroupCollector's K
}

// WithNamespace sets the first part of every metric name. The default is
// "chanpool"; "" leaves the namespace out.
func WithNamespace(namespace string) Option {
	return func(o *options) { o.namespace = namespace }
}

// WithSubsystem sets the part of every metric name between the namespace and
// the metric's own name: WithSubsystem("db") turns chanpool_connections into
// chanpool_db_connections. The default is "", no subsystem.
func WithSubsystem(subsystem string) Option {
	return func(o *options) { o.subsystem = subsystem }
}

// WithConstLabels adds labels with fixed values to every metric the collector
// exports. Give each pool registered on the same registry a different value,
// for instance WithConstLabels(prometheus.Labels{"pool": "db"}): two
// collectors with identical names and labels conflict, and registering the
// second fails. The names "q", "reason" and "le" are taken by the collector's
// own labels; using one makes Register fail. A later WithConstLabels replaces an earlier one. The map is copied.
func WithConstLabels(labels prometheus.Labels) Option {
	labels = maps.Clone(labels)
	return func(o *options) { o.constLabels = labels }
}

// DefaultMaxKeys is how many keys a GroupCollector exports a series set for
// unless WithMaxKeys says otherwise.
const DefaultMaxKeys = 100

// WithKeyLabel names the label that carries a group's key (default "key").
// Only a GroupCollector uses it.
func WithKeyLabel(name string) Option {
	return func(o *options) { o.keyLabel = name }
}

// WithMaxKeys caps how many keys a GroupCollector exports series for
// (default DefaultMaxKeys): the guard against a label-cardinality blow-up
// when keys are tenants or addresses without a bound. The first n keys in
// the order of their label values get series of their own; the others are
// added up into one set of series whose key label is OtherKey. n must be
// at least 1.
func WithMaxKeys(n int) Option {
	return func(o *options) { o.maxKeys = n }
}

// WithKeyString sets how a GroupCollector turns a key into its label value
// (default fmt.Sprint). f must be a func(K) string for the group's K; a
// GroupCollector of another K reports the mismatch when it is registered.
func WithKeyString[K comparable](f func(K) string) Option {
	return func(o *options) { o.keyString = f }
}
