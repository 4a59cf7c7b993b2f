package cuda

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// On-disk kernel cache
//
// Compiled kernels (PTX or CUBIN) are stored one file per key in CacheDir():
//
//	<dir>/<first 32 hex digits of key>.<kind>
//
// where key = sha256 over (format version, kind, arch, NVRTC version, file
// name, options, sha256 of the source). Each file starts with one header
// line
//
//	IBMB-KERNEL-CACHE-1 <key hex> <payload length> <sha256 of payload hex>\n
//
// followed by the payload. A file whose header, key, length or checksum does
// not match is treated as a miss (and overwritten by the recompiled entry).
// Files are written to a temporary file in the same directory and renamed
// into place, so readers never see a partial entry and concurrent writers
// (threads or processes) are harmless: the last rename wins and every
// version is complete. Failing to create or write the cache directory is not
// an error: the kernel is simply compiled again next time.

const cacheMagic = "IBMB-KERNEL-CACHE-1"

// CacheDir returns the directory of the on-disk kernel cache: $IBMB_CACHE_DIR
// when set, else <os.UserCacheDir()>/ibmb/kernels (e.g.
// ~/.cache/ibmb/kernels), or "" when neither is known (caching disabled).
func CacheDir() string {
	if d := os.Getenv("IBMB_CACHE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil && d != "" {
		return filepath.Join(d, "ibmb", "kernels")
	}
	return ""
}

// cacheKey identifies one compilation result.
func cacheKey(kind, src, name string, arch, nvrtcMajor, nvrtcMinor int, opts []string) string {
	srcSum := sha256.Sum256([]byte(src))
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00kind=%s\x00arch=%d\x00nvrtc=%d.%d\x00name=%s\x00src=%x\x00nopts=%d",
		cacheMagic, kind, arch, nvrtcMajor, nvrtcMinor, name, srcSum, len(opts))
	for _, o := range opts {
		fmt.Fprintf(h, "\x00%d:%s", len(o), o)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func cachePath(dir, key, kind string) string {
	return filepath.Join(dir, key[:32]+"."+kind)
}

// cacheRead returns the payload stored under key, or ok=false when the entry
// is missing or damaged in any way.
func cacheRead(dir, key, kind string) (data []byte, ok bool) {
	if dir == "" {
		return nil, false
	}
	raw, err := os.ReadFile(cachePath(dir, key, kind))
	if err != nil {
		return nil, false
	}
	nl := bytes.IndexByte(raw, '\n')
	if nl < 0 {
		return nil, false
	}
	fields := bytes.Fields(raw[:nl])
	if len(fields) != 4 || string(fields[0]) != cacheMagic || string(fields[1]) != key {
		return nil, false
	}
	payload := raw[nl+1:]
	n, err := strconv.Atoi(string(fields[2]))
	if err != nil || n != len(payload) {
		return nil, false
	}
	sum := sha256.Sum256(payload)
	if string(fields[3]) != hex.EncodeToString(sum[:]) {
		return nil, false
	}
	return payload, true
}

// cacheWrite stores data under key atomically (temp file + rename).
func cacheWrite(dir, key, kind string, data []byte) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-"+key[:16]+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	sum := sha256.Sum256(data)
	_, err = fmt.Fprintf(f, "%s %s %d %s\n", cacheMagic, key, len(data), hex.EncodeToString(sum[:]))
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, cachePath(dir, key, kind))
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// compileCached compiles like compile, going through the on-disk cache in
// CacheDir(). hit reports whether the result came from the cache.
func compileCached(src, name string, arch int, cubin bool, opts []string) (data []byte, hit bool, err error) {
	ma, mi, err := NVRTCVersion()
	if err != nil {
		return nil, false, err
	}
	kind := "ptx"
	if cubin {
		kind = "cubin"
	}
	dir := CacheDir()
	key := cacheKey(kind, src, name, arch, ma, mi, opts)
	if data, ok := cacheRead(dir, key, kind); ok {
		return data, true, nil
	}
	data, err = compile(src, name, arch, cubin, opts)
	if err != nil {
		return nil, false, err
	}
	_ = cacheWrite(dir, key, kind, data) // best effort: a failed write is a later miss
	return data, false, nil
}
