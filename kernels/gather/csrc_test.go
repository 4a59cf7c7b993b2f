package gather

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var updateHash = flag.Bool("gather.update", false, "rewrite the csrc-sha256 line of gather_c.c")

var hashLine = regexp.MustCompile(`(?m)^// csrc-sha256: ([0-9a-f]{64})$`)

// TestCSourceHash keeps the csrc-sha256 line of gather_c.c in step with
// csrc/gather.c and csrc/gather.h, so that the go command rebuilds the C
// kernels when they change (it does not track #include'd files itself).
func TestCSourceHash(t *testing.T) {
	h := sha256.New()
	for _, f := range []string{"gather.h", "gather.c"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "csrc", f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(f + "\x00"))
		h.Write(b)
		h.Write([]byte{0})
	}
	want := hex.EncodeToString(h.Sum(nil))
	glue, err := os.ReadFile("gather_c.c")
	if err != nil {
		t.Fatal(err)
	}
	m := hashLine.FindSubmatch(glue)
	if m == nil {
		t.Fatal("gather_c.c has no csrc-sha256 line")
	}
	if string(m[1]) == want {
		return
	}
	if *updateHash {
		out := hashLine.ReplaceAll(glue, []byte("// csrc-sha256: "+want))
		if err := os.WriteFile("gather_c.c", out, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated gather_c.c to csrc-sha256 %s; run the tests again", want)
		return
	}
	t.Fatalf("csrc/gather.[ch] changed since gather_c.c was updated, so the tests may run a stale build of the kernels:\n"+
		"run `go test ./kernels/gather -run TestCSourceHash -gather.update`, then the tests again (have %s, want %s)", m[1], want)
}
