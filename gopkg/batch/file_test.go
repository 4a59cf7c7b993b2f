package batch

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"golang.org/x/sys/unix"
)

// fixHeader recomputes the header checksum of an arena image (and, with
// payload, the payload checksum), so that damage behind it reaches the
// deeper checks.
func fixHeader(b []byte, payload bool) []byte {
	if len(b) < headerSize {
		return b
	}
	le := binary.LittleEndian
	if payload {
		le.PutUint32(b[184:], crc32Sum(b[headerSize:]))
	}
	le.PutUint32(b[headerSize-4:], crc32Sum(b[:headerSize-4]))
	return b
}

// checkViews walks every batch of a and checks what the Python views rely
// on; out-of-range slicing panics and so fails the test too.
func checkViews(t testing.TB, a *Arena) {
	t.Helper()
	for b := range a.NumBatches() {
		v := a.Batch(b)
		n := int64(len(v.NID))
		if v.NumOut < 0 || int64(v.NumOut) > n || len(v.OutMask) != len(v.NID) || len(v.Src) != len(v.Dst) ||
			len(v.Weight) != len(v.Src) || (v.Y != nil && len(v.Y) != len(v.NID)) ||
			(v.X != nil && int64(len(v.X)) != n*a.RowBytes()) {
			t.Fatalf("batch %d: inconsistent view lengths", b)
		}
		for _, id := range v.NID {
			if id < 0 || id >= int64(a.NumNodes()) {
				t.Fatalf("batch %d: node id %d out of range", b, id)
			}
		}
		for k := range v.Src {
			if v.Src[k] < 0 || v.Src[k] >= n || v.Dst[k] < 0 || v.Dst[k] >= n {
				t.Fatalf("batch %d: edge %d out of range", b, k)
			}
		}
	}
}

// smallArena is a valid arena image with labels and float32 features.
func smallArena(t testing.TB) []byte {
	t.Helper()
	f := newArenaFixture(t, 11, 60, 200, 4)
	a := f.build(t, graph.NormSym, true)
	defer a.Close()
	return slices.Clone(a.mem)
}

