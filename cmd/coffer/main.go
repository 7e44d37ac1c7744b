// Command coffer is a self-hosted secret manager: `coffer server` runs it,
// and the other commands are its clients. See the README.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}
