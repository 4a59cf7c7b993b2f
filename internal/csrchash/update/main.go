// Command update rewrites the csrc-sha256 lines of the cgo glue files in
// kernels/ after an edit of csrc/ (see package csrchash). Run it from the
// module root: go run ./internal/csrchash/update
package main

import (
	"fmt"
	"os"

	"github.com/ibmb-dev/ibmb/internal/csrchash"
)

func main() {
	for _, g := range csrchash.Glues {
		changed, err := csrchash.Update(".", g)
		if err != nil {
			fmt.Fprintln(os.Stderr, "csrchash:", err)
			os.Exit(1)
		}
		if changed {
			fmt.Printf("csrchash: updated %s (its csrc sources changed)\n", g.File)
		}
	}
}