// decodedSmallArena returns smallArena decoded (verified); it is closed at
// cleanup.
func decodedSmallArena(t testing.TB) *Arena {
	t.Helper()
	a, err := DecodeArena(smallArena(t), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestDecodeBitFlips flips random bits of a valid arena, with and without
// repairing the checksums behind them: every result is a format error or an
// arena whose views are all in range.
func TestDecodeBitFlips(t *testing.T) {
	good := smallArena(t)
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	for i := range 3000 {
		b := slices.Clone(good)
		bit := r.IntN(len(b) * 8)
		b[bit/8] ^= 1 << (bit % 8)
		mode := i % 3 // 0: as is; 1: header checksum repaired; 2: both checksums repaired
		if mode > 0 {
			fixHeader(b, mode == 2)
		}
		for _, verify := range []bool{false, true} {
			a, err := DecodeArena(b, verify)
			if err != nil {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("flip of bit %d (mode %d): error %v does not wrap ErrFormat", bit, mode, err)
				}
				counts["rejected"]++
				continue
			}
			checkViews(t, a)
			a.Close()
			counts["loaded"]++
		}
	}
	t.Log(counts)
	if counts["rejected"] == 0 || counts["loaded"] == 0 {
		t.Fatalf("want both outcomes, got %v", counts)
	}
}

// TestDecodeRejectsBadIndices damages the fields the views index with
// behind valid checksums (so only the structural checks can catch it).
func TestDecodeRejectsBadIndices(t *testing.T) {
	good := smallArena(t)
	a, err := DecodeArena(good, true)
	if err != nil {
		t.Fatal(err)
	}
	h := a.hdr
	a.Close()
	le := binary.LittleEndian
	sec := func(s int) int { return int(h.sec[s].off) }
	// A batch with outputs, auxiliary nodes and edges: its table row, and
	// the position of its first node, edge and mask entry.
	bi := -1
	for b := range int(h.numBatches) {
		r := good[sec(secTable)+b*tableCols*8:]
		n, m, o := int(le.Uint64(r[8:])), int(le.Uint64(r[24:])), int(le.Uint64(r[32:]))
		if n >= 2 && m >= 1 && o >= 1 && o < n {
			bi = b
			break
		}
	}
	if bi < 0 {
		t.Fatal("no batch of the fixture has outputs, auxiliary nodes and edges")
	}
	row := func(col int) int { return sec(secTable) + (bi*tableCols+col)*8 }
	nodeOff := int(le.Uint64(good[row(0):]))
	nodeCnt := int(le.Uint64(good[row(1):]))
	edgeOff := int(le.Uint64(good[row(2):]))
	edgeCnt := int(le.Uint64(good[row(3):]))
	nout := int(le.Uint64(good[row(4):]))
	put := func(off int, v int64) func([]byte) []byte {
		return func(b []byte) []byte { le.PutUint64(b[off:], uint64(v)); return b }
	}
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"node id too large", put(sec(secNID)+8*nodeOff, h.numNodes), "out of range"},
		{"node id negative", put(sec(secNID)+8*nodeOff, -1), "out of range"},
		{"node ids unsorted", put(sec(secNID)+8*(nodeOff+nodeCnt-1), 0), "not ascending"},
		{"output also auxiliary", func(b []byte) []byte {
			v := le.Uint64(b[sec(secNID)+8*nodeOff:])
			le.PutUint64(b[sec(secNID)+8*(nodeOff+nout):], v)
			return b
		}, ""},
		{"edge source out of range", put(sec(secEdges)+16*edgeOff, int64(nodeCnt)), "local id"},
		{"edge target negative", put(sec(secEdges)+16*edgeOff+8*edgeCnt, -5), "local id"},
		{"edge id 2^62", put(sec(secEdges)+16*edgeOff, 1<<62), "local id"},
		{"output count above node count", put(row(4), int64(nodeCnt+1)), "inconsistent"},
		{"node count past the data", put(row(1), 1<<40), "runs past"},
		{"node offset", put(row(0), 1), "inconsistent"},
		{"edge count negative", put(row(3), -1), "inconsistent"},
		{"mask on auxiliary", func(b []byte) []byte { b[sec(secMask)+nodeOff+nodeCnt-1] = 1; return b }, "output mask"},
		{"mask value 7", func(b []byte) []byte { b[sec(secMask)+nodeOff] = 7; return b }, "output mask"},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, "header declares"},
		{"missing byte", func(b []byte) []byte { return b[:len(b)-1] }, "header declares"},
		{"labels flag 2", func(b []byte) []byte { b[64] = 2; return b }, "labels flag"},
		{"odd float32 row", put(48, h.rowBytes+1), "feature description"},
		{"num nodes 2^50", put(24, 1<<50), "too large"},
		{"params not UTF-8", func(b []byte) []byte { le.PutUint32(b[188:], 2); b[192], b[193] = 0xff, 0xfe; return b }, "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := fixHeader(tc.damage(slices.Clone(good)), true)
			for _, verify := range []bool{false, true} {
				a, err := DecodeArena(b, verify)
				if err == nil {
					a.Close()
					t.Fatalf("verify=%v: damage accepted", verify)
				}
				if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("verify=%v: got %v, want ErrFormat mentioning %q", verify, err, tc.want)
				}
			}
		})
	}
}

// TestOpenFileFaultIsError: a mapping whose file shrank underneath it
// faults (SIGBUS) on access; the checks turn that into an error.
func TestOpenFileFaultIsError(t *testing.T) {
	good := smallArena(t)
	path := filepath.Join(t.TempDir(), "a.ibmb")
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, len(good), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	a := &Arena{mem: mem, release: func() error { return nil }}
	if err := a.decode(false); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("got %v, want an error about the truncated file", err)
	}
}

func TestOpenFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		is         error
	}{
		{"fifo", fifo, errNotRegular},
		{"directory", dir, syscall.EISDIR},
		{"character device", "/dev/null", errNotRegular},
		{"missing", filepath.Join(dir, "missing"), fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				a, err := OpenFile(tc.path, false)
				if a != nil {
					a.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				var pe *fs.PathError
				if !errors.Is(err, tc.is) || !errors.As(err, &pe) || pe.Path != tc.path {
					t.Fatalf("got %v, want a *fs.PathError for %s wrapping %v", err, tc.path, tc.is)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("OpenFile blocked")
			}
		})
	}
}

