package cuda

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cudasrc "github.com/ibmb-dev/ibmb/cuda"
)

// Environment knobs of this test suite:
//
//	IBMB_REQUIRE_NVRTC=1          fail (instead of skip) when NVRTC is missing
//	IBMB_NVRTC, IBMB_NVRTC_DIRS   where to find NVRTC (see package doc)
//	IBMB_EXPECT_UNAVAILABLE=TEXT  (child processes) Available must fail with TEXT
//	IBMB_EXPECT_MODULE=ARCH/KIND  (child processes) expected gather module build

// requireNVRTC skips the test when no NVRTC library can be loaded, unless
// IBMB_REQUIRE_NVRTC=1 makes that a failure.
func requireNVRTC(t *testing.T) {
	t.Helper()
	if _, _, err := NVRTCVersion(); err != nil {
		if os.Getenv("IBMB_REQUIRE_NVRTC") == "1" {
			t.Fatalf("IBMB_REQUIRE_NVRTC=1 but NVRTC is not usable: %v", err)
		}
		t.Skipf("skipping: NVRTC not found (%v); pip install nvidia-cuda-nvrtc-cu12 and set IBMB_NVRTC or IBMB_NVRTC_DIRS to run it", err)
	}
}

// requireGPU skips the test when Available() reports no usable GPU.
func requireGPU(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("skipping GPU test: %v", err)
	}
}

func TestAvailable(t *testing.T) {
	err := Available()
	if want := os.Getenv("IBMB_EXPECT_UNAVAILABLE"); want != "" {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Available() = %v, want an error containing %q", err, want)
		}
	}
	if err == nil {
		n, err := DeviceCount()
		if err != nil || n < 1 {
			t.Fatalf("Available() = nil but DeviceCount() = %d, %v", n, err)
		}
		t.Logf("CUDA available: %d device(s)", n)
		return
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Available() error %q does not wrap ErrUnavailable", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "cuda unavailable: ") && !strings.HasPrefix(msg, "nvrtc unavailable: ") {
		t.Errorf("Available() error %q lacks a 'cuda unavailable:' / 'nvrtc unavailable:' prefix", msg)
	}
	if len(strings.TrimSpace(msg)) < len("cuda unavailable: ")+5 {
		t.Errorf("Available() error %q gives no reason", msg)
	}
	// Asking again gives the same answer (cached, no retry storm, no crash).
	if err2 := Available(); err2 == nil || err2.Error() != msg {
		t.Errorf("second Available() = %v, want %q", err2, msg)
	}
	// Everything that needs the driver fails the same way.
	if _, err := DeviceCount(); err != nil && !errors.Is(err, ErrUnavailable) {
		t.Errorf("DeviceCount() error %q does not wrap ErrUnavailable", err)
	}
	t.Logf("CUDA not available (expected on machines without a GPU): %v", err)
}

func TestNoGPUCallsFailCleanly(t *testing.T) {
	if Available() == nil {
		t.Skip("a GPU is available; this test covers machines without one")
	}
	if _, err := DeviceCount(); err == nil {
		// Driver and device exist but NVRTC does not: nothing more to check.
		t.Skip("driver present, NVRTC missing")
	}
	checks := map[string]error{}
	_, checks["Device"] = Device(0)
	checks["Prepare"] = Prepare(0)
	checks["Gather"] = Gather(0, 256, 512, 4, 16, 1024, 2, 0)
	_, checks["MemcpyBandwidth"] = MemcpyBandwidth(0, 1<<20)
	_, checks["PPRPush"] = PPRPush(0, []int64{0, 1, 2}, []int32{1, 0}, nil, []int64{0}, PPROptions{Alpha: 0.25, Eps: 1e-3})
	checks["PreparePPR"] = PreparePPR(0)
	_, _, checks["DriverVersion"] = DriverVersion()
	for name, err := range checks {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s without a driver: got %v, want an error wrapping ErrUnavailable", name, err)
		}
	}
}

