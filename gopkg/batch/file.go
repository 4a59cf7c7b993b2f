package batch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"github.com/ibmb-dev/ibmb/internal/par"

	"github.com/ibmb-dev/ibmb/gopkg/errs"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// ErrFormat is wrapped by every error about a saved arena file that is
// truncated, corrupt, of another version or not an arena at all.
var ErrFormat = errs.New(errs.IO, "invalid arena file")

// errNotRegular is the cause of the error for a path that names something
// other than a regular file (a FIFO, a device, a socket).
var errNotRegular = errors.New("not a regular file")

// writeChunk is the amount WriteFileContext writes between two checks of
// its context (and the unit of its writeback; see WriteFileContext). Tests
// make it smaller. Each chunk waits for the previous one's writeback, so
// the chunk bounds how long a cancelled save takes to stop: 64 MiB took
// 0.86 s on a busy disk, 16 MiB keeps it near a quarter of that.
var writeChunk = 16 << 20

// afterChunk, if not nil, is called after every chunk WriteFileContext
// writes (tests use it to stop a writer midway).
var afterChunk func()

// tempInfix separates the saved file's name from the writer's process id in
// the name of a temporary file: "." + base + tempInfix + pid + "-" + random.
const tempInfix = ".tmp-"

// WriteFile is WriteFileContext without cancellation.
func (a *Arena) WriteFile(path string) error {
	return a.WriteFileContext(context.Background(), path)
}

// WriteFileContext saves the arena to path atomically: it writes a
// temporary file in the same folder, syncs it and renames it over path, so
// a reader sees either the old file or the complete new one. If path is a
// symbolic link, the file it points to is replaced (the link stays).
//
// Mode: a new file gets 0666 minus the process umask, like open(2); a file
// that is replaced keeps its permission bits. A path naming a directory or
// another non-regular file is refused before anything is written.
//
// Temporary files: the temporary file is named "." + base + ".tmp-" + the
// writer's process id + "-" + a random suffix, and the writer holds an
// exclusive flock on it until it is renamed or removed. A writer killed
// before it finished (kill -9, a crash) leaves its temporary file behind;
// the next save of the same path removes every temporary file of that path
// whose process is gone and whose lock is free (a process id that was
// reused keeps its file until that process ends too; files of live writers,
// including other saves of this process, are never touched).
//
// Cancellation: the arena is written in 64 MiB chunks and ctx is checked
// between them; the writeback of each chunk is started at once and waited
// for one chunk later, so little dirty data builds up and the final sync is
// short. When ctx is cancelled the temporary file is removed, path is left
// as it was, and ctx's error is returned.
func (a *Arena) WriteFileContext(ctx context.Context, path string) (err error) {
	if path == "" {
		return &fs.PathError{Op: "save", Path: path, Err: syscall.ENOENT}
	}
	if err := a.acquire(); err != nil {
		return err
	}
	defer a.unacquire()
	f, tmp, target, err := openTemp(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = a.writeChunks(ctx, f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = ctx.Err(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, target); err != nil {
		return err
	}
	syncDir(filepath.Dir(target))
	return nil
}

// writeChunks writes the arena to f in writeChunk pieces, checking ctx
// before each. A fault while reading the arena's memory (a file mapping
// truncated underneath it) becomes an error instead of a crash.
func (a *Arena) writeChunks(ctx context.Context, f *os.File) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("arena: the arena's memory could not be read (its file was truncated?): %v", r)
		}
	}()
	for off := 0; off < len(a.mem); off += writeChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(off+writeChunk, len(a.mem))
		if _, err := f.Write(a.mem[off:end]); err != nil {
			return err
		}
		if afterChunk != nil {
			afterChunk()
		}
		writeback(f, off, end)
	}
	return nil
}

// openTemp creates the temporary file a save or a build into a file writes
// before renaming it to target (path with its symbolic links followed):
// stale temporaries of the same target are removed first, and a file that
// replaces another gets the old file's permission bits (set with Chmod, not
// affected by the umask, before any data is written). On error nothing is
// left behind.
func openTemp(path string) (f *os.File, tmp, target string, err error) {
	target, perm, replace, err := saveTarget(path)
	if err != nil {
		return nil, "", "", err
	}
	dir, base := filepath.Dir(target), filepath.Base(target)
	removeStaleTemps(dir, base)
	if f, tmp, err = createTemp(dir, base); err != nil {
		return nil, "", "", err
	}
	if replace {
		if err = f.Chmod(perm); err != nil {
			f.Close()
			os.Remove(tmp)
			return nil, "", "", err
		}
	}
	return f, tmp, target, nil
}

