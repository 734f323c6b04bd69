package chanpool

import "sync/atomic"

// The words on the acquire, release and wait paths are the small types
// below, not sync/atomic's or go.uber.org/atomic's. Every user instantiates
// Pool[T] in a package of their own, and there the compiler (Go 1.25 and
// 1.26) leaves some methods of those types — Bool.Load and CompareAndSwap
// among them — as calls in Pool's code, unless that package itself imports
// the type's package (DESIGN.md, "Atomics that inline in the user's
// package", has the cost of those calls). The methods here belong to
// chanpool, which the user's package does import, and call sync/atomic's
// functions, which are compiler intrinsics (single instructions on 64-bit
// platforms). TestHotPathInlines checks the result.
//
// Like sync/atomic's, and unlike go.uber.org/atomic's, the 64-bit types are
// 64-bit aligned on 32-bit platforms, where a misaligned 64-bit atomic
// operation panics; the pool's other 64-bit words use them for that reason.

// atomicUint64 is a uint64 accessed atomically; it is 64-bit aligned on
// every platform, as sync/atomic.Uint64 is.
type atomicUint64 struct {
	_ [0]atomic.Uint64 // alignment, and vet's no-copy check
	v uint64
}

func (x *atomicUint64) Add(delta uint64) uint64 { return atomic.AddUint64(&x.v, delta) }
func (x *atomicUint64) Load() uint64            { return atomic.LoadUint64(&x.v) }
func (x *atomicUint64) Store(v uint64)          { atomic.StoreUint64(&x.v, v) }
func (x *atomicUint64) Swap(v uint64) uint64    { return atomic.SwapUint64(&x.v, v) }
func (x *atomicUint64) CompareAndSwap(old, new uint64) bool {
	return atomic.CompareAndSwapUint64(&x.v, old, new)
}

// atomicInt64 is an int64 accessed atomically; it is 64-bit aligned on
// every platform, as sync/atomic.Int64 is.
type atomicInt64 struct {
	_ [0]atomic.Int64 // alignment, and vet's no-copy check
	v int64
}

func (x *atomicInt64) Load() int64           { return atomic.LoadInt64(&x.v) }
func (x *atomicInt64) Store(v int64)         { atomic.StoreInt64(&x.v, v) }
func (x *atomicInt64) Add(delta int64) int64 { return atomic.AddInt64(&x.v, delta) }
func (x *atomicInt64) CompareAndSwap(old, new int64) bool {
	return atomic.CompareAndSwapInt64(&x.v, old, new)
}

// atomicUint32 is a uint32 accessed atomically.
type atomicUint32 struct {
	_ [0]atomic.Uint32 // vet's no-copy check
	v uint32
}

func (x *atomicUint32) Load() uint32   { return atomic.LoadUint32(&x.v) }
func (x *atomicUint32) Store(v uint32) { atomic.StoreUint32(&x.v, v) }
func (x *atomicUint32) CompareAndSwap(old, new uint32) bool {
	return atomic.CompareAndSwapUint32(&x.v, old, new)
}

// atomicBool is a bool accessed atomically.
type atomicBool struct {
	_ [0]atomic.Bool // vet's no-copy check
	v uint32
}

func (x *atomicBool) Load() bool { return atomic.LoadUint32(&x.v) != 0 }
func (x *atomicBool) Store(v bool) {
	atomic.StoreUint32(&x.v, b32(v))
}
func (x *atomicBool) CompareAndSwap(old, new bool) bool {
	return atomic.CompareAndSwapUint32(&x.v, b32(old), b32(new))
}

func b32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
