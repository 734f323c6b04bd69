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
