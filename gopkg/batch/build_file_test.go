package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// TestBuildArenaIntoFile: an arena built into a file holds the bytes of the
// same arena built in memory and saved, in every configuration, and the
// returned arena reads the file (views equal the reference).
func TestBuildArenaIntoFile(t *testing.T) {
	f := newArenaFixture(t, 11, 240, 1200, 7)
	for _, tc := range []struct {
		name    string
		norm    graph.Norm
		withX   bool
		labels  bool
		replace bool
	}{
		{"sym+x+labels", graph.NormSym, true, true, false},
		{"rw no x", graph.NormRow, false, true, false},
		{"none x no labels", graph.NormNone, true, false, false},
		{"replaces a file", graph.NormSym, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := ArenaOptions{Norm: tc.norm, Params: `{"file":true}`}
			if tc.labels {
				opt.Labels = f.labels
			}
			if tc.withX {
				opt.X, opt.RowBytes, opt.DType = unsafe.Pointer(&f.x[0]), int64(4*f.width), DTypeFloat32
			}
			ref, err := BuildArena(f.g, f.nodePtr, f.nodes, f.outPtr, f.out, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			dir := t.TempDir()
			path := filepath.Join(dir, "a.ibmb")
			if tc.replace {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			opt.Path = path
			a, err := BuildArena(f.g, f.nodePtr, f.nodes, f.outPtr, f.out, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if !bytes.Equal(a.mem, ref.mem) {
				t.Fatal("the arena built into a file differs from the one built in memory")
			}
			disk, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(disk, ref.mem) {
				t.Fatal("the file differs from the arena built in memory")
			}
			if tc.replace {
				if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
					t.Fatalf("a replaced file got mode %v, want 0600", fi.Mode().Perm())
				}
			}
			if tc.withX && tc.labels {
				f.check(t, a, tc.norm, true)
			}
			// Copy-on-write like OpenFile: writing through a view leaves the file alone.
			a.mem[headerSize] ^= 0xff
			if disk2, _ := os.ReadFile(path); !bytes.Equal(disk2, ref.mem) {
				t.Fatal("a write through the arena reached the file")
			}
			b, err := OpenFile(path, true)
			if err != nil {
				t.Fatal(err)
			}
			b.Close()
			if m := tempFiles(t, dir); len(m) != 0 {
				t.Fatalf("temporary files left behind: %v", m)
			}
		})
	}
}

// TestBuildArenaIntoFileFailures: a bad path, bad batches or a cancelled
// build leave no file and no temporary file, and an existing file as it was.
func TestBuildArenaIntoFileFailures(t *testing.T) {
	f := newArenaFixture(t, 12, 200, 900, 6)
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep.ibmb")
	if err := os.WriteFile(keep, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		bad  bool // a batch description the checks refuse
		stop bool // cancelled after the first batch
		want func(error) bool
	}{
		{"directory", dir, false, false, func(err error) bool { return errors.Is(err, syscall.EISDIR) }},
		{"missing folder", filepath.Join(dir, "no", "a.ibmb"), false, false,
			func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
		{"bad batches", keep, true, false, func(err error) bool { return errors.Is(err, graph.ErrValue) }},
		{"cancelled", keep, false, true, func(err error) bool { return errors.Is(err, context.Canceled) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opt := ArenaOptions{Norm: graph.NormSym, Path: tc.path, Workers: 1,
				X: unsafe.Pointer(&f.x[0]), RowBytes: int64(4 * f.width), DType: DTypeFloat32}
			if tc.stop {
				opt.Progress = func(done, _ int) { cancel() }
			}
			nodes := f.nodes
			if tc.bad {
				nodes = append([]int64(nil), f.nodes...)
				nodes[0], nodes[1] = nodes[1], nodes[0]
			}
			a, err := BuildArenaContext(ctx, f.g, f.nodePtr, nodes, f.outPtr, f.out, opt)
			if a != nil || err == nil || !tc.want(err) {
				t.Fatalf("got %v, %v", a, err)
			}
			if b, _ := os.ReadFile(keep); string(b) != "previous" {
				t.Fatalf("the existing file was changed: %q", b)
			}
			if m := tempFiles(t, dir); len(m) != 0 {
				t.Fatalf("temporary files left behind: %v", m)
			}
		})
	}
}

// ExampleArenaOptions_path builds an arena straight into a file: nothing
// is held in memory beyond the mapped pages being written.
func ExampleArenaOptions_path() {
	g, _ := graph.FromCOO([]int64{0, 1, 2}, []int64{1, 2, 3}, 4, graph.Options{Symmetrize: true})
	x := []float32{0, 1, 2, 3} // one feature per node
	dir, _ := os.MkdirTemp("", "arena")
	defer os.RemoveAll(dir)
	a, err := BuildArena(g, []int64{0, 2, 4}, []int64{0, 1, 2, 3}, []int64{0, 1, 2}, []int64{0, 3},
		ArenaOptions{Norm: graph.NormNone, X: unsafe.Pointer(&x[0]), RowBytes: 4, DType: DTypeFloat32,
			Path: filepath.Join(dir, "batches.ibmb")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	fi, _ := os.Stat(filepath.Join(dir, "batches.ibmb"))
	fmt.Println(a.NumBatches(), fi.Size() == a.Size(), a.Batch(1).NID)
	// Output: 2 true [3 2]
}