// saveTarget resolves the file a save of path replaces: the path itself or,
// for a symbolic link, the file it points to. It reports whether that file
// exists (replace) and its permission bits, and refuses directories and
// other non-regular files.
func saveTarget(path string) (target string, perm fs.FileMode, replace bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	target = path
	if fi.Mode()&fs.ModeSymlink != 0 {
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return "", 0, false, err
		}
		if fi, err = os.Stat(target); err != nil {
			return "", 0, false, err
		}
	}
	if err := checkRegular("save", target, fi); err != nil {
		return "", 0, false, err
	}
	return target, fi.Mode().Perm(), true, nil
}

// checkRegular returns nil for a regular file, else a *fs.PathError: EISDIR
// for a directory, errNotRegular (naming the kind) for anything else.
func checkRegular(op, path string, fi fs.FileInfo) error {
	m := fi.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return &fs.PathError{Op: op, Path: path, Err: syscall.EISDIR}
	}
	kind := "special file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "FIFO"
	case m&fs.ModeSocket != 0:
		kind = "socket"
	case m&fs.ModeCharDevice != 0:
		kind = "character device"
	case m&fs.ModeDevice != 0:
		kind = "block device"
	}
	return &fs.PathError{Op: op, Path: path, Err: fmt.Errorf("%w (a %s)", errNotRegular, kind)}
}

// createTemp creates a new temporary file for base in dir (mode 0666 minus
// the umask), named with this process's id, and locks it.
func createTemp(dir, base string) (*os.File, string, error) {
	prefix := filepath.Join(dir, "."+base+tempInfix+strconv.Itoa(os.Getpid())+"-")
	for try := 0; ; try++ {
		name := prefix + strconv.FormatUint(uint64(rand.Uint32()), 36)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		// A new file is locked by nobody else; the lock tells other
		// processes' cleanups that this writer is alive.
		if err := lockFile(f); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			f.Close()
			os.Remove(name)
			return nil, "", fmt.Errorf("arena: cannot lock %s: %w", name, err)
		}
		return f, name, nil
	}
}

// removeStaleTemps removes the temporary files of base in dir left by
// writers that are gone: the process id in the name is not a live process
// here, and an exclusive flock on the file can be taken (no live writer,
// even one in another process id namespace, holds it). Errors are ignored:
// cleaning up is best effort and never fails a save.
func removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + tempInfix
	for _, e := range entries {
		name := e.Name()
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_RDONLY|openNoFollow|openNonblock, 0)
		if err != nil {
			continue
		}
		if lockFile(f) == nil {
			os.Remove(path)
		}
		f.Close()
	}
}

// syncDir makes a rename in dir durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// OpenFile maps a saved arena read-write, copy-on-write (writes through the
// views never reach the file).
//
// Checks, verified or not: path must name a regular file (a FIFO, device or
// socket is refused without blocking; a directory gives EISDIR), the file's
// size must equal the size its header declares, and the header (magic,
// version, checksum, counts, section table) and every offset, count and id
// the views index with must be consistent (see DecodeArena). With verify it
// also checks the payload checksum, which reads the whole file.
//
// The file must not be truncated or rewritten in place while the arena is
// open: the mapping then refers to pages that no longer exist, and reading
// them raises SIGBUS (WriteFile replaces files by renaming, which is safe).
// Errors about the content wrap ErrFormat; errors from the system (missing
// file, permissions) are *fs.PathError values carrying the errno.
func OpenFile(path string, verify bool) (*Arena, error) {
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkRegular("open", path, st); err != nil {
		return nil, err
	}
	size := st.Size()
	if size < headerSize {
		return nil, fmt.Errorf("%w: %s: %d bytes is shorter than the %d-byte header (truncated?)", ErrFormat, path, size, headerSize)
	}
	if size != int64(int(size)) {
		return nil, fmt.Errorf("%w: %s: %d bytes cannot be mapped", ErrFormat, path, size)
	}
	mem, release, err := mapFile(f, size)
	if err != nil {
		return nil, fmt.Errorf("arena: cannot map %s: %w", path, err)
	}
	a := &Arena{mem: mem, release: release}
	if err := a.decode(verify); err != nil {
		a.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, path, err)
	}
	return a, nil
}

