// Package memlimit checks, before the engine allocates, that a size implied
// by a caller's arguments can be given by the machine at all.
//
// Go cannot recover from running out of memory: an allocation the operating
// system refuses ends the process with "fatal error: runtime: out of
// memory", and one it grants by overcommitting ends it later through the
// kernel's OOM killer. Either way the host process dies. Every
// allocation whose size comes from an argument (a class count, a feature
// width, a number of batches) is therefore checked here first and turned
// into an ordinary error wrapping ErrMemory, which names what needed the
// memory and how much.
//
// # Limit
//
// The limit is the memory the machine can give now: MemAvailable plus
// SwapFree from /proc/meminfo (Linux). Where MemAvailable is missing,
// MemTotal is used; where /proc/meminfo cannot be read, only sizes that
// overflow or exceed 2^47 bytes (more than any address space Go allocates
// from) are refused. The environment variable IBMB_MEMORY_LIMIT (bytes, or
// with a K, M, G or T suffix for powers of 1024) lowers the limit, e.g. on a
// shared machine or in tests. The check is a guard against absurd requests,
// not an accounting of memory: a size below the limit may still fail if
// other processes take the memory first. Container limits (cgroups) are not
// consulted.
package memlimit

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
)

// ErrMemory is wrapped by every error of this package: the machine cannot
// give the memory that a request implies.
var ErrMemory = errs.New(errs.Memory, "not enough memory")

// maxBytes is the largest size checked against nothing but itself (Go's heap
// addresses 2^48 bytes on amd64 and arm64; no single request comes near).
const maxBytes = 1 << 47

// meminfo is the file read for the limit; tests point it elsewhere.
var meminfo = "/proc/meminfo"

// override, when set, replaces what Available reads (see Override).
var override struct {
	sync.Mutex
	set   bool
	bytes int64
}

// Override makes Available report n bytes (n < 0: unknown) until the
// returned function is called, so that tests of the callers give the same
// answers on every machine. Not for concurrent tests.
func Override(n int64) (restore func()) {
	override.Lock()
	defer override.Unlock()
	oldSet, oldBytes := override.set, override.bytes
	override.set, override.bytes = true, n
	return func() {
		override.Lock()
		defer override.Unlock()
		override.set, override.bytes = oldSet, oldBytes
	}
}

// Available returns the bytes the machine can give now (see the package
// documentation) and whether they could be determined.
func Available() (int64, bool) {
	override.Lock()
	set, n := override.set, override.bytes
	override.Unlock()
	if set {
		return n, n >= 0
	}
	avail, ok := fromMeminfo()
	if lim, found := envLimit(); found && (!ok || lim < avail) {
		return lim, true
	}
	return avail, ok
}

// envLimit parses IBMB_MEMORY_LIMIT; a missing or unparsable value is no
// limit.
func envLimit() (int64, bool) {
	v := strings.TrimSpace(os.Getenv("IBMB_MEMORY_LIMIT"))
	if v == "" {
		return 0, false
	}
	mult := int64(1)
	if i := strings.IndexByte("KMGT", v[len(v)-1]&^0x20); i >= 0 {
		mult = 1 << (10 * (i + 1))
		v = v[:len(v)-1]
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}

// fromMeminfo reads MemAvailable (or MemTotal) plus SwapFree.
func fromMeminfo() (int64, bool) {
	b, err := os.ReadFile(meminfo)
	if err != nil {
		return 0, false
	}
	fields := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || v < 0 || v > math.MaxInt64/1024 {
			continue
		}
		fields[string(name)] = v * 1024 // values are in kB
	}
	avail, ok := fields["MemAvailable"]
	if !ok {
		if avail, ok = fields["MemTotal"]; !ok {
			return 0, false
		}
	}
	return avail + fields["SwapFree"], true
}

// Bytes returns the product of the non-negative factors, or false when a
// factor is negative or the product overflows int64.
func Bytes(factors ...int64) (int64, bool) {
	p := uint64(1)
	for _, f := range factors {
		if f < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(p, uint64(f))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		p = lo
	}
	return int64(p), true
}

// Check returns nil when need bytes for what can be allocated, else an
// error wrapping ErrMemory that names what and both sizes. need < 0 means
// the size overflowed int64.
func Check(what string, need int64) error {
	if need < 0 {
		return fmt.Errorf("%w: %s needs more than 2^63 bytes", ErrMemory, what)
	}
	if need > maxBytes {
		return fmt.Errorf("%w: %s needs %s, more than any machine can give", ErrMemory, what, human(need))
	}
	if avail, ok := Available(); ok && need > avail {
		return fmt.Errorf("%w: %s needs %s but only %s are available", ErrMemory, what, human(need), human(avail))
	}
	return nil
}

// CheckN is Check for count elements of size bytes each; counts that make
// the product overflow are reported like any other size too large.
func CheckN(what string, count, size int64) error {
	b, ok := Bytes(count, size)
	if !ok {
		if count < 0 || size < 0 {
			return fmt.Errorf("%w: %s has a negative size (%d elements of %d bytes)", ErrMemory, what, count, size)
		}
		b = -1
	}
	return Check(what, b)
}

// human formats a byte count with a binary unit.
func human(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d bytes", b)
	}
	v, u := float64(b), 0
	for v >= unit && u < 6 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", v, "KMGTPE"[u-1], b)
}
