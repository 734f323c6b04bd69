package chanpool

import (
	"fmt"
	"time"
)

// settings is a validated Config with defaults applied. Durations of zero
// mean "off" here: None has been translated away.
type settings struct {
	maxConns, minConns, maxWaiting, limit, minIdle int
	maxDialing, breakerThreshold                   int
	acquireTimeout, dialTimeout, idleTimeout       time.Duration
	evictionInterval, maxLifetime, lifetimeJitter  time.Duration
	healthAfter, checkTimeout, leakThreshold       time.Duration
	keepalive                                      time.Duration
}

func (c *Config[T]) settings() (settings, error) {
	var s settings
	if c.Dial == nil {
		return s, fmt.Errorf("chanpool: Config.Dial is required")
	}
	var err error
	if c.MaxConns < 0 {
		return s, fmt.Errorf("chanpool: Config.MaxConns is %d: must be at least 1 (0 for the default %d)", c.MaxConns, DefaultMaxConns)
	}
	s.maxConns = c.MaxConns
	if s.maxConns == 0 {
		s.maxConns = DefaultMaxConns
	}
	if s.minConns, err = withDefault("MinConns", c.MinConns, min(DefaultMinConns, s.maxConns)); err != nil {
		return s, err
	}
	if s.minConns > s.maxConns {
		return s, fmt.Errorf("chanpool: Config.MinConns (%d) exceeds Config.MaxConns (%d)", s.minConns, s.maxConns)
	}
	s.limit = c.MaxConnsLimit
	switch {
	case s.limit < 0:
		return s, fmt.Errorf("chanpool: Config.MaxConnsLimit is %d: must not be negative (0 for the default)", s.limit)
	case s.limit == 0:
		s.limit = max(DefaultMaxConnsLimitFactor*s.maxConns, DefaultMaxConnsLimitMin)
	case s.limit < s.maxConns:
		return s, fmt.Errorf("chanpool: Config.MaxConnsLimit (%d) is below Config.MaxConns (%d)", s.limit, s.maxConns)
	}
	if s.minIdle, err = withDefault("MinIdle", c.MinIdle, 0); err != nil {
		return s, err
	}
	if s.minIdle > s.maxConns {
		return s, fmt.Errorf("chanpool: Config.MinIdle (%d) exceeds Config.MaxConns (%d)", s.minIdle, s.maxConns)
	}
	if c.MaxWaiting == Unlimited {
		s.maxWaiting = unlimitedWaiting
	} else if s.maxWaiting, err = withDefault("MaxWaiting", c.MaxWaiting, DefaultMaxWaiting); err != nil {
		return s, err
	}
	if c.MaxDialing < 0 {
		return s, fmt.Errorf("chanpool: Config.MaxDialing is %d: must be at least 1 (0 for the default %d)", c.MaxDialing, DefaultMaxDialing)
	}
	s.maxDialing = c.MaxDialing
	if s.maxDialing == 0 {
		s.maxDialing = min(DefaultMaxDialing, s.maxConns)
	}
	if s.breakerThreshold, err = withDefault("BreakerThreshold", c.BreakerThreshold, DefaultBreakerThreshold); err != nil {
		return s, err
	}
	for _, d := range []struct {
		name string
		in   time.Duration
		def  time.Duration
		out  *time.Duration
	}{
		{"AcquireTimeout", c.AcquireTimeout, DefaultAcquireTimeout, &s.acquireTimeout},
		{"DialTimeout", c.DialTimeout, DefaultDialTimeout, &s.dialTimeout},
		{"IdleTimeout", c.IdleTimeout, DefaultIdleTimeout, &s.idleTimeout},
		{"EvictionInterval", c.EvictionInterval, DefaultEvictionInterval, &s.evictionInterval},
		{"MaxLifetime", c.MaxLifetime, 0, &s.maxLifetime},
		{"MaxLifetimeJitter", c.MaxLifetimeJitter, 0, &s.lifetimeJitter},
		{"HealthCheckAfter", c.HealthCheckAfter, DefaultHealthCheckAfter, &s.healthAfter},
		{"CheckTimeout", c.CheckTimeout, DefaultCheckTimeout, &s.checkTimeout},
		{"LeakThreshold", c.LeakThreshold, 0, &s.leakThreshold},
		{"KeepaliveInterval", c.KeepaliveInterval, 0, &s.keepalive},
	} {
		if *d.out, err = withDefault(d.name, d.in, d.def); err != nil {
			return s, err
		}
	}
	if s.maxLifetime > 0 && s.evictionInterval == 0 {
		return s, fmt.Errorf("chanpool: Config.MaxLifetime (%v) needs an evictor, but Config.EvictionInterval is None", s.maxLifetime)
	}
	if s.lifetimeJitter > 0 && s.lifetimeJitter >= s.maxLifetime {
		return s, fmt.Errorf("chanpool: Config.MaxLifetimeJitter (%v) must be less than Config.MaxLifetime (%v)", s.lifetimeJitter, s.maxLifetime)
	}
	if s.keepalive > 0 && c.Keepalive == nil && c.HealthCheck == nil {
		return s, fmt.Errorf("chanpool: Config.KeepaliveInterval (%v) needs Config.Keepalive or Config.HealthCheck", s.keepalive)
	}
	if c.HealthCheckAfter == None {
		s.healthAfter = 0 // check on every acquire
	}
	return s, nil
}

// withDefault applies the default and None to a count or duration field:
// 0 selects def, None selects 0 (zero, or off), and any other negative value
// is an error naming the field.
func withDefault[N int | time.Duration](name string, v, def N) (N, error) {
	switch {
	case v == 0:
		return def, nil
	case v == None:
		return 0, nil
	case v < 0:
		return 0, fmt.Errorf("chanpool: Config.%s is %v: must not be negative (0 for the default %v, None for zero or off)", name, v, def)
	}
	return v, nil
}
