package bindings

import (
	"strings"
	"testing"
	"time"

	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// smallGraph returns the handle of a 6-node path graph (freed at cleanup).
func smallGraph(t *testing.T) int {
	t.Helper()
	ei := []int64{0, 1, 2, 3, 4, 1, 2, 3, 4, 5}
	h, err := GraphFromCOO(addr(ei), 5, 6, true, false, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Free(h) })
	return h
}

// The two batches of startArena in CSR form: nodes {0,1,2} with output 1
// and nodes {3,4,5} with output 4 (ArenaBuildJob copies them).
var (
	smallNodePtr, smallNodes = []int64{0, 3, 6}, []int64{0, 1, 2, 3, 4, 5}
	smallOutPtr, smallOut    = []int64{0, 1, 2}, []int64{1, 4}
)

// startArena starts an ArenaBuildJob of the two small batches of smallGraph
// g and returns the job.
func startArena(t *testing.T, g int) int {
	t.Helper()
	j, err := ArenaBuildJob(g, addr(smallNodePtr), addr(smallNodes), addr(smallOutPtr), addr(smallOut), 2, 6, 2, "sym",
		0, 0, 0, 0, "{}", "")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// smallArena returns a smallGraph and startArena's arena of it (both freed
// at cleanup).
func smallArena(t *testing.T) (g, a int) {
	t.Helper()
	g = smallGraph(t)
	j := startArena(t, g)
	defer Free(j)
	if err := JobWait(j); err != nil {
		t.Fatal(err)
	}
	a, err := ArenaFromJob(j)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Free(a) })
	return g, a
}

// jobErr waits for job h and returns its tagged error (the job is freed).
func jobErr(h int, err error) error {
	if err != nil {
		return err
	}
	defer Free(h)
	return tag(JobWait(h))
}

