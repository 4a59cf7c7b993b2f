//go:build !linux

package gather

func adviseHugePages([]byte) {}

func anonHugeKiB() int64 { return -1 }
