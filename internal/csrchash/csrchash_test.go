package csrchash

import (
	"os"
	"path/filepath"
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
