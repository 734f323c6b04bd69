package ring_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chanpool/chanpool/internal/ring"
)

func TestNewPanicsOnNonPositiveSize(t *testing.T) {
	for _, size := range []int{0, -1} {
		assert.PanicsWithValue(t, "ring: size must be positive", func() { ring.New[int64](size) }, "New(%d)", size)
	}
}

func TestRingKeepsNewest(t *testing.T) {
	const size = 3
	for n := range 8 {
		r := ring.New[int64](size)
		var all []int64
		for v := range int64(n) {
			r.Add(v + 1)
			all = append(all, v+1)
		}
		want := all[max(0, n-size):]
		if len(want) == 0 {
			want = []int64{}
		}
		assert.Equal(t, want, r.Snapshot(make([]int64, 0, size)), "after %d adds: Snapshot", n)
		assert.Equal(t, uint64(n), r.Count(), "after %d adds: Count", n)
		assert.Equal(t, size, r.Size(), "after %d adds: Size", n)
	}
}

func TestRingSizeOne(t *testing.T) {
	r := ring.New[time.Duration](1)
	assert.Empty(t, r.Snapshot(nil), "empty Snapshot")
	r.Add(5 * time.Millisecond)
	r.Add(6 * time.Millisecond)
	assert.Equal(t, []time.Duration{6 * time.Millisecond}, r.Snapshot(nil), "Snapshot")
	assert.Equal(t, uint64(2), r.Count(), "Count")
}

func TestSnapshotReusesDst(t *testing.T) {
	r := ring.New[int64](4)
	r.Add(1)
	r.Add(2)
	dst := []int64{9, 9, 9, 9, 9}

	got := r.Snapshot(dst)

	assert.Equal(t, []int64{1, 2}, got, "Snapshot overwrites dst from index 0")
	require.NotEmpty(t, got)
	assert.Same(t, &dst[0], &got[0], "Snapshot did not reuse dst's backing array")
}

func TestRingDoesNotAllocate(t *testing.T) {
	r := ring.New[int64](128)
	for i := range int64(200) {
		r.Add(i)
	}
	dst := make([]int64, 0, r.Size())
	assert.Zero(t, testing.AllocsPerRun(100, func() { dst = r.Snapshot(dst) }), "allocs per Snapshot")
	assert.Zero(t, testing.AllocsPerRun(100, func() { r.Add(1) }), "allocs per Add")
}

// TestRingConcurrent runs writers and a reader at once for the race detector,
// then checks the final window exactly.
func TestRingConcurrent(t *testing.T) {
	const (
		size    = 64
		writers = 8
		perW    = 5000
	)
	r := ring.New[int64](size)
	// Fill the ring first, so even a concurrent Snapshot sees only values
	// that were added: sample w*1e6+i is writer w's i-th.
	for range size {
		r.Add(1)
	}
	valid := func(v int64) bool {
		w, i := v/1e6, v%1e6
		return v == 1 || (w >= 1 && w <= writers && i < perW)
	}

	var wg sync.WaitGroup
	for w := 1; w <= writers; w++ {
		wg.Go(func() {
			for i := range perW {
				r.Add(int64(w*1e6 + i))
			}
		})
	}
	done := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]int64, 0, size)
		for {
			select {
			case <-done:
				return
			default:
			}
			buf = r.Snapshot(buf)
			if !assert.Len(t, buf, size, "concurrent Snapshot length") {
				return
			}
			for _, v := range buf {
				if !assert.True(t, valid(v), "concurrent Snapshot holds %d, which was never added", v) {
					return
				}
			}
		}
	}()
	wg.Wait()
	close(done)
	<-readerDone

	assert.Equal(t, uint64(size+writers*perW), r.Count(), "Count")
	// Quiescent now: each writer's samples must appear oldest first.
	last := map[int64]int64{}
	for _, v := range r.Snapshot(nil) {
		require.True(t, valid(v) && v != 1, "final Snapshot holds %d, which is not a recent sample", v)
		w := v / 1e6
		if prev, ok := last[w]; ok {
			assert.Less(t, prev, v, "writer %d: samples out of order", w)
		}
		last[w] = v
	}
}

func BenchmarkAdd(b *testing.B) {
	b.Run("mode=serial", func(b *testing.B) {
		r := ring.New[int64](1024)
		b.ReportAllocs()
		for b.Loop() {
			r.Add(42)
		}
	})
	b.Run("mode=parallel", func(b *testing.B) {
		r := ring.New[int64](1024)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Add(42)
			}
		})
	})
}
