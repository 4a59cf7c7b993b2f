package partition

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// karateGraph reads the MUSAE edge list of the named graph ("github",
// "facebook") from $IBMB_DATA (default ../../../shared/data) or skips the
// benchmark when it is absent.
func karateGraph(b testing.TB, name string) *graph.CSR {
	root := os.Getenv("IBMB_DATA")
	if root == "" {
		root = "../../../shared/data"
	}
	f, err := os.Open(filepath.Join(root, "karateclub", name, "edges.csv"))
	if err != nil {
		b.Skipf("%s graph not available: %v", name, err)
	}
	defer f.Close()
	var src, dst []int64
	n := int64(0)
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		a, c, ok := strings.Cut(sc.Text(), ",")
		if !ok {
			continue
		}
		u, err1 := strconv.ParseInt(a, 10, 64)
		v, err2 := strconv.ParseInt(c, 10, 64)
		if err1 != nil || err2 != nil {
			b.Fatalf("bad line %q", sc.Text())
		}
		src, dst = append(src, u, v), append(dst, v, u)
		n = max(n, u+1, v+1)
	}
	return buildCSR(b, src, dst, int(n))
}

func benchmarkKarate(b *testing.B, name string, parts int) {
	g := karateGraph(b, name)
	for _, alg := range []Algorithm{Deep, HeavyEdge} {
		b.Run(alg.String(), func(b *testing.B) { partitionBench(b, g, parts, alg) })
	}
}

func BenchmarkPartitionGithub8(b *testing.B)     { benchmarkKarate(b, "github", 8) }
func BenchmarkPartitionGithub32(b *testing.B)    { benchmarkKarate(b, "github", 32) }
func BenchmarkPartitionGithub128(b *testing.B)   { benchmarkKarate(b, "github", 128) }
func BenchmarkPartitionFacebook8(b *testing.B)   { benchmarkKarate(b, "facebook", 8) }
func BenchmarkPartitionFacebook32(b *testing.B)  { benchmarkKarate(b, "facebook", 32) }
func BenchmarkPartitionFacebook128(b *testing.B) { benchmarkKarate(b, "facebook", 128) }
