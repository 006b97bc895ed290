// Command samfunctions prints the logical ID of every function in a SAM
// template, one per line, so the Makefile's `build` target builds exactly what
// template.yaml declares without a second list.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vip-platform/backend/infra/template"
)

func main() {
	if err := realMain(); err != nil {
		fmt.Fprintln(os.Stderr, "samfunctions:", err)
		os.Exit(1)
	}
}

func realMain() error {
	path := flag.String("template", "template.yaml", "SAM template to read")
	flag.Parse()
	t, err := template.Load(*path)
	if err != nil {
		return err
	}
	fns, err := t.Functions()
	if err != nil {
		return err
	}
	for _, f := range fns {
		fmt.Println(f.LogicalID)
	}
	return nil
}
