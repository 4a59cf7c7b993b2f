package partition

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

func karateGraph(tb testing.TB, name string) *graph.CSR {
	root := os.Getenv("IBMB_DATA")
	if root == "" {
		root = "../../../shared/data"
	}
	f, err := os.Open(filepath.Join(root, "karateclub", name, "edges.csv"))
	if err != nil {
		tb.Skipf("%s graph not available: %v", name, err)
	}
	defer f.Close()
	var src, dst []int64
	n := int64(0)
	sc := bufio.NewScanner(f)
	sc.Scan()
	for sc.Scan() {
		a, c, _ := strings.Cut(sc.Text(), ",")
		u, _ := strconv.ParseInt(a, 10, 64)
		v, _ := strconv.ParseInt(c, 10, 64)
		src, dst = append(src, u, v), append(dst, v, u)
		n = max(n, u+1, v+1)
	}
	return buildCSR(tb, src, dst, int(n))
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestReport(t *testing.T) {
	if os.Getenv("PREPORT") == "" {
		t.Skip()
	}
	metis := map[string][]int64{"github": {121359, 171860, 202972, 46891, 85211, 149635}, "facebook": {17145, 31464, 54144, 5699, 9962, 23486}, "csbm": {174782, 541004, 708213}}
	workers, _ := strconv.Atoi(os.Getenv("PW"))
	seeds := 3
	if s := os.Getenv("PSEEDS"); s != "" {
		seeds, _ = strconv.Atoi(s)
	}
	ks := []int{8, 32, 128}
	if s := os.Getenv("PK"); s != "" {
		k, _ := strconv.Atoi(s)
		ks = []int{k}
	}
	for _, name := range strings.Split(os.Getenv("PREPORT"), ",") {
		var g *graph.CSR
		if name == "csbm" {
			g = csbmGraph(t, 100000, 16, 10, 0.8, 0)
		} else {
			g = karateGraph(t, name)
		}
		for i, k := range []int{8, 32, 128, 2, 4, 16} {
			if !slices.Contains(ks, k) {
				continue
			}
			sumR, sumT, sumW, worst := 0.0, 0.0, 0.0, 0.0
			for seed := 0; seed < seeds; seed++ {
				opt := Options{Parts: k, Seed: uint64(seed), Workers: workers}
				c0, w0 := cpuTime(), time.Now()
				part, err := Partition(g, opt)
				if err != nil {
					t.Fatal(err)
				}
				sumT += (cpuTime() - c0).Seconds()
				sumW += time.Since(w0).Seconds()
				r := float64(EdgeCut(g, part)) / float64(metis[name][i])
				sumR += r
				worst = max(worst, r)
				if b := Balance(part, k, nil); b > 1.0301 {
					t.Errorf("balance %.4f", b)
				}
			}
			t.Logf("%-8s k=%3d cut/METIS mean %.3f worst %.3f   cpu %.3fs wall %.3fs  fm-moves/seed %.2fM", name, k, sumR/float64(seeds), worst, sumT/float64(seeds), sumW/float64(seeds), float64(statMoves.Swap(0))/float64(seeds)/1e6)
		}
	}
}

func TestOne(t *testing.T) {
	name := os.Getenv("PONE")
	if name == "" {
		t.Skip()
	}
	var g *graph.CSR
	if name == "csbm" {
		g = csbmGraph(t, 100000, 16, 10, 0.8, 0)
	} else if name == "mid" {
		g = csbmGraph(t, 300000, 10, 10, 0.6, 0)
	} else if name == "big" {
		g = csbmGraph(t, 1000000, 10, 10, 0.6, 0)
	} else {
		g = karateGraph(t, name)
	}
	k, _ := strconv.Atoi(os.Getenv("PK"))
	t0 := time.Now()
	c0 := cpuTime()
	part, err := Partition(g, Options{Parts: k})
	t.Logf("cpu %.3fs", (cpuTime() - c0).Seconds())
	if err != nil {
		t.Fatal(err)
	}
	c := EdgeCut(g, part)
	t.Logf("%s k=%d cut %d bal %.3f time %.3fs", name, k, c, Balance(part, k, nil), time.Since(t0).Seconds())
	t.Log(statReport())
}
