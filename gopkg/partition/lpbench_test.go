package partition

import (
	"context"
	"os"
	"strconv"
	"strings"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"testing"
)

func BenchmarkLPClusterGithub(b *testing.B) {
	cg := karateGraph(b, "github")
	vw := make([]int64, cg.NumNodes)
	for i := range vw {
		vw[i] = 1
	}
	g, _ := fromCSR(cg, vw)
	order := degreeOrder(g, 1, 0)
	p := &pool{ctx: context.Background(), workers: 1}
	sc := []*scratch{{}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lpCluster(p, sc, g, order, 141, lpClusterConfig{rounds: 5, subRound: 256, seed: 1})
	}
}

func TestBisectGithub(t *testing.T) {
	if os.Getenv("PBIS") == "" {
		t.Skip()
	}
	cg := karateGraph(t, "github")
	vw := make([]int64, cg.NumNodes)
	for i := range vw {
		vw[i] = 1
	}
	g, _ := fromCSR(cg, vw)
	d := &deep{k: 2, eps: 0.03, lim: limit(float64(g.total)/2, 0.03)}
	p := &pool{ctx: context.Background(), workers: 1}
	for seed := uint64(0); seed < 4; seed++ {
		mw, t0 := d.bisectLimits(g, 2, 1)
		c0 := cpuTime()
		side, err := bisect(p, &scratch{}, g, mw, t0, seed)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d cut %d bal %.3f cpu %.3f", seed, EdgeCut(cg, side), Balance(side, 2, nil), (cpuTime() - c0).Seconds())
	}
}

func TestOldBisectGithub(t *testing.T) {
	if os.Getenv("PBIS") == "" {
		t.Skip()
	}
	cg := karateGraph(t, "github")
	vw := make([]int64, cg.NumNodes)
	for i := range vw {
		vw[i] = 1
	}
	g, _ := fromCSR(cg, vw)
	for seed := uint64(0); seed < 4; seed++ {
		s := &state{seed: seed, eps: 0.03, workers: 1}
		c0 := cpuTime()
		side := s.multilevelBisect(g, 0.5, 1)
		t.Logf("old seed %d cut %d bal %.3f cpu %.3f", seed, EdgeCut(cg, side), Balance(side, 2, nil), (cpuTime() - c0).Seconds())
	}
}

func TestBisectDump(t *testing.T) {
	path := os.Getenv("PBD")
	if path == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(path)
	var src, dst []int64
	n := int64(0)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		a, b, _ := strings.Cut(line, " ")
		u, _ := strconv.ParseInt(a, 10, 64)
		v, _ := strconv.ParseInt(b, 10, 64)
		src, dst = append(src, u), append(dst, v)
		n = max(n, u+1, v+1)
	}
	cg, err := graph.FromCOO(src, dst, int(n), graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vw := make([]int64, n)
	for i := range vw {
		vw[i] = 1
	}
	g, _ := fromCSR(cg, vw)
	d := &deep{k: 2, eps: 0.03, lim: limit(float64(g.total)/2, 0.03)}
	p := &pool{ctx: context.Background(), workers: 1}
	for seed := uint64(0); seed < 4; seed++ {
		mw, t0 := d.bisectLimits(g, 2, 1)
		c0 := cpuTime()
		side, err := bisect(p, &scratch{}, g, mw, t0, seed)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d cut %d bal %.3f cpu %.3f", seed, EdgeCut(cg, side), Balance(side, 2, nil), (cpuTime() - c0).Seconds())
		s := &state{seed: seed, eps: 0.03, workers: 1}
		side = s.multilevelBisect(g, 0.5, 1)
		t.Logf("old seed %d cut %d bal %.3f", seed, EdgeCut(cg, side), Balance(side, 2, nil))
	}
}

func TestGridDebug(t *testing.T) {
	if os.Getenv("PGRID") == "" {
		t.Skip()
	}
	g := gridGraph(t, 64, 64)
	for _, alg := range []Algorithm{Deep, HeavyEdge} {
		var cs []int64
		for seed := uint64(0); seed < 10; seed++ {
			part, _ := Partition(g, Options{Parts: 2, Seed: seed, Algorithm: alg})
			cs = append(cs, EdgeCut(g, part))
		}
		t.Logf("%v cuts %v", alg, cs)
	}
}
