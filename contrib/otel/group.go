package chanpoolotel

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/chanpool/chanpool/chanpool"
)

// GroupStatsSource is what RegisterGroupMetrics reads. Every
// *chanpool.Group[K, T] satisfies it, whatever its T.
type GroupStatsSource[K comparable] interface {
	Stats() chanpool.GroupStats[K]
}

// DefaultMaxKeys is how many keys RegisterGroupMetrics observes one by one
// unless WithMaxKeys says otherwise.
const DefaultMaxKeys = 100

// OtherKey stands for the keys RegisterGroupMetrics has no room for (see
// WithMaxKeys) in their pool name.
const OtherKey = "_other"

// GroupOption configures RegisterGroupMetrics beyond the Options it shares
// with RegisterMetrics.
type GroupOption[K comparable] func(*groupOptions[K])

type groupOptions[K comparable] struct {
	maxKeys int
	keyOf   func(K) string
}

// WithMaxKeys caps how many keys get pool names of their own (default
// DefaultMaxKeys): the guard against an attribute-cardinality blow-up when
// keys are tenants or addresses without a bound. The first n keys in the
// order of their names are observed one by one, the others added up under
// the key OtherKey. n must be at least 1.
func WithMaxKeys[K comparable](n int) GroupOption[K] {
	return func(o *groupOptions[K]) { o.maxKeys = n }
}

// WithKeyString sets how a key becomes part of its pool name (default
// fmt.Sprint).
func WithKeyString[K comparable](f func(K) string) GroupOption[K] {
	return func(o *groupOptions[K]) { o.keyOf = f }
}

// RegisterGroupMetrics is RegisterMetrics for a chanpool Group: each key's
// pool is observed on the same instruments as a pool of its own, under the
// pool name "<WithPoolName>/<key>" (db.client.connection.pool.name), and
// the group's own figures on chanpool.group.* instruments:
//
//	chanpool.group.connection.max      {connection}  the group's cap (0: none)
//	chanpool.group.connection.count    {connection}  open plus dialing, every key
//	chanpool.group.pending_requests    {request}     callers queued for the cap
//	chanpool.group.keys                {key}         keys with a pool now
//
// One callback reads the group's Stats once per collection. It returns an
// error, registering nothing, for an invalid option or what the meter
// reports, and panics if src or mp is nil.
func RegisterGroupMetrics[K comparable](src GroupStatsSource[K], mp metric.MeterProvider, opts []Option, gopts ...GroupOption[K]) (metric.Registration, error) {
	if src == nil || mp == nil {
		panic("chanpoolotel: RegisterGroupMetrics with a nil GroupStatsSource or MeterProvider")
	}
	o := newOptions(opts)
	g := groupOptions[K]{maxKeys: DefaultMaxKeys, keyOf: func(k K) string { return fmt.Sprint(k) }}
	for _, opt := range gopts {
		opt(&g)
	}
	if g.maxKeys < 1 {
		return nil, fmt.Errorf("chanpoolotel: WithMaxKeys(%d): n must be at least 1", g.maxKeys)
	}
	m := mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	ins, err := newInstruments(m)
	if err != nil {
		return nil, err
	}
	var errs []error
	upDown := func(name, unit, desc string) metric.Int64Observable {
		i, err := m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return i
	}
	capMax := upDown("chanpool.group.connection.max", "{connection}", "The group's cap on connections open or dialing across every key (0: none).")
	open := upDown("chanpool.group.connection.count", "{connection}", "Connections open or dialing across every key.")
	queued := upDown("chanpool.group.pending_requests", "{request}", "Callers queued for the group's cap: their key has room, the group has none.")
	keys := upDown("chanpool.group.keys", "{key}", "Keys with a pool now.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	group := metric.WithAttributeSet(attribute.NewSet(semconv.DBClientConnectionPoolName(o.poolName)))
	// Built for each collection: keys come and go, and a callback may run
	// for several readers at once.
	attrsOf := func(name string) *poolAttrs {
		a := ins.attrs(o.poolName + "/" + name)
		return &a
	}
	return m.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
		gs := src.Stats()
		ob.ObserveInt64(capMax, int64(gs.MaxConns), group)
		ob.ObserveInt64(open, int64(gs.Open), group)
		ob.ObserveInt64(queued, int64(gs.Queued), group)
		ob.ObserveInt64(keys, int64(len(gs.Keys)), group)
		byName := make(map[string]*chanpool.Stats, len(gs.Keys))
		for k, s := range gs.Keys {
			n := g.keyOf(k)
			if sum := byName[n]; sum != nil {
				sum.Add(&s)
			} else {
				byName[n] = &s
			}
		}
		var other chanpool.Stats
		names := slices.Sorted(maps.Keys(byName))
		for i, n := range names {
			if i < g.maxKeys {
				ins.observe(ob, byName[n], attrsOf(n))
			} else {
				other.Add(byName[n])
			}
		}
		if len(names) > g.maxKeys {
			ins.observe(ob, &other, attrsOf(OtherKey))
		}
		return nil
	}, append(ins.all(), capMax, open, queued, keys)...)
}
