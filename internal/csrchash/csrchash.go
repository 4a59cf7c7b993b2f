// Package csrchash keeps the cgo glue files of kernels/ in step with the C
// sources in csrc/ that they #include.
//
// cgo compiles only the .c files of a package's own directory, so each
// kernels/ package has a one-line glue file that #includes its sources from
// csrc/. The go command's build cache hashes the package's files but not
// what they #include: an edit to csrc/ alone would leave a stale object in
// the cache. Each glue file therefore carries a line
//
//	// csrc-sha256: <SHA-256 of its csrc sources>
//
// that changes with every edit of those sources, which makes the go command
// rebuild. `go run ./internal/csrchash/update` rewrites the lines (the
// engine's build, setup.py, runs it first, so `pip install .` never uses a
// stale kernel); TestGlueUpToDate fails loudly when a line is stale, so a
// plain `go test` after an edit cannot pass on an old build.
package csrchash

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Glue is one cgo glue file and the csrc/ files it depends on, relative to
// the module root.
type Glue struct {
	File    string
	Sources []string
}

// Glues lists the glue files of the module with the csrc/ files each one
// depends on (read from their #include lines: see Discover). Tests compare
// it with what Discover finds, so a new kernel's glue file cannot be left
// out silently.
var Glues = []Glue{
	{"kernels/gather/gather_c.c", []string{"csrc/gather.h", "csrc/gather.c", "csrc/rowcopy.h"}},
	{"kernels/cuda/shim_c.c", []string{"csrc/cuda_shim.h", "csrc/cuda_shim.c"}},
	{"kernels/scatter/scatter_c.c", []string{"csrc/scatter.h", "csrc/scatter.c", "csrc/rowcopy.h"}},
}

// includeLine matches a quoted #include (system <headers> are not ours).
var includeLine = regexp.MustCompile(`(?m)^\s*#\s*include\s+"([^"]+)"`)

// Discover finds, under root's kernels/ (testdata excluded), every package
// whose Go or C files #include something from csrc/ (directly, as
// "../../csrc/x.c", or by name through cgo's -I${SRCDIR}/../../csrc), and
// returns for each package the csrc/ files it depends on, following the
// #include lines inside csrc/ too, keyed by the package directory (relative
// to root, slash-separated), sorted.
func Discover(root string) (map[string][]string, error) {
	deps := map[string][]string{}
	err := filepath.WalkDir(filepath.Join(root, "kernels"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".go" && ext != ".c" && ext != ".h" {
			return nil
		}
		seen := map[string]bool{}
		if err := csrcIncludes(root, path, seen); err != nil {
			return err
		}
		if len(seen) == 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		for f := range seen {
			if !slices.Contains(deps[rel], f) {
				deps[rel] = append(deps[rel], f)
			}
		}
		slices.Sort(deps[rel])
		return nil
	})
	return deps, err
}

// csrcIncludes adds to seen the csrc/ files (relative to root) that file
// includes, transitively.
func csrcIncludes(root, file string, seen map[string]bool) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	for _, m := range includeLine.FindAllSubmatch(b, -1) {
		name := string(m[1])
		for _, cand := range []string{filepath.Join(filepath.Dir(file), name), filepath.Join(root, "csrc", name)} {
			rel, err := filepath.Rel(root, cand)
			if err != nil || !strings.HasPrefix(filepath.ToSlash(rel), "csrc/") {
				continue
			}
			if _, err := os.Stat(cand); err != nil {
				continue
			}
			rel = filepath.ToSlash(rel)
			if !seen[rel] {
				seen[rel] = true
				if err := csrcIncludes(root, cand, seen); err != nil {
					return err
				}
			}
			break
		}
	}
	return nil
}

var hashLine = regexp.MustCompile(`(?m)^// csrc-sha256: ([0-9a-f]{64})$`)

// Sum is the SHA-256 over the named files (name, NUL, content, NUL each),
// read relative to root.
func Sum(root string, files []string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		h.Write([]byte(filepath.Base(f) + "\x00"))
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Check reports whether g's recorded hash matches its sources: it returns
// the recorded and the current hash, and an error when the glue file cannot
// be read or has no csrc-sha256 line.
func Check(root string, g Glue) (have, want string, err error) {
	want, err = Sum(root, g.Sources)
	if err != nil {
		return "", "", err
	}
	b, err := os.ReadFile(filepath.Join(root, g.File))
	if err != nil {
		return "", "", err
	}
	m := hashLine.FindSubmatch(b)
	if m == nil {
		return "", want, fmt.Errorf("%s has no '// csrc-sha256: <hex>' line", g.File)
	}
	return string(m[1]), want, nil
}

// Update rewrites g's csrc-sha256 line when it is stale and reports whether
// it changed the file.
func Update(root string, g Glue) (bool, error) {
	have, want, err := Check(root, g)
	if err != nil || have == want {
		return false, err
	}
	path := filepath.Join(root, g.File)
	b, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	out := hashLine.ReplaceAll(b, []byte("// csrc-sha256: "+want))
	return true, os.WriteFile(path, out, 0o644)
}