func TestWriteFileRefusesNonRegular(t *testing.T) {
	a := decodedSmallArena(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteFile(dir); !errors.Is(err, syscall.EISDIR) {
		t.Fatalf("save to a directory: %v", err)
	}
	if err := a.WriteFile(fifo); !errors.Is(err, errNotRegular) {
		t.Fatalf("save to a FIFO: %v", err)
	}
	if err := a.WriteFile(filepath.Join(dir, "missing", "a.ibmb")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("save into a missing folder: %v", err)
	}
	if names := tempFiles(t, dir); len(names) != 0 {
		t.Fatalf("temporary files left: %v", names)
	}
}

// tempFiles lists the hidden temporary files in dir.
func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*"+tempInfix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWriteFileMode(t *testing.T) {
	a := decodedSmallArena(t)
	dir := t.TempDir()
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	for _, tc := range []struct {
		name     string
		existing fs.FileMode // 0: no file before the save
		want     fs.FileMode
	}{
		{"new file gets 0666 minus umask", 0, 0o640},
		{"replaced 0600 file keeps it", 0o600, 0o600},
		{"replaced 0755 file keeps it", 0o755, 0o755},
		{"replaced 0444 file keeps it", 0o444, 0o444},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if tc.existing != 0 {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tc.want {
				t.Fatalf("mode %v, want %v", st.Mode().Perm(), tc.want)
			}
		})
	}
}