// DecodeArena reads an arena from data (the bytes of a saved file) with the
// checks of OpenFile and returns it in memory of its own, outside the Go
// heap; data is not retained. It is the file reader without the file (and
// so what the fuzz tests exercise).
//
// Verified or not, every offset, count and id that the views index with is
// checked: the batch table tiles the node and edge sections in order, a
// batch's output count is at most its node count, node ids lie in
// [0, NumNodes) with the outputs and the other nodes each strictly
// ascending and disjoint, the output mask is 1 exactly on the outputs, and
// local edge ids lie in [0, batch nodes). In halo arenas (version 3) a
// batch's exact count lies between its output and node counts, the
// outputs, the other exact nodes and the halo are each strictly ascending
// and pairwise disjoint, and every edge target is an exact node. Labels, weights and feature
// values are data, not indices, and are only covered by the payload
// checksum (verify). Errors wrap ErrFormat.
func DecodeArena(data []byte, verify bool) (*Arena, error) {
	if len(data) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes is shorter than the %d-byte header (truncated?)", ErrFormat, len(data), headerSize)
	}
	// The copy keeps the views 8-byte aligned and the memory outside the Go
	// heap, like every Arena's.
	mem, release, err := mapAnon(int64(len(data)))
	if err != nil {
		return nil, err
	}
	copy(mem, data)
	a := &Arena{mem: mem, release: release}
	if err := a.decode(verify); err != nil {
		a.Close()
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return a, nil
}

// decode parses and checks the header, the batch table and the indices of
// a.mem (see DecodeArena). A fault while reading a.mem (a file mapping
// truncated by another process) becomes an error.
func (a *Arena) decode(verify bool) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the data could not be read (file truncated while opening?): %v", r)
		}
	}()
	b := a.mem
	le := binary.LittleEndian
	if string(b[:8]) != arenaMagic {
		return fmt.Errorf("not an ibmb arena (bad magic %q)", b[:8])
	}
	h := &a.hdr
	switch v := le.Uint32(b[8:]); v {
	case arenaVersion:
	case arenaVersionHalo:
		h.halo = true
	default:
		return fmt.Errorf("format version %d, this build reads versions %d and %d (halo batches)", v, arenaVersion, arenaVersionHalo)
	}
	if hs := le.Uint32(b[12:]); hs != headerSize {
		return fmt.Errorf("header size %d, want %d", hs, headerSize)
	}
	if got, want := crc32.Checksum(b[:headerSize-4], crcTable), le.Uint32(b[headerSize-4:]); got != want {
		return fmt.Errorf("header checksum mismatch (corrupt header)")
	}
	var vals [5]int64
	for i := range vals {
		vals[i] = int64(le.Uint64(b[16+8*i:]))
		if vals[i] < 0 {
			return fmt.Errorf("negative count in header")
		}
	}
	h.numBatches, h.numNodes, h.totalNodes, h.totalEdges, h.rowBytes = vals[0], vals[1], vals[2], vals[3], vals[4]
	h.dtype = DType(le.Uint32(b[56:]))
	h.norm = normFromCode(le.Uint32(b[60:]))
	if b[64] > 1 {
		return fmt.Errorf("labels flag %d is neither 0 nor 1", b[64])
	}
	h.hasLabels = b[64] == 1
	if h.dtype > DTypeBFloat16 || (h.rowBytes > 0) != (h.dtype != DTypeNone) ||
		(h.rowBytes > 0 && h.rowBytes%h.dtype.Size() != 0) {
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
	if total != int64(len(b)) {
		return fmt.Errorf("file has %d bytes but its header declares %d (truncated or extended)", len(b), total)
	}
	h.payloadCRC = le.Uint32(b[184:])
	pl := int(le.Uint32(b[188:]))
	if pl > maxParams {
		return fmt.Errorf("parameters length %d exceeds %d", pl, maxParams)
	}
	if !utf8.Valid(b[192 : 192+pl]) {
		return fmt.Errorf("parameters text is not UTF-8")
	}
	a.params = string(b[192 : 192+pl])
	if verify {
		if got := crc32.Checksum(b[headerSize:total], crcTable); got != h.payloadCRC {
			return fmt.Errorf("payload checksum mismatch (corrupt data)")
		}
	}
	// The batch table must tile the node and edge sections in order.
	t, cols := a.int64s(secTable), h.tableCols()
	var nodeOff, edgeOff int64
	for i := range int(h.numBatches) {
		r := t[i*cols : (i+1)*cols]
		if r[0] != nodeOff || r[2] != edgeOff || r[1] < 0 || r[3] < 0 || r[4] < 0 || r[4] > r[1] {
			return fmt.Errorf("batch table entry %d is inconsistent", i)
		}
		if h.halo && (r[5] < r[4] || r[5] > r[1]) {
			return fmt.Errorf("batch table entry %d: %d exact nodes, outside [%d, %d]", i, r[5], r[4], r[1])
		}
		if r[1] > h.totalNodes-nodeOff || r[3] > h.totalEdges-edgeOff {
			return fmt.Errorf("batch table entry %d runs past the data", i)
		}
		nodeOff += r[1]
		edgeOff += r[3]
	}
	if nodeOff != h.totalNodes || edgeOff != h.totalEdges {
		return fmt.Errorf("batch table covers %d nodes and %d edges, header says %d and %d", nodeOff, edgeOff, h.totalNodes, h.totalEdges)
	}
	return a.checkBatches()
}

