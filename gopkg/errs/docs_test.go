package errs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoPythonInEngineDocs: the engine's Go packages speak of error kinds,
// not of the exceptions one caller maps them to (that table lives in the
// bindings and python/ibmb/_native.py only).
func TestNoPythonInEngineDocs(t *testing.T) {
	banned := regexp.MustCompile(`\b(Python|ValueError|MemoryError|KeyboardInterrupt|OSError|RuntimeError|TypeError)\b|\bIndexError\b[^{)]`)
	checked := 0
	for _, dir := range []string{"gopkg", "kernels", "internal"} {
		root := filepath.Join("..", "..", dir)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			checked++
			for i, line := range strings.Split(string(b), "\n") {
				c := strings.Index(line, "//")
				if c < 0 {
					continue
				}
				comment := line[c:]
				// gather's *IndexError is a Go type of its own.
				comment = strings.ReplaceAll(comment, "*IndexError", "")
				comment = regexp.MustCompile(`IndexError (reports|struct)`).ReplaceAllString(comment, "")
				if banned.MatchString(comment + " ") {
					t.Errorf("%s:%d names a Python exception or Python: %s", path, i+1, strings.TrimSpace(comment))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("read only %d Go files: wrong directory?", checked)
	}
}
