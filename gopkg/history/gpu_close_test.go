//go:build cgo

package history

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ibmb-dev/ibmb/gopkg/dtype"
	"github.com/ibmb-dev/ibmb/kernels/cuda"
)

// TestPullAsyncWaitCloseGPU: many goroutines pull asynchronously from one
// Pinned store (waiting for some pulls, leaving others to Close), and a
// Wait racing Close returns instead of deadlocking (Wait once took the
// pull's once before the store's lock, Close the other way round).
func TestPullAsyncWaitCloseGPU(t *testing.T) {
	requireGPU(t)
	out, err := cuda.Alloc(0, 1<<17)
	if err != nil {
		t.Fatal(err)
	}
	defer cuda.Free(0, out)
	s, err := NewWith(1000, []int64{16, 3}, dtype.BFloat16, Options{Placement: Pinned})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				pa, err := s.PullAsync(i%2, []int64{int64(g), 999, 0, int64(i)}, out+uintptr(g*4096), 0)
				if err != nil {
					t.Error(err)
					return
				}
				if i%3 != 0 { // the others are finished by Close
					if err := pa.Wait(); err != nil {
						t.Error(err)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for it := 0; it < 1000; it++ {
			s, err := NewWith(8, []int64{2}, dtype.Float32, Options{Placement: Pinned})
			if err != nil {
				t.Error(err)
				return
			}
			pa, err := s.PullAsync(0, []int64{1, 2}, out, 0)
			if err != nil {
				t.Error(err)
				return
			}
			var race sync.WaitGroup
			race.Add(2)
			go func() { defer race.Done(); _ = pa.Wait() }()
			go func() { defer race.Done(); _ = s.Close() }()
			race.Wait()
			if err := pa.Wait(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("Wait racing Close deadlocked:\n%s", buf[:runtime.Stack(buf, true)])
	}
}