// checkBatches checks the ids of every batch (see DecodeArena), on several
// goroutines for large arenas, and returns the error of the lowest batch
// that has one.
func (a *Arena) checkBatches() error {
	nb := int(a.hdr.numBatches)
	workers := 1
	if a.hdr.totalNodes+a.hdr.totalEdges > 1<<20 {
		workers = max(1, min(runtime.GOMAXPROCS(0), nb))
	}
	if workers == 1 {
		for b := range nb {
			if err := a.checkBatch(b); err != nil {
				return err
			}
		}
		return nil
	}
	var mu sync.Mutex
	firstBatch, first := nb, error(nil)
	fail := func(b int, err error) {
		mu.Lock()
		if b < firstBatch {
			firstBatch, first = b, err
		}
		mu.Unlock()
	}
	// Chunks are handed out in increasing order and finish once begun, so
	// stopping at the first error found still checks every lower batch:
	// the error returned is the lowest batch's, as with one worker.
	par.For(nb, workers, 64, nil, func(_, lo, hi int) (ok bool) {
		// A fault here (a file truncated meanwhile) must not kill the
		// process either: each goroutine opts in on its own.
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if r := recover(); r != nil {
				fail(-1, fmt.Errorf("the data could not be read (file truncated while opening?): %v", r))
				ok = false
			}
		}()
		for b := lo; b < hi; b++ {
			if err := a.checkBatch(b); err != nil {
				fail(b, err)
				return false
			}
		}
		return true
	})
	return first
}

// checkBatch checks the node ids, output mask and local edges of batch b,
// whose table entry is already known to lie within the sections.
func (a *Arena) checkBatch(b int) error {
	v := a.view(b)
	n, nout, nexact, numNodes := int64(len(v.NID)), v.NumOut, v.NumExact, a.hdr.numNodes
	for i, id := range v.NID {
		if id < 0 || id >= numNodes {
			return fmt.Errorf("batch %d: node id %d at position %d is out of range for %d nodes", b, id, i, numNodes)
		}
		if i > 0 && i != nout && i != nexact && v.NID[i-1] >= id {
			return fmt.Errorf("batch %d: node ids are not ascending at position %d", b, i)
		}
		want := uint8(0)
		if i < nout {
			want = 1
		}
		if v.OutMask[i] != want {
			return fmt.Errorf("batch %d: output mask is %d at position %d, want %d", b, v.OutMask[i], i, want)
		}
	}
	// The outputs, the other exact nodes and the halo are each ascending;
	// no two of them may share a node.
	groups := [3][]int64{v.NID[:nout], v.NID[nout:nexact], v.NID[nexact:]}
	for _, p := range [3][2]int{{0, 1}, {0, 2}, {1, 2}} {
		if id, ok := sharedID(groups[p[0]], groups[p[1]]); ok {
			return fmt.Errorf("batch %d: node %d is listed twice", b, id)
		}
	}
	// Edges into the halo would be computed from stale rows: none may exist.
	dn := uint64(nexact)
	for k, s := range v.Src {
		if d := v.Dst[k]; uint64(s) >= uint64(n) || uint64(d) >= dn {
			return fmt.Errorf("batch %d: edge %d (%d, %d) has a local id out of range for %d nodes (%d exact)", b, k, s, d, n, nexact)
		}
	}
	return nil
}

// sharedID returns an id that both ascending lists hold.
func sharedID(x, y []int64) (int64, bool) {
	for i, j := 0, 0; i < len(x) && j < len(y); {
		switch {
		case x[i] < y[j]:
			i++
		case x[i] > y[j]:
			j++
		default:
			return x[i], true
		}
	}
	return 0, false
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