func TestNVRTCInfo(t *testing.T) {
	requireNVRTC(t)
	ma, mi, err := NVRTCVersion()
	if err != nil || ma < 11 {
		t.Fatalf("NVRTCVersion() = %d.%d, %v", ma, mi, err)
	}
	lib, err := NVRTCLibrary()
	if err != nil || lib == "" {
		t.Fatalf("NVRTCLibrary() = %q, %v", lib, err)
	}
	archs, err := SupportedArchs()
	if err != nil {
		t.Fatalf("SupportedArchs(): %v", err)
	}
	if len(archs) == 0 || !slices.IsSorted(archs) {
		t.Fatalf("SupportedArchs() = %v, want a non-empty ascending list", archs)
	}
	t.Logf("NVRTC %d.%d from %s; archs %v", ma, mi, lib, archs)
}

// compileArchs picks at least two architectures NVRTC supports, preferring
// 80 and 90.
func compileArchs(t *testing.T) []int {
	t.Helper()
	archs, err := SupportedArchs()
	if err != nil {
		t.Fatalf("SupportedArchs(): %v", err)
	}
	var pick []int
	for _, a := range []int{80, 90, 75, 86, 89, 100, 120} {
		if slices.Contains(archs, a) && len(pick) < 2 {
			pick = append(pick, a)
		}
	}
	for i := len(archs) - 1; i >= 0 && len(pick) < 2; i-- {
		if !slices.Contains(pick, archs[i]) {
			pick = append(pick, archs[i])
		}
	}
	if len(pick) < 2 {
		t.Fatalf("NVRTC supports fewer than two architectures: %v", archs)
	}
	return pick
}

// compilePTXFor compiles src (file, defining kernels) to PTX for every
// architecture of compileArchs, checks that the PTX has an entry for each
// kernel and targets the architecture, and returns the PTX by arch.
func compilePTXFor(t *testing.T, src, file string, kernels []string) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, arch := range compileArchs(t) {
		ptx, err := CompilePTX(src, file, arch)
		if err != nil {
			t.Fatalf("CompilePTX(%s, %d): %v", file, arch, err)
		}
		for _, k := range kernels {
			if !strings.Contains(ptx, ".entry "+k+"(") {
				t.Errorf("arch %d: PTX lacks .entry %s", arch, k)
			}
		}
		if !strings.Contains(ptx, fmt.Sprintf(".target sm_%d", arch)) {
			t.Errorf("arch %d: PTX lacks .target sm_%d", arch, arch)
		}
		t.Logf("%s for compute_%d: %d bytes of PTX", file, arch, len(ptx))
		out[arch] = ptx
	}
	return out
}

// TestCompilePTX compiles each module for every architecture of
// compileArchs and checks its entries and the instructions its design
// relies on.
func TestCompilePTX(t *testing.T) {
	requireNVRTC(t)
	for _, m := range []struct {
		src, file string
		kernels   []string
		wants     [][2]string // PTX instruction, what needs it
	}{
		{cudasrc.Gather, "gather.cu", cudasrc.GatherKernels, [][2]string{
			// The 16-byte path must really use 128-bit non-coherent loads
			// and 128-bit stores.
			{"ld.global.nc.v4.u32", "16-byte read-only loads"},
			{"st.global.v4.u32", "16-byte stores"},
			{"atom.global.min.u64", "check kernels"},
		}},
		{cudasrc.PPR, "ppr.cu", cudasrc.PPRKernels, [][2]string{
			{"atom.global.add.f64", "residual push"},
			{"atom.global.cas.b32", "hash table insert"},
			{"shfl.sync", "warp collectives"},
			{"vote.sync.ballot", "warp collectives"},
		}},
	} {
		for arch, ptx := range compilePTXFor(t, m.src, m.file, m.kernels) {
			for _, w := range m.wants {
				if !strings.Contains(ptx, w[0]) {
					t.Errorf("%s, arch %d: PTX has no %s (%s)", m.file, arch, w[0], w[1])
				}
			}
		}
	}
}