func TestWriteFileThroughSymlink(t *testing.T) {
	a := decodedSmallArena(t)
	dir := t.TempDir()
	real, link := filepath.Join(dir, "real.ibmb"), filepath.Join(dir, "link.ibmb")
	if err := os.WriteFile(real, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.ibmb", link); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteFile(link); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	b, err := OpenFile(real, true)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}

func TestWriteFileCancelled(t *testing.T) {
	a := decodedSmallArena(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "a.ibmb")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func(c int) { writeChunk, afterChunk = c, nil }(writeChunk)
	writeChunk = 1024
	ctx, cancel := context.WithCancel(context.Background())
	chunks := 0
	afterChunk = func() {
		if chunks++; chunks == 2 {
			cancel()
		}
	}
	if err := a.WriteFileContext(ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if chunks != 2 {
		t.Fatalf("%d chunks written after the cancel at 2", chunks)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatal("the old file was replaced by a cancelled save")
	}
	if names := tempFiles(t, dir); len(names) != 0 {
		t.Fatalf("temporary files left: %v", names)
	}
}

// TestBuildArenaCancelled cancels a build (induced and halo batches) from
// its progress callback after the third batch: no arena, no batch after.
func TestBuildArenaCancelled(t *testing.T) {
	f := newArenaFixture(t, 3, 300, 1500, 12)
	for _, tc := range []struct {
		name string
		opt  ArenaOptions
	}{
		{"induced", ArenaOptions{Norm: graph.NormSym}},
		{"halo", ArenaOptions{Halo: f.halo(t, graph.NormSym, true)}},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		opt := tc.opt
		opt.Workers, opt.Progress = 1, func(done, total int) {
			if calls++; done == 3 {
				cancel()
			}
		}
		a, err := BuildArenaContext(ctx, f.g, f.nodePtr, f.nodes, f.outPtr, f.out, opt)
		cancel()
		if !errors.Is(err, context.Canceled) || a != nil {
			t.Fatalf("%s: got %v, %v; want context.Canceled", tc.name, a, err)
		}
		if calls != 3 {
			t.Fatalf("%s: %d batches built after the cancel at 3", tc.name, calls)
		}
	}
}

// TestHelperSaveAndHang is not a test: TestKilledSaveLeavesNoTemps runs
// the test binary with IBMB_ARENA_SAVE_TO set, and then this saves an arena
// there, reports that it started writing, and hangs midway.
func TestHelperSaveAndHang(t *testing.T) {
	path := os.Getenv("IBMB_ARENA_SAVE_TO")
	if path == "" {
		t.Skip("helper process for TestKilledSaveLeavesNoTemps")
	}
	a := decodedSmallArena(t)
	writeChunk = 1024
	afterChunk = func() {
		os.Stdout.WriteString("writing\n")
		select {}
	}
	t.Fatal(a.WriteFile(path))
}

// TestKilledSaveLeavesNoTemps kills (SIGKILL) a process in the middle of a
// save: its temporary file stays, and the next save of the same path
// removes it, while the temporary files of live writers stay.
func TestKilledSaveLeavesNoTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.ibmb")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSaveAndHang$")
	cmd.Env = append(os.Environ(), "IBMB_ARENA_SAVE_TO="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "writing\n" {
		cmd.Process.Kill()
		t.Fatalf("helper said %q, %v", line, err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	stale := tempFiles(t, dir)
	if len(stale) != 1 || !strings.Contains(stale[0], tempInfix+strconv.Itoa(cmd.Process.Pid)+"-") {
		t.Fatalf("want the killed writer's temporary file, got %v", stale)
	}
	// A live writer of the same path (this process, another goroutine) and
	// one of another path must keep theirs.
	live, liveName, err := createTemp(dir, "a.ibmb")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	other, otherName, err := createTemp(dir, "b.ibmb")
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if err := os.Rename(otherName, strings.Replace(otherName, strconv.Itoa(os.Getpid()), strconv.Itoa(cmd.Process.Pid), 1)); err != nil {
		t.Fatal(err)
	}

	a := decodedSmallArena(t)
	if err := a.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	left := tempFiles(t, dir)
	if slices.Contains(left, stale[0]) {
		t.Fatalf("stale temporary file %s not removed", stale[0])
	}
	if !slices.Contains(left, liveName) || len(left) != 2 {
		t.Fatalf("temporary files after the save: %v (want the live writer's and b.ibmb's)", left)
	}
}

// FuzzDecodeArena decodes arbitrary bytes as an arena: once as they are and
// once with the header checksum repaired (so that mutations reach the
// section table, the batch table and the indices). Nothing may panic, every
// error must wrap ErrFormat, and every arena that loads must have all its
// views in range.
//
// Run it with minimization off:
//
//	go test -run='^$' -fuzz=FuzzDecodeArena -fuzztime=60s -fuzzminimizetime=0s ./gopkg/batch/
//
// (about 850,000 execs a minute on 2 busy cores). With the default
// -fuzzminimizetime=60s every new interesting input, an arena of several
// kilobytes, is minimized for up to a minute before the coordinator counts
// any execution, so a 60 s run reports a dozen execs.
func FuzzDecodeArena(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Add([]byte("IBMBARN1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, fixHeader(slices.Clone(data), false)} {
			a, err := DecodeArena(b, false)
			if err != nil {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("error %v does not wrap ErrFormat", err)
				}
				continue
			}
			checkViews(t, a)
			a.Close()
		}
	})
}

// fuzzSeeds returns small valid arenas of several shapes: with and without
// labels and features, each feature dtype, each norm, and no batches.
func fuzzSeeds(t testing.TB) [][]byte {
	f := newArenaFixture(t, 2, 24, 60, 3)
	var seeds [][]byte
	for _, c := range []struct {
		labels bool
		dtype  DType
		norm   graph.Norm
		nb     int
	}{
		{false, DTypeNone, graph.NormSym, 3},
		{true, DTypeNone, graph.NormRow, 3},
		{true, DTypeFloat32, graph.NormSym, 3},
		{false, DTypeFloat16, graph.NormNone, 2},
		{true, DTypeBFloat16, graph.NormSym, 1},
		{true, DTypeFloat32, graph.NormSym, 0},
	} {
		opt := ArenaOptions{Norm: c.norm, Params: `{"k":4}`}
		if c.labels {
			opt.Labels = f.labels
		}
		if c.dtype != DTypeNone {
			// f.x holds width float32 per node: view them as 2·width 16-bit
			// values for float16 and bfloat16 (bytes are only copied).
			opt.X, opt.RowBytes, opt.DType = unsafe.Pointer(&f.x[0]), int64(4*f.width), c.dtype
		}
		a, err := BuildArena(f.g, f.nodePtr[:c.nb+1], f.nodes[:f.nodePtr[c.nb]], f.outPtr[:c.nb+1], f.out[:f.outPtr[c.nb]], opt)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, slices.Clone(a.mem))
		a.Close()
	}
	// A halo arena (format version 3).
	hg, err := HaloGraph(f.g, graph.NormSym, true)
	if err != nil {
		t.Fatal(err)
	}
	a, err := BuildArena(f.g, f.nodePtr, f.nodes, f.outPtr, f.out, ArenaOptions{Halo: hg, Labels: f.labels})
	if err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, slices.Clone(a.mem))
	a.Close()
	return seeds
}

func TestFuzzSeedsLoad(t *testing.T) {
	for i, s := range fuzzSeeds(t) {
		a, err := DecodeArena(s, true)
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		checkViews(t, a)
		a.Close()
	}
}
