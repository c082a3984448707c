// Command procman runs a graph of tasks from Procfile.yaml: one-shot setup
// steps, plain tasks and supervised services, with a watch mode.
package main

import (
	"os"

	"github.com/procman/procman/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
