package cuda

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ibmb-dev/ibmb/kernels/internal/rowcopy"
)

// rowCase is one row copy's device memory for the tests of Gather and
// Scatter: dst with guardLen bytes on each side, src and room for the ids,
// with the host copies needed to check the result. The packed side holds n
// rows, the table (src of a gather, dst of a scatter) tableRows rows.
type rowCase struct {
	t             *testing.T
	op            rowcopy.Op
	dst, src, idx uintptr // as passed to Gather / Scatter
	dstBase       uintptr
	lead, dstLen  int64 // offset of dst in its buffer; the buffer's length
	rowBytes      int64
	tableRows     int64
	init, srcHost []byte // the dst buffer's initial bytes (guards included); src
}

const (
	guardByte = 0xcd
	guardLen  = 64
)

// newRowCase allocates and fills the buffers of a copy of n rows of
// rowBytes bytes with tableRows table rows, src starting srcOff bytes and
// dst dstOff bytes past their allocations (after the guard). src is random;
// a gather's dst starts as guardByte everywhere, a scatter's store as
// random bytes (rows it must leave alone then show as changes).
func newRowCase(t *testing.T, rng *rand.Rand, op rowcopy.Op, rowBytes, tableRows, n, srcOff, dstOff int64) *rowCase {
	t.Helper()
	dstRows, srcRows := n, tableRows
	if op == rowcopy.Scatter {
		dstRows, srcRows = tableRows, n
	}
	c := &rowCase{t: t, op: op, rowBytes: rowBytes, tableRows: tableRows, lead: guardLen + dstOff}
	c.dstLen = c.lead + dstRows*rowBytes + guardLen
	c.dstBase = c.alloc(c.dstLen)
	c.dst = c.dstBase + uintptr(c.lead)
	srcBase := c.alloc(srcOff + max(srcRows*rowBytes, 1) + guardLen)
	c.src = srcBase + uintptr(srcOff)
	c.idx = c.alloc(max(n, 1) * 8)

	c.init = bytes.Repeat([]byte{guardByte}, int(c.dstLen))
	if op == rowcopy.Scatter {
		c.init = randBytes(rng, c.dstLen)
	}
	src := randBytes(rng, srcOff+srcRows*rowBytes)
	c.srcHost = src[srcOff:]
	c.upload(c.dstBase, c.init)
	c.upload(srcBase, src)
	return c
}

func randBytes(rng *rand.Rand, n int64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// alloc allocates device memory freed when the test ends.
func (c *rowCase) alloc(bytes int64) uintptr {
	c.t.Helper()
	p, err := devAlloc(0, bytes)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		if err := devFree(0, p); err != nil {
			c.t.Errorf("devFree: %v", err)
		}
	})
	return p
}

func (c *rowCase) upload(dst uintptr, b []byte) {
	c.t.Helper()
	if err := copyToDevice(0, dst, b); err != nil {
		c.t.Fatal(err)
	}
}

// setIdx uploads the ids.
func (c *rowCase) setIdx(idx []int64) {
	c.t.Helper()
	raw := make([]byte, 0, 8*len(idx))
	for _, v := range idx {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
	}
	c.upload(c.idx, raw)
}

// run runs the copy of the first n ids on the default stream, telling it
// the table has tableRows rows.
func (c *rowCase) run(tableRows, n int64) error {
	if c.op == rowcopy.Scatter {
		return Scatter(0, c.dst, tableRows, c.rowBytes, c.src, c.idx, n, 0)
	}
	return Gather(0, c.dst, c.src, tableRows, c.rowBytes, c.idx, n, 0)
}

// result syncs the device and returns the whole dst buffer (guards too).
func (c *rowCase) result() []byte {
	c.t.Helper()
	if err := devSynchronize(0); err != nil {
		c.t.Fatal(err)
	}
	out := make([]byte, c.dstLen)
	if err := copyFromDevice(0, out, c.dstBase); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// want is the CPU reference: the initial buffer with the rows copied.
func (c *rowCase) want(idx []int64) []byte {
	out := append([]byte(nil), c.init...)
	rb := c.rowBytes
	for i, v := range idx {
		d, s := int64(i), v
		if c.op == rowcopy.Scatter {
			d, s = v, int64(i)
		}
		copy(out[c.lead+d*rb:c.lead+(d+1)*rb], c.srcHost[s*rb:(s+1)*rb])
	}
	return out
}

// verify fails unless dst holds the copy of idx and nothing around it
// changed.
func (c *rowCase) verify(idx []int64, what string) {
	c.t.Helper()
	got, want := c.result(), c.want(idx)
	if i := firstDiff(got, want); i >= 0 {
		c.t.Fatalf("%s: dst buffer differs from the CPU reference at byte %d (dst starts at %d, %d rows of %d bytes)",
			what, i, c.lead, (c.dstLen-c.lead-guardLen)/c.rowBytes, c.rowBytes)
	}
}

// verifyUntouched fails unless the dst buffer still holds its initial bytes.
func (c *rowCase) verifyUntouched(what string) {
	c.t.Helper()
	if !bytes.Equal(c.result(), c.init) {
		c.t.Fatalf("%s: dst was written although the call failed", what)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// rowIDs returns n valid ids into tableRows rows for op: random ones
// (repeats allowed) for a gather, with the first and the last table row
// among them, and distinct ones for a scatter (n <= tableRows).
func rowIDs(rng *rand.Rand, op rowcopy.Op, n, tableRows int64) []int64 {
	idx := make([]int64, n)
	if op == rowcopy.Scatter {
		for i, v := range rng.Perm(int(tableRows))[:n] {
			idx[i] = int64(v)
		}
		return idx
	}
	for i := range idx {
		idx[i] = rng.Int64N(tableRows)
	}
	if n > 1 {
		idx[0], idx[n-1] = 0, tableRows-1
	}
	return idx
}

// sweepRowsGPU runs op for every row size with several src and dst
// offsets (n ids, tableRows table rows), then for shapes {rowBytes,
// tableRows, n} that exercise the launch geometry (many rows: grid-stride
// in x; few huge rows: columns split in y; single rows), each against the
// CPU reference.
func sweepRowsGPU(t *testing.T, rng *rand.Rand, op rowcopy.Op, rowSizes []int64, tableRows, n int64, shapes [][3]int64) {
	t.Helper()
	var cases [][5]int64 // rowBytes, tableRows, n, srcOff, dstOff
	for _, rowBytes := range rowSizes {
		for _, off := range [][2]int64{{0, 0}, {4, 0}, {0, 8}, {1, 3}, {16, 48}} {
			cases = append(cases, [5]int64{rowBytes, tableRows, n, off[0], off[1]})
		}
	}
	for _, s := range shapes {
		cases = append(cases, [5]int64{s[0], s[1], s[2], 0, 0})
	}
	for _, k := range cases {
		what := fmt.Sprintf("op %d rowBytes=%d tableRows=%d n=%d srcOff=%d dstOff=%d", op, k[0], k[1], k[2], k[3], k[4])
		c := newRowCase(t, rng, op, k[0], k[1], k[2], k[3], k[4])
		idx := rowIDs(rng, op, k[2], k[1])
		c.setIdx(idx)
		if err := c.run(k[1], k[2]); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		c.verify(idx, what)
	}
}