func TestCompileCUBIN(t *testing.T) {
	requireNVRTC(t)
	arch := compileArchs(t)[0]
	bin, err := CompileCUBIN(cudasrc.Gather, "gather.cu", arch)
	if err != nil {
		t.Fatalf("CompileCUBIN(gather.cu, %d): %v", arch, err)
	}
	if !bytes.HasPrefix(bin, []byte("\x7fELF")) {
		t.Fatalf("CUBIN for sm_%d does not start with the ELF magic", arch)
	}
	for _, k := range cudasrc.GatherKernels {
		if !bytes.Contains(bin, []byte(k+"\x00")) {
			t.Errorf("sm_%d CUBIN lacks symbol %s", arch, k)
		}
	}
	t.Logf("sm_%d: %d bytes of CUBIN", arch, len(bin))
}

func TestCompileError(t *testing.T) {
	requireNVRTC(t)
	src := "extern \"C\" __global__ void k(int *p) {\n" +
		"    p[0] = 1;\n" +
		"    this_is_not_declared(p);\n" +
		"}\n"
	_, err := CompilePTX(src, "broken.cu", compileArchs(t)[0])
	if err == nil {
		t.Fatal("CompilePTX accepted a broken source")
	}
	if !errors.Is(err, ErrCompile) {
		t.Errorf("error %q does not wrap ErrCompile", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"broken.cu",                       // file name
		"NVRTC_ERROR_COMPILATION",         // NVRTC status
		"this_is_not_declared",            // the log names the culprit
		"identifier",                      // ... with NVRTC's wording ("identifier ... is undefined")
		"   3 |     this_is_not_declared", // the numbered source
		"--gpu-architecture=compute_",     // the options used
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("compile error lacks %q:\n%s", want, msg)
		}
	}
	t.Logf("compile error as reported:\n%s", msg)
}

func TestCompileBadArgs(t *testing.T) {
	requireNVRTC(t)
	if _, err := CompilePTX(cudasrc.Gather, "gather.cu", 0); !errors.Is(err, ErrValue) {
		t.Errorf("arch 0: got %v, want ErrValue", err)
	}
	if _, err := CompilePTX(cudasrc.Gather, "gather.cu", 11); !errors.Is(err, ErrValue) {
		t.Errorf("arch 11: got %v, want ErrValue", err)
	}
	// An invalid option is reported with the log.
	_, err := CompilePTX(cudasrc.Gather, "gather.cu", compileArchs(t)[0], "--no-such-option")
	if !errors.Is(err, ErrCompile) || !strings.Contains(err.Error(), "--no-such-option") {
		t.Errorf("bad option: got %v", err)
	}
}

func TestCompileOptions(t *testing.T) {
	requireNVRTC(t)
	src := "extern \"C\" __global__ void k(int *p) { p[0] = VALUE; }\n"
	ptx, err := CompilePTX(src, "", compileArchs(t)[0], "-DVALUE=12345")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ptx, "12345") {
		t.Errorf("option -DVALUE=12345 not applied:\n%s", ptx)
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("IBMB_CACHE_DIR", "/some/where")
	if got := CacheDir(); got != "/some/where" {
		t.Errorf("CacheDir() = %q with IBMB_CACHE_DIR set", got)
	}
	t.Setenv("IBMB_CACHE_DIR", "")
	if d, err := os.UserCacheDir(); err == nil {
		if want := filepath.Join(d, "ibmb", "kernels"); CacheDir() != want {
			t.Errorf("CacheDir() = %q, want %q", CacheDir(), want)
		}
	}
}

