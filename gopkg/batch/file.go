package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"golang.org/x/sys/unix"
)

// ErrFormat is wrapped by every error about a saved arena file that is
// truncated, corrupt, of another version or not an arena at all.
var ErrFormat = errors.New("invalid arena file")

// WriteFile saves the arena to path atomically: it writes a temporary file
// in the same folder, syncs it and renames it over path, so a reader sees
// either the old file or the complete new one.
func (a *Arena) WriteFile(path string) (err error) {
	if a.closed.Load() {
		return fmt.Errorf("arena: write of a closed arena")
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(a.mem); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// OpenFile maps a saved arena read-write, copy-on-write (writes through the
// views never reach the file). It checks the magic, version, header
// checksum, section table and every batch's offsets; with verify it also
// checks the payload checksum, which reads the whole file. Errors about the
// content wrap ErrFormat.
func OpenFile(path string, verify bool) (*Arena, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < headerSize {
		return nil, fmt.Errorf("%w: %s: %d bytes is shorter than the %d-byte header (truncated?)", ErrFormat, path, size, headerSize)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("arena: cannot map %s: %w", path, err)
	}
	a := &Arena{mem: mem, release: func() error { return unix.Munmap(mem) }}
	if err := a.decode(verify); err != nil {
		a.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, path, err)
	}
	return a, nil
}

// decode parses and checks the header and the batch table of a.mem.
func (a *Arena) decode(verify bool) error {
	b := a.mem
	le := binary.LittleEndian
	if string(b[:8]) != arenaMagic {
		return fmt.Errorf("not an ibmb arena (bad magic %q)", b[:8])
	}
	if v := le.Uint32(b[8:]); v != arenaVersion {
		return fmt.Errorf("format version %d, this build reads version %d", v, arenaVersion)
	}
	if hs := le.Uint32(b[12:]); hs != headerSize {
		return fmt.Errorf("header size %d, want %d", hs, headerSize)
	}
	if got, want := crc32.Checksum(b[:headerSize-4], crcTable), le.Uint32(b[headerSize-4:]); got != want {
		return fmt.Errorf("header checksum mismatch (corrupt header)")
	}
	h := &a.hdr
	vals := make([]int64, 5)
	for i := range vals {
		vals[i] = int64(le.Uint64(b[16+8*i:]))
		if vals[i] < 0 {
			return fmt.Errorf("negative count in header")
		}
	}
	h.numBatches, h.numNodes, h.totalNodes, h.totalEdges, h.rowBytes = vals[0], vals[1], vals[2], vals[3], vals[4]
	h.dtype = DType(le.Uint32(b[56:]))
	h.norm = normFromCode(le.Uint32(b[60:]))
	h.hasLabels = b[64] == 1
	if h.dtype > DTypeBFloat16 || (h.rowBytes > 0) != (h.dtype != DTypeNone) {
		return fmt.Errorf("bad feature description (dtype %d, row bytes %d)", h.dtype, h.rowBytes)
	}
	var want header = *h
	total, err := want.layout()
	if err != nil {
		return err
	}
	for s := range numSections {
		off, size := int64(le.Uint64(b[72+16*s:])), int64(le.Uint64(b[80+16*s:]))
		if off != want.sec[s].off || size != want.sec[s].size {
			return fmt.Errorf("section %s at %d+%d, expected %d+%d", sectionNames[s], off, size, want.sec[s].off, want.sec[s].size)
		}
		h.sec[s].off, h.sec[s].size = off, size
	}
	if total > int64(len(b)) {
		return fmt.Errorf("file has %d bytes but its sections need %d (truncated)", len(b), total)
	}
	h.payloadCRC = le.Uint32(b[184:])
	pl := int(le.Uint32(b[188:]))
	if pl > maxParams {
		return fmt.Errorf("parameters length %d exceeds %d", pl, maxParams)
	}
	a.params = string(b[192 : 192+pl])
	if verify {
		if got := crc32.Checksum(b[headerSize:total], crcTable); got != h.payloadCRC {
			return fmt.Errorf("payload checksum mismatch (corrupt data)")
		}
	}
	// The batch table must tile the node and edge sections in order.
	t := a.int64s(secTable)
	var nodeOff, edgeOff int64
	for i := range int(h.numBatches) {
		r := t[i*tableCols : (i+1)*tableCols]
		if r[0] != nodeOff || r[2] != edgeOff || r[1] < 0 || r[3] < 0 || r[4] < 0 || r[4] > r[1] {
			return fmt.Errorf("batch table entry %d is inconsistent", i)
		}
		nodeOff += r[1]
		edgeOff += r[3]
		if nodeOff > h.totalNodes || edgeOff > h.totalEdges {
			return fmt.Errorf("batch table entry %d runs past the data", i)
		}
	}
	if nodeOff != h.totalNodes || edgeOff != h.totalEdges {
		return fmt.Errorf("batch table covers %d nodes and %d edges, header says %d and %d", nodeOff, edgeOff, h.totalNodes, h.totalEdges)
	}
	return nil
}

// normFromCode maps a stored normalization code back to graph.Norm
// (unknown codes read as graph.NormNone; decode rejects nothing on this,
// since the weights are stored and need no recomputation).
func normFromCode(c uint32) graph.Norm {
	switch n := graph.Norm(c); n {
	case graph.NormNone, graph.NormRow, graph.NormSym:
		return n
	}
	return graph.NormNone
}

// crc32Sum is the checksum used for the header and the payload (CRC-32C).
func crc32Sum(b []byte) uint32 { return crc32.Checksum(b, crcTable) }
