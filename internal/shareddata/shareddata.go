// Package shareddata finds and reads the real datasets that tests and
// benchmarks use from the shared data folder (../shared/data beside the
// repository, or $IBMB_DATA). The datasets are never copied into the
// repository.
package shareddata

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// Dir returns the shared data folder: $IBMB_DATA if set, else ../shared/data
// next to the repository root (the folder holding go.mod above the working
// directory).
func Dir() (string, error) {
	if d := os.Getenv("IBMB_DATA"); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "data"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

var (
	mu    sync.Mutex
	cache = map[string]*graph.CSR{}
)

// Karateclub reads karateclub/<name>/edges.csv (header id_1,id_2) as a
// simple undirected graph (symmetrized, duplicates dropped). Graphs are
// cached for the life of the process and must not be modified.
func Karateclub(name string) (*graph.CSR, error) {
	mu.Lock()
	defer mu.Unlock()
	if g, ok := cache[name]; ok {
		return g, nil
	}
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "karateclub", name, "edges.csv")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var src, dst []int64
	numNodes := int64(0)
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if line == 1 || text == "" {
			continue
		}
		a, b, ok := strings.Cut(text, ",")
		u, err1 := strconv.ParseInt(a, 10, 64)
		v, err2 := strconv.ParseInt(b, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s:%d: malformed line %q", path, line, text)
		}
		src, dst = append(src, u), append(dst, v)
		numNodes = max(numNodes, u+1, v+1)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	g, err := graph.FromCOO(src, dst, int(numNodes), graph.Options{Symmetrize: true, DropDuplicates: true})
	if err != nil {
		return nil, err
	}
	cache[name] = g
	return g, nil
}