// TestBadArgumentsGiveTaggedErrors calls the facade with the sizes and ids
// of issue 12 (items 2 and 8), which used to end the process with "fatal
// error: runtime: out of memory" or to return a panic with a goroutine
// stack. Each must now be one tagged error of the right kind. The machine is
// made to report 8 GiB available so that the memory answers are the same
// everywhere.
func TestBadArgumentsGiveTaggedErrors(t *testing.T) {
	defer memlimit.Override(8 << 30)()
	g := smallGraph(t)
	ptr := []int64{0, 2, 4}
	out := []int64{0, 1, 2, 3}
	labels := []int64{0, 1, 0, 1, 0, 1}
	big := func(v int64) []int64 { l := append([]int64(nil), labels...); l[2] = v; return l }
	dist := make([]float64, 4)
	outs := []int64{0, 1, 2, 3, 4, 5}
	parts := []int64{0, 0, 0, 1, 1, 1}
	res := make([]int64, 64)
	sched := func(y []int64, classes int) error {
		return ScheduleDistances(addr(ptr), addr(out), 2, 4, addr(y), 6, classes, addr(dist))
	}
	arena := func(nodePtr, nodes, outPtr, outNodes []int64, nb int) error {
		p := func(s []int64) uintptr {
			if len(s) == 0 {
				return 0
			}
			return addr(s)
		}
		return jobErr(ArenaBuildJob(g, p(nodePtr), p(nodes), p(outPtr), p(outNodes), nb, len(nodes), len(outNodes),
			"sym", 0, 0, 0, 0, "{}", ""))
	}
	batchWise := func(numParts int) error {
		return jobErr(BatchBatchWise(g, addr(outs), 6, addr(parts), numParts, 1, 0.2, 1e-4, 1))
	}
	for _, tc := range []struct {
		name, kind, want string
		call             func() error
	}{
		{"csbm 10^9 features", "memory", "10000 nodes", func() error {
			_, err := SynthCSBM(10_000, 2, 2, 0.5, 1_000_000_000, 1, 0)
			return err
		}},
		{"csbm 2^62 features", "memory", "2^63", func() error {
			_, err := SynthCSBM(10_000, 2, 2, 0.5, 1<<62, 1, 0)
			return err
		}},
		{"rmat scale 40", "memory", "rmat", func() error {
			_, err := SynthRMAT(40, 1, 0.57, 0.19, 0.19, 0, 1, 0)
			return err
		}},
		{"2^32 classes", "memory", "4294967296 classes", func() error { return sched(labels, 1<<32) }},
		{"label 2^40, classes from it", "memory", "classes", func() error { return sched(big(1<<40), 1<<40+1) }},
		{"label 2^62, classes from it", "memory", "2^63", func() error { return sched(big(1<<62), 1<<62+1) }},
		{"label 2^40 >= classes", "value", "node 2 has label 1099511627776", func() error { return sched(big(1<<40), 2) }},
		{"label 2^62 >= classes", "value", "node 2 has label 4611686018427387904", func() error { return sched(big(1<<62), 1<<32) }},
		{"zero classes", "value", "numClasses", func() error { return sched(labels, 0) }},
		{"batch pointer past the outputs", "value", "batchPtr", func() error {
			return ScheduleDistances(addr([]int64{0, 9, 4}), addr(out), 2, 4, addr(labels), 6, 2, addr(dist))
		}},
		{"negative batch count", "value", "negative", func() error {
			return ScheduleDistances(addr(ptr), addr(out), -3, 4, addr(labels), 6, 2, addr(dist))
		}},
		{"order of 2^32 batches", "value", "distance matrix", func() error {
			return ScheduleOrder(addr(dist), 1<<32, 0, addr(res))
		}},
		{"sampler of 2^20 batches", "memory", "distance matrix", func() error {
			_, err := ScheduleSampler(addr(dist), 1<<20, 0)
			return err
		}},
		{"batch-wise 2^33 parts", "value", "exceeds the 6 nodes", func() error { return batchWise(1 << 33) }},
		{"batch-wise 2^62 parts", "value", "exceeds the 6 nodes", func() error { return batchWise(1 << 62) }},
		{"batch-wise 7 parts", "value", "exceeds the 6 nodes", func() error { return batchWise(7) }},
		{"partition 2^33 parts", "value", "parts", func() error { return partitionJob(g, 1<<33) }},
		{"partition 2^62 parts", "value", "parts", func() error { return partitionJob(g, 1<<62) }},
		{"partition -1 parts", "value", "parts", func() error { return partitionJob(g, -1) }},
		{"arena pointer decreasing", "value", "decreases", func() error {
			return arena([]int64{0, 3, 2}, []int64{0, 1, 2}, []int64{0, 0, 0}, nil, 2)
		}},
		{"arena pointer past the nodes", "value", "pointer", func() error {
			return arena([]int64{0, 100}, []int64{0, 1, 2}, []int64{0, 0}, nil, 1)
		}},
		{"arena pointer 2^62", "value", "pointer", func() error {
			return arena([]int64{0, 1 << 62, 3}, []int64{0, 1, 2}, []int64{0, 0, 0}, nil, 2)
		}},
		{"arena pointer negative", "value", "pointer", func() error {
			return arena([]int64{0, -5, 3}, []int64{0, 1, 2}, []int64{0, 0, 0}, nil, 2)
		}},
		{"arena pointer not starting at 0", "value", "starts at", func() error {
			return arena([]int64{1, 3}, []int64{0, 1, 2}, []int64{0, 0}, nil, 1)
		}},
		{"arena outputs not a subset", "value", "not among its nodes", func() error {
			return arena([]int64{0, 2}, []int64{0, 1}, []int64{0, 1}, []int64{5}, 1)
		}},
		{"arena node id out of range", "index", "out of range", func() error {
			return arena([]int64{0, 2}, []int64{0, 6}, []int64{0, 0}, nil, 1)
		}},
		{"arena negative batch count", "value", "negative", func() error {
			return arena([]int64{0}, nil, []int64{0}, nil, -2)
		}},
		{"arena output pointer decreasing", "value", "decreases", func() error {
			return arena([]int64{0, 2, 3}, []int64{0, 1, 2}, []int64{0, 2, 1}, []int64{0, 1}, 2)
		}},
		{"graph with node 2^31-2", "memory", "2147483647 nodes", func() error {
			_, err := GraphFromCOO(addr([]int64{0, 1<<31 - 2}), 1, -1, false, false, false)
			return err
		}},
		{"graph of 2^31-1 nodes", "memory", "nodes", func() error {
			_, err := GraphFromCOO(addr([]int64{0, 1}), 1, 1<<31-1, false, false, false)
			return err
		}},
		{"graph with 2^62 edges", "value", "bad buffer", func() error {
			_, err := GraphFromCOO(addr([]int64{0, 1}), 1<<62, 6, false, false, false)
			return err
		}},
		{"induce 2^50 nodes", "value", "bad buffer", func() error {
			_, err := GraphInduce(g, addr(outs), 1<<50)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "ibmb:"+tc.kind+": ") || strings.Contains(msg, "panic") ||
				!strings.Contains(msg, tc.want) {
				t.Fatalf("got %q, want an ibmb:%s error mentioning %q", msg, tc.kind, tc.want)
			}
			t.Log(msg)
		})
	}
}

