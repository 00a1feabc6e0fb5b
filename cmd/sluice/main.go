package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process's exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serveCommand(rest, stdout, stderr)
	case "tail":
		return tailCommand(rest, stdout, stderr)
	case "split-shard":
		return splitCommand(rest, stdout, stderr)
	case "triggers":
		return triggersCommand(rest, stdout, stderr)
	case "audit":
		return auditCommand(rest, stdout, stderr)
	case "sinks":
		return sinksCommand(rest, stdout, stderr)
	case "search":
		return searchCommand(rest, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "-help", "--help":
		return helpCommand(rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "sluice: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Sluice is a DynamoDB-compatible database in which every item change is a stream record.

Usage:
  sluice serve [flags]   start the server (DynamoDB API, change stream on NATS JetStream)
  sluice tail TABLE      print a table's changes as they happen (from its JetStream stream)
  sluice split-shard TABLE  split a table's shards in two (more stream shards, lineage kept)
  sluice triggers COMMAND   create, list, update, enable, disable, delete, redrive function triggers
  sluice sinks COMMAND      create, list, get, delete, pause, resume sinks (search, audit, analytics, replication)
  sluice search TABLE QUERY print the items of a table's search index that match a query
  sluice audit verify FILE  check an audit log's hash chain
  sluice version         print the version
  sluice help [command]  show help for a command

Run "sluice help serve" for the flags and their environment variables,
"sluice help tail" for where tail starts and what it prints.
`)
}

func helpCommand(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		usage(stdout)
	case args[0] == "serve":
		fs, _ := newServeFlags(stdout)
		fs.Usage()
	case args[0] == "tail":
		tailUsage(stdout)
	case args[0] == "split-shard":
		splitUsage(stdout)
	case args[0] == "triggers":
		triggersUsage(stdout)
	case args[0] == "audit":
		auditUsage(stdout)
	case args[0] == "sinks":
		sinksUsage(stdout)
	case args[0] == "search":
		searchUsage(stdout)
	case args[0] == "version" || args[0] == "help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "sluice: unknown command %q\n", args[0])
		return 2
	}
	return 0
}