func TestCacheFile(t *testing.T) {
	dir := t.TempDir()
	key := cacheKey("ptx", "src", "a.cu", 80, 12, 9, []string{"-DX=1"})
	if len(key) != 64 {
		t.Fatalf("key %q is not a sha256 hex digest", key)
	}
	for _, other := range []string{
		cacheKey("cubin", "src", "a.cu", 80, 12, 9, []string{"-DX=1"}),
		cacheKey("ptx", "src2", "a.cu", 80, 12, 9, []string{"-DX=1"}),
		cacheKey("ptx", "src", "a.cu", 90, 12, 9, []string{"-DX=1"}),
		cacheKey("ptx", "src", "a.cu", 80, 12, 8, []string{"-DX=1"}),
		cacheKey("ptx", "src", "a.cu", 80, 12, 9, []string{"-DX=2"}),
		cacheKey("ptx", "src", "a.cu", 80, 12, 9, []string{"-DX", "=1"}),
		cacheKey("ptx", "src", "a.cu", 80, 12, 9, nil),
	} {
		if other == key {
			t.Errorf("distinct inputs share cache key %s", key)
		}
	}
	if _, ok := cacheRead(dir, key, "ptx"); ok {
		t.Fatal("hit in an empty cache")
	}
	payload := []byte("// PTX\n.version 8.0\n\x00binary\nbytes")
	if err := cacheWrite(dir, key, "ptx", payload); err != nil {
		t.Fatal(err)
	}
	got, ok := cacheRead(dir, key, "ptx")
	if !ok || !bytes.Equal(got, payload) {
		t.Fatalf("cacheRead = %q, %v; want %q", got, ok, payload)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}

	path := cachePath(dir, key, "ptx")
	good, _ := os.ReadFile(path)
	corrupt := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, ok := cacheRead(dir, key, "ptx"); ok {
			t.Errorf("%s: damaged entry read as a hit", name)
		}
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)-2] ^= 0x20
	corrupt("flipped payload byte", flipped)
	corrupt("truncated", good[:len(good)-3])
	corrupt("appended", append(bytes.Clone(good), 'x'))
	corrupt("empty", nil)
	corrupt("no header", payload)
	corrupt("other key", bytes.Replace(good, []byte(key), []byte(strings.Repeat("0", 64)), 1))
	corrupt("bad magic", bytes.Replace(good, []byte(cacheMagic), []byte("IBMB-KERNEL-CACHE-0"), 1))

	// Rewriting repairs the entry.
	if err := cacheWrite(dir, key, "ptx", payload); err != nil {
		t.Fatal(err)
	}
	if got, ok := cacheRead(dir, key, "ptx"); !ok || !bytes.Equal(got, payload) {
		t.Fatal("rewritten entry not readable")
	}
	// An unwritable cache directory is not an error for readers.
	if _, ok := cacheRead(filepath.Join(dir, "missing"), key, "ptx"); ok {
		t.Fatal("hit in a missing directory")
	}
	if _, ok := cacheRead("", key, "ptx"); ok {
		t.Fatal("hit with caching disabled")
	}
}

