package chanpoolprom

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chanpool/chanpool/chanpool"
)

// OtherKey is the key label value of the series that add up the keys a
// GroupCollector has no room for (see WithMaxKeys).
const OtherKey = "_other"

// GroupStatsSource is what a GroupCollector reads. Every
// *chanpool.Group[K, T] satisfies it, whatever its T.
type GroupStatsSource[K comparable] interface {
	Stats() chanpool.GroupStats[K]
}

// GroupCollector is a prometheus.Collector that exports a chanpool Group:
// every metric of a Collector once per key, with the key in a label
// (WithKeyLabel, "key" by default), and the group's own figures. The keys
// exported are capped (WithMaxKeys): the rest are added up under the key
// OtherKey, so the number of series stays bounded however many keys the
// group makes. Like a Collector it reads the group's Stats once per
// Collect and keeps no other state. Create one with NewGroupCollector.
type GroupCollector[K comparable] struct {
	src     GroupStatsSource[K]
	perKey  *Collector
	keyOf   func(K) string
	maxKeys int
	group   []groupValue[K]
	invalid *prometheus.Desc // set when an option is unusable
}

// groupValue is one group-wide metric.
type groupValue[K comparable] struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
	get  func(*chanpool.GroupStats[K]) float64
}

// NewGroupCollector returns a GroupCollector for src, typically a
// *chanpool.Group[K, T]. It takes the options of NewCollector, plus
// WithKeyLabel, WithMaxKeys and WithKeyString. Besides the per-key metrics
// it exports, with the default namespace:
//
//	chanpool_group_max_connections        the group's cap (0: none)                       MaxConns
//	chanpool_group_connections            open plus dialing, every key                    Open
//	chanpool_group_queued_clients         callers queued for the cap                      Queued
//	chanpool_group_keys                   keys with a pool now                            len(Keys)
//	chanpool_group_keys_created_total     keys made                                       KeysCreated
//	chanpool_group_keys_removed_total     keys removed                                    KeysRemoved
//
// NewGroupCollector panics if src is nil.
func NewGroupCollector[K comparable](src GroupStatsSource[K], opts ...Option) *GroupCollector[K] {
	if src == nil {
		panic("chanpoolprom: NewGroupCollector with a nil GroupStatsSource")
	}
	o := newOptions(opts)
	c := &GroupCollector[K]{src: src, maxKeys: o.maxKeys, keyOf: func(k K) string { return fmt.Sprint(k) }}
	switch f := o.keyString.(type) {
	case nil:
	case func(K) string:
		c.keyOf = f
	default:
		c.invalid = prometheus.NewInvalidDesc(fmt.Errorf("chanpoolprom: WithKeyString takes a func(%T) string, got %T", *new(K), o.keyString))
	}
	if o.maxKeys < 1 {
		c.invalid = prometheus.NewInvalidDesc(fmt.Errorf("chanpoolprom: WithMaxKeys(%d): n must be at least 1", o.maxKeys))
	}
	if slices.Contains([]string{"q", "reason", "le"}, o.keyLabel) || o.keyLabel == "" {
		c.invalid = prometheus.NewInvalidDesc(errors.New("chanpoolprom: WithKeyLabel: the name must not be empty, q, reason or le"))
	}
	c.perKey = newCollector(o, []string{o.keyLabel})
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(o.namespace, o.subsystem, "group_"+name), help, nil, o.constLabels)
	}
	gauge := func(name, help string, get func(*chanpool.GroupStats[K]) float64) groupValue[K] {
		return groupValue[K]{desc(name, help), prometheus.GaugeValue, get}
	}
	counter := func(name, help string, get func(*chanpool.GroupStats[K]) float64) groupValue[K] {
		return groupValue[K]{desc(name, help), prometheus.CounterValue, get}
	}
	c.group = []groupValue[K]{
		gauge("max_connections", "The group's cap on connections open or dialing across every key (0: none).",
			func(s *chanpool.GroupStats[K]) float64 { return float64(s.MaxConns) }),
		gauge("connections", "Connections open or dialing across every key.",
			func(s *chanpool.GroupStats[K]) float64 { return float64(s.Open) }),
		gauge("queued_clients", "Callers queued for the group's cap: their key has room, the group has none.",
			func(s *chanpool.GroupStats[K]) float64 { return float64(s.Queued) }),
		gauge("keys", "Keys with a pool now.",
			func(s *chanpool.GroupStats[K]) float64 { return float64(len(s.Keys)) }),
		counter("keys_created_total", "Keys made since the group was made.",
			func(s *chanpool.GroupStats[K]) float64 { return float64(s.KeysCreated) }),
		counter("keys_removed_total", "Keys removed: idle, by Remove, or closed through their pool.",
			func(s *chanpool.GroupStats[K]) float64 { return float64(s.KeysRemoved) }),
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *GroupCollector[K]) Describe(ch chan<- *prometheus.Desc) {
	if c.invalid != nil {
		ch <- c.invalid
		return
	}
	for _, v := range c.group {
		ch <- v.desc
	}
	c.perKey.Describe(ch)
}

// Collect reads the group's Stats once and sends its metrics. It
// implements prometheus.Collector.
func (c *GroupCollector[K]) Collect(ch chan<- prometheus.Metric) {
	if c.invalid != nil {
		return
	}
	gs := c.src.Stats()
	for _, v := range c.group {
		ch <- metric(v.desc, v.typ, v.get(&gs))
	}
	// Keys whose label values coincide are added up: one series set per
	// label value.
	byLabel := make(map[string]*chanpool.Stats, len(gs.Keys))
	for k, s := range gs.Keys {
		l := c.keyOf(k)
		if sum := byLabel[l]; sum != nil {
			sum.Add(&s)
		} else {
			byLabel[l] = &s
		}
	}
	labels := slices.Sorted(maps.Keys(byLabel))
	var other chanpool.Stats
	for i, l := range labels {
		if i < c.maxKeys {
			c.perKey.collect(ch, byLabel[l], l)
		} else {
			other.Add(byLabel[l])
		}
	}
	if len(labels) > c.maxKeys {
		c.perKey.collect(ch, &other, OtherKey)
	}
}
