// Package rowtest holds the test helpers that the row-copy kernels'
// tests share (kernels/gather, kernels/scatter): seeded random sources
// whose seed is logged for replay, random bytes, and destination buffers
// with guard regions that catch writes outside them. Only tests import it.
package rowtest

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"
)

// Seed is a test package's random seed: the flag -<name> (0, the
// default, seeds from the clock) and the PCG stream that tells the
// packages' generators apart.
type Seed struct {
	name   string
	flag   *uint64
	stream uint64
}

// NewSeed registers the flag -<name>; call it in a package-level var of a
// test file.
func NewSeed(name string, stream uint64) *Seed {
	return &Seed{name: name, stream: stream,
		flag: flag.Uint64(name, 0, "random seed of the "+name+" tests (0: from the clock)")}
}

// Rand returns a generator seeded from the flag, or from the clock when it
// is 0, and logs the seed with the flag that replays it.
func (s *Seed) Rand(t testing.TB) *rand.Rand {
	v := *s.flag
	if v == 0 {
		v = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -%s=%d)", v, s.name, v)
	return rand.New(rand.NewPCG(v, s.stream))
}

// Bytes returns n random bytes.
func Bytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Ptr returns the address of s's first element (of its backing array when
// s is empty).
func Ptr[T any](s []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

// Guard is the number of sentinel bytes on each side of a Guarded buffer.
const Guard = 72

// Guarded is a destination buffer Buf[Lo:Hi] with sentinel bytes before
// and after it; Buf starts out as a copy of Sentinel, a fixed pattern.
type Guarded struct {
	Buf, Sentinel []byte
	Lo, Hi        int
}

// NewGuarded returns a guarded destination of size bytes starting off
// bytes past a 64-byte boundary, so that aligned and misaligned
// destinations can be made.
func NewGuarded(size, off int) *Guarded {
	buf := make([]byte, size+2*Guard+64+off)
	lo := Guard
	for uintptr(unsafe.Pointer(&buf[lo]))%64 != 0 {
		lo++
	}
	lo += off
	for i := range buf {
		buf[i] = byte(0xA5 ^ i*31)
	}
	return &Guarded{Buf: buf, Sentinel: append([]byte(nil), buf...), Lo: lo, Hi: lo + size}
}

// Dst returns the destination, Buf[Lo:Hi].
func (g *Guarded) Dst() []byte { return g.Buf[g.Lo:g.Hi] }

// Ptr returns the destination's address.
func (g *Guarded) Ptr() unsafe.Pointer { return unsafe.Pointer(&g.Buf[g.Lo]) }

// Initial returns a copy of the destination's initial contents.
func (g *Guarded) Initial() []byte { return append([]byte(nil), g.Sentinel[g.Lo:g.Hi]...) }

// CheckGuards fails unless every byte outside the destination still holds
// its sentinel.
func (g *Guarded) CheckGuards(t testing.TB, what string) {
	t.Helper()
	if !bytes.Equal(g.Buf[:g.Lo], g.Sentinel[:g.Lo]) {
		t.Fatalf("%s: wrote before dst", what)
	}
	if !bytes.Equal(g.Buf[g.Hi:], g.Sentinel[g.Hi:]) {
		t.Fatalf("%s: wrote past the end of dst", what)
	}
}

// CheckUntouched fails unless the whole buffer, destination included,
// still holds the sentinel.
func (g *Guarded) CheckUntouched(t testing.TB, what string) {
	t.Helper()
	if !bytes.Equal(g.Buf, g.Sentinel) {
		t.Fatalf("%s: dst was modified", what)
	}
}

// BenchLoop runs run once untimed (warm-up), then times it in b.Loop,
// counting bytes per run; the timer is stopped on return.
func BenchLoop(b *testing.B, bytesPerRun int64, run func() error) {
	if err := run(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(bytesPerRun)
	b.ResetTimer()
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
}

// CheckErrs fails for every call (by name: the error it returned) whose
// error does not wrap want, or wraps notWant.
func CheckErrs(t testing.TB, calls map[string]error, want, notWant error) {
	t.Helper()
	for name, err := range calls {
		if !errors.Is(err, want) || errors.Is(err, notWant) {
			t.Errorf("%s: err = %v, want one wrapping %v", name, err, want)
		}
	}
}

// CheckZero fails unless every byte of b is zero (a buffer no rejected
// call may have written).
func CheckZero(t testing.TB, b []byte, what string) {
	t.Helper()
	if bytes.Count(b, []byte{0}) != len(b) {
		t.Fatalf("%s: buffer modified", what)
	}
}

// ArgBufs are the buffers of the argument-error tests: zeroed 64-byte Src
// and Dst, four valid ids Idx, and IdxBuf, eight ids to misalign or overlap.
type ArgBufs struct {
	Src, Dst    []byte
	Idx, IdxBuf []int64
}

// NewArgBufs returns fresh ArgBufs.
func NewArgBufs() ArgBufs {
	return ArgBufs{Src: make([]byte, 64), Dst: make([]byte, 64), Idx: []int64{0, 1, 2, 3}, IdxBuf: make([]int64, 8)}
}