func TestCompileCached(t *testing.T) {
	requireNVRTC(t)
	dir := t.TempDir()
	t.Setenv("IBMB_CACHE_DIR", dir)
	arch := compileArchs(t)[0]

	first, hit, err := compileCached(cudasrc.Gather, "gather.cu", arch, false, nil)
	if err != nil || hit {
		t.Fatalf("first compileCached: hit=%v err=%v", hit, err)
	}
	second, hit, err := compileCached(cudasrc.Gather, "gather.cu", arch, false, nil)
	if err != nil || !hit || !bytes.Equal(first, second) {
		t.Fatalf("second compileCached: hit=%v err=%v same=%v", hit, err, bytes.Equal(first, second))
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*.ptx"))
	if len(entries) != 1 {
		t.Fatalf("cache holds %v, want one .ptx entry", entries)
	}

	// Corrupt the entry: a miss, then a recompile that repairs it.
	raw, _ := os.ReadFile(entries[0])
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(entries[0], raw, 0o644); err != nil {
		t.Fatal(err)
	}
	third, hit, err := compileCached(cudasrc.Gather, "gather.cu", arch, false, nil)
	if err != nil || hit || !bytes.Equal(third, first) {
		t.Fatalf("after corruption: hit=%v err=%v same=%v (want a recompiling miss)", hit, err, bytes.Equal(third, first))
	}
	if _, hit, _ := compileCached(cudasrc.Gather, "gather.cu", arch, false, nil); !hit {
		t.Fatal("entry not repaired after the recompile")
	}

	// Different options: a different entry.
	if _, hit, err := compileCached(cudasrc.Gather, "gather.cu", arch, false, []string{"-lineinfo"}); err != nil || hit {
		t.Fatalf("new options: hit=%v err=%v", hit, err)
	}
	// CUBIN entries are separate from PTX ones.
	if bin, hit, err := compileCached(cudasrc.Gather, "gather.cu", arch, true, nil); err != nil || hit || !bytes.HasPrefix(bin, []byte("\x7fELF")) {
		t.Fatalf("cubin: hit=%v err=%v", hit, err)
	}
	if _, hit, _ := compileCached(cudasrc.Gather, "gather.cu", arch, true, nil); !hit {
		t.Fatal("cubin entry not cached")
	}

	// An unusable cache directory only disables caching.
	t.Setenv("IBMB_CACHE_DIR", filepath.Join(entries[0], "not-a-dir"))
	if _, hit, err := compileCached(cudasrc.Gather, "gather.cu", arch, false, nil); err != nil || hit {
		t.Fatalf("unusable cache dir: hit=%v err=%v", hit, err)
	}
}

func TestChooseArch(t *testing.T) {
	archs := []int{50, 52, 60, 61, 70, 75, 80, 86, 87, 89, 90, 100, 120}
	for _, c := range []struct{ cc, want int }{
		{90, 90}, {89, 89}, {88, 87}, {80, 80}, {81, 80}, {103, 100}, {121, 120}, {150, 120}, {35, 0}, {53, 52},
	} {
		if got := chooseArch(archs, c.cc); got != c.want {
			t.Errorf("chooseArch(cc %d) = %d, want %d", c.cc, got, c.want)
		}
	}
}

func TestPlanGather(t *testing.T) {
	const base = uintptr(1 << 20) // 256-byte aligned, like cuMemAlloc
	for _, c := range []struct {
		dst, src        uintptr
		rowBytes, n     int64
		width, rowElems int64
		shift           int64
	}{
		{base, base, 64, 1000, 16, 4, 2},
		{base, base + 4, 64, 1000, 4, 16, 4},
		{base + 8, base, 64, 1000, 8, 8, 3},
		{base, base + 1, 64, 1000, 1, 64, 5},
		{base, base, 3, 1000, 1, 3, 2},
		{base, base, 12, 1000, 4, 3, 2},
		{base, base, 24, 1000, 8, 3, 2},
		{base, base, 16, 1000, 16, 1, 0},
		{base, base, 4096, 1000, 16, 256, 5},
		{base, base, 4100, 1000, 4, 1025, 5},
	} {
		p := planGather(c.dst, c.src, c.rowBytes, c.n, 132)
		if p.width != c.width || p.rowElems != c.rowElems || p.groupShift != c.shift {
			t.Errorf("planGather(dst%%16=%d, src%%16=%d, rowBytes=%d) = width %d, rowElems %d, shift %d; want %d, %d, %d",
				c.dst%16, c.src%16, c.rowBytes, p.width, p.rowElems, p.groupShift, c.width, c.rowElems, c.shift)
		}
	}
	for _, rowBytes := range []int64{1, 7, 16, 48, 1 << 10, 1 << 16, 1 << 24} {
		for _, n := range []int64{1, 2, 7, 100, 1 << 20, 1 << 40} {
			for _, sms := range []int{0, 1, 4, 132} {
				p := planGather(base, base, rowBytes, n, sms)
				group := uint32(1) << p.groupShift
				switch {
				case p.block%32 != 0 || p.block%group != 0:
					t.Errorf("block %d vs group %d", p.block, group)
				case p.gridX < 1 || p.gridY < 1 || p.gridY > 65535:
					t.Errorf("rowBytes %d n %d: grid %dx%d", rowBytes, n, p.gridX, p.gridY)
				case int64(p.gridX) > max(int64(sms), 1)*16:
					t.Errorf("rowBytes %d n %d: gridX %d exceeds the cap", rowBytes, n, p.gridX)
				case int64(p.gridY) > 1 && (int64(p.gridY)-1)*int64(group)*4 >= p.rowElems:
					t.Errorf("rowBytes %d n %d: gridY %d leaves column blocks without work", rowBytes, n, p.gridY)
				}
			}
		}
	}
	if g := checkGrid(1, 132); g != 1 {
		t.Errorf("checkGrid(1) = %d", g)
	}
	if g := checkGrid(1<<40, 132); g != 132*8 {
		t.Errorf("checkGrid(huge) = %d", g)
	}
}

func TestGatherValidation(t *testing.T) {
	const p = uintptr(1 << 20)
	for name, err := range map[string]error{
		"rowBytes 0":          Gather(0, p, p*2, 4, 0, p*3, 2, 0),
		"rowBytes negative":   Gather(0, p, p*2, 4, -16, p*3, 2, 0),
		"srcRows negative":    Gather(0, p, p*2, -1, 16, p*3, 2, 0),
		"n negative":          Gather(0, p, p*2, 4, 16, p*3, -2, 0),
		"device negative":     Gather(-1, p, p*2, 4, 16, p*3, 2, 0),
		"dst null":            Gather(0, 0, p*2, 4, 16, p*3, 2, 0),
		"src null":            Gather(0, p, 0, 4, 16, p*3, 2, 0),
		"idx null":            Gather(0, p, p*2, 4, 16, 0, 2, 0),
		"idx misaligned":      Gather(0, p, p*2, 4, 16, p*3+4, 2, 0),
		"dst overlaps src":    Gather(0, p, p+16, 4, 16, p*3, 2, 0),
		"dst overlaps idx":    Gather(0, p*3-8, p*2, 4, 16, p*3, 2, 0),
		"size overflow":       Gather(0, p, p*2, 1<<62, 16, p*3, 2, 0),
		"output overflow":     Gather(0, p, p*2, 4, 1<<40, p*3, 1<<30, 0),
		"MemcpyBandwidth 0":   func() error { _, err := MemcpyBandwidth(0, 0); return err }(),
		"MemcpyBandwidth dev": func() error { _, err := MemcpyBandwidth(-1, 1); return err }(),
		"Prepare dev":         Prepare(-1),
	} {
		if !errors.Is(err, ErrValue) {
			t.Errorf("%s: got %v, want an error wrapping ErrValue", name, err)
		}
	}
	// n == 0 is a no-op that needs neither a GPU nor valid pointers.
	if err := Gather(0, 0, 0, 0, 16, 0, 0, 0); err != nil {
		t.Errorf("n == 0: %v", err)
	}
}

func TestErrorsWrap(t *testing.T) {
	err := newErr(ErrIndex, "cuda: gather: idx[%d] = %d", 3, -1)
	if !errors.Is(err, ErrIndex) || errors.Is(err, ErrValue) || err.Error() != "cuda: gather: idx[3] = -1" {
		t.Errorf("newErr: %v", err)
	}
	if !errors.Is(fmt.Errorf("outer: %w", err), ErrIndex) {
		t.Error("wrapped twice: errors.Is fails")
	}
}
