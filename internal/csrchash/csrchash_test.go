package csrchash

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"
)

// TestGlueUpToDate fails when csrc/ changed after a glue file's hash line was
// written, because the tests of kernels/ would then run a stale build.
func TestGlueUpToDate(t *testing.T) {
	for _, g := range Glues {
		have, want, err := Check(filepath.Join("..", ".."), g)
		if err != nil {
			t.Fatal(err)
		}
		if have != want {
			t.Errorf("%v changed since %s was updated, so kernels/ may be tested on a stale build:\n"+
				"run `go run ./internal/csrchash/update`, then the tests again (have %s, want %s)",
				g.Sources, g.File, have, want)
		}
	}
}

// TestEveryIncludedSourceIsHashed: every kernels/ package that compiles
// C from csrc/ (through a glue file or a cgo preamble) has a glue file in
// Glues whose hash covers every csrc/ file it depends on, transitively. A
// new kernel in csrc/ with its kernels/ package but no Glues entry fails
// here, so its edits cannot be silently ignored by the build cache.
func TestEveryIncludedSourceIsHashed(t *testing.T) {
	root := filepath.Join("..", "..")
	deps, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(deps) < 2 {
		t.Fatalf("Discover found only %v: it is not reading the includes", deps)
	}
	for dir, files := range deps {
		var g *Glue
		for i := range Glues {
			if path.Dir(Glues[i].File) == dir {
				g = &Glues[i]
			}
		}
		if g == nil {
			t.Errorf("%s compiles %v from csrc/ but has no glue file with a csrc-sha256 line in csrchash.Glues", dir, files)
			continue
		}
		for _, f := range files {
			if !slices.Contains(g.Sources, f) {
				t.Errorf("%s depends on %s, which %s's hash does not cover: add it to its Sources", dir, f, g.File)
			}
		}
	}
	for _, g := range Glues {
		if _, ok := deps[path.Dir(g.File)]; !ok {
			t.Errorf("glue %s: its package includes nothing from csrc/", g.File)
		}
	}
}

func TestDiscoverFollowsIncludes(t *testing.T) {
	root := t.TempDir()
	for name, text := range map[string]string{
		"csrc/k.h":               "int k(void);\n",
		"csrc/k.c":               "#include \"k.h\"\n#include \"util.h\"\n",
		"csrc/util.h":            "#include <stdint.h>\n",
		"csrc/unused.c":          "int u;\n",
		"kernels/k/glue.c":       "#include \"../../csrc/k.c\"\n",
		"kernels/k/cgo.go":       "package k\n// #include \"k.h\"\nimport \"C\"\n",
		"kernels/p/pure.go":      "package p\n",
		"kernels/k/testdata/x.c": "#include \"../../../../csrc/unused.c\"\n",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deps, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"kernels/k": {"csrc/k.c", "csrc/k.h", "csrc/util.h"}}
	if len(deps) != 1 || !slices.Equal(deps["kernels/k"], want["kernels/k"]) {
		t.Fatalf("Discover = %v, want %v", deps, want)
	}
}

func TestUpdateRewritesOnlyStaleLines(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.c", "int a;\n")
	write("glue.c", "// csrc-sha256: "+string(make64('0'))+"\n#include \"a.c\"\n")
	g := Glue{"glue.c", []string{"a.c"}}
	for i, want := range []bool{true, false} {
		changed, err := Update(root, g)
		if err != nil || changed != want {
			t.Fatalf("update %d: changed %v, err %v; want changed %v", i, changed, err, want)
		}
	}
	write("a.c", "int a, b;\n")
	if have, want, _ := Check(root, g); have == want {
		t.Fatal("an edit of a source left the hash line current")
	}
	write("nohash.c", "#include \"a.c\"\n")
	if _, err := Update(root, Glue{"nohash.c", []string{"a.c"}}); err == nil {
		t.Fatal("a glue file without a hash line was accepted")
	}
}

func make64(c byte) []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return b
}