// TestArenaJobs builds an arena through ArenaBuildJob, moves it out of the
// job with ArenaFromJob (so freeing the job keeps it), and saves it through
// ArenaSaveJob; a missing folder is an io error with ENOENT's errno.
func TestArenaJobs(t *testing.T) {
	j := startArena(t, smallGraph(t))
	if err := JobWait(j); err != nil {
		t.Fatal(err)
	}
	a, err := ArenaFromJob(j)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ArenaFromJob(j); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
		t.Fatalf("second take: %v", err)
	}
	if err := Free(j); err != nil {
		t.Fatal(err)
	}
	info := make([]int64, len(arenaInfoFields))
	if err := ArenaInfo(a, addr(info), len(info)); err != nil || info[0] != 2 {
		t.Fatalf("arena after freeing its job: %v %v", info[:2], err)
	}
	dir := t.TempDir()
	if err := jobErr(ArenaSaveJob(a, dir+"/a.ibmb")); err != nil {
		t.Fatal(err)
	}
	h, err := ArenaOpen(dir+"/a.ibmb", true)
	if err != nil {
		t.Fatal(err)
	}
	Free(h)
	for _, tc := range []struct {
		name, want string
		call       func() error
	}{
		{"save into a missing folder", "ibmb:io:2: ", func() error { return jobErr(ArenaSaveJob(a, dir+"/no/a.ibmb")) }},
		{"open a missing file", "ibmb:io:2: open: ", func() error { _, err := ArenaOpen(dir+"/missing", false); return err }},
		{"open a folder", "ibmb:io:21: open: ", func() error { _, err := ArenaOpen(dir, false); return err }},
		{"save to a folder", "ibmb:io:21: save: ", func() error { return jobErr(ArenaSaveJob(a, dir)) }},
		{"open a character device", "ibmb:io: open /dev/null: not a regular file", func() error {
			_, err := ArenaOpen("/dev/null", false)
			return err
		}},
		{"open an empty path", "ibmb:io:2: ", func() error { _, err := ArenaOpen("", false); return err }},
		{"save to an empty path", "ibmb:io:2: ", func() error { return jobErr(ArenaSaveJob(a, "")) }},
	} {
		if err := tc.call(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want prefix %q", tc.name, err, tc.want)
		}
	}
	if err := Free(a); err != nil {
		t.Fatal(err)
	}
}

// TestCancelledArenaBuildJob cancels an arena build and frees the job: the
// failed build must leave no typed-nil arena for the job's Close to call
// (that crashed the process from a goroutine without recover).
func TestCancelledArenaBuildJob(t *testing.T) {
	g := smallGraph(t)
	before := NumHandles()
	for range 20 {
		j := startArena(t, g)
		JobCancel(j)
		if err := JobWait(j); err != nil && !strings.HasPrefix(tag(err).Error(), "ibmb:canceled: ") {
			t.Fatalf("cancelled build: %v", err)
		}
		if a, err := ArenaFromJob(j); err == nil {
			t.Log("the build finished before the cancel")
			Free(a)
		}
		Free(j)
	}
	time.Sleep(50 * time.Millisecond) // Free closes results on a goroutine
	if n := NumHandles(); n > before {
		t.Fatalf("%d handles left, %d before", n, before)
	}
}

// partitionJob runs a partition job of g into parts parts and returns its
// error (the job reports bad options when waited for).
func partitionJob(g, parts int) error {
	h, err := Partition(g, parts, 0, 0.03, 0, 1)
	if err != nil {
		return err
	}
	defer Free(h)
	return tag(JobWait(h))
}
