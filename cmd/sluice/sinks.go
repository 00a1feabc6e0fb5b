package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
)

func sinksUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: sluice sinks COMMAND [flags]

Sinks copy a table's changes somewhere else, in order per stream shard, with
durable checkpoints. They persist in the server (created here or in the config
file's "sinks" list).

Commands:
  create  --name N --table T --type TYPE [settings]
  get     --name N
  list    [--table T]
  delete  --name N          (what the sink wrote stays)
  pause   --name N          (keeps its checkpoint; resume continues from it)
  resume  --name N

Types and their settings:
  --type search       --fields a,b,c           full-text index of these attributes
  --type audit        --path DIR               hash-chained JSON Lines log, DIR/<table>.jsonl
  --type analytics    --path DIR               Parquet files per hour under DIR/<table>/
  --type replication  --target-endpoint URL [--target-table NAME] [--target-region R]
                                               apply the changes to another DynamoDB-compatible endpoint

Common settings:
  --filter PATTERN                      a filter pattern, as triggers take (repeatable, at most 5)
  --starting-position TRIM_HORIZON|LATEST|AT_TIMESTAMP
                                        default TRIM_HORIZON; search and replication
                                        sinks then copy the table's items first
  --starting-position-timestamp TIME    RFC 3339 or Unix seconds
  --batch-size N                        records per write, 1..10000 (default 500)
  --endpoint URL                        the server (default http://127.0.0.1:8000)
  --region REGION                       the region to sign for (default us-east-1)

Prints the server's answer as JSON.
`)
}

// sinksCommand runs `sluice sinks`.
func sinksCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		sinksUsage(stderr)
		return 2
	}
	sub, args := args[0], args[1:]
	ops := map[string]string{"create": "CreateSink", "get": "GetSink", "list": "ListSinks",
		"delete": "DeleteSink", "pause": "PauseSink", "resume": "ResumeSink"}
	op, ok := ops[sub]
	if !ok {
		fmt.Fprintf(stderr, "sluice sinks: unknown command %q\n\n", sub)
		sinksUsage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("sinks "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { sinksUsage(stderr) }
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "")
	region := fs.String("region", "us-east-1", "")
	name := fs.String("name", "", "")
	table := fs.String("table", "", "")
	strs := map[string]string{
		"type": "Type", "path": "Path", "target-endpoint": "TargetEndpoint", "target-table": "TargetTable",
		"target-region": "TargetRegion", "starting-position": "StartingPosition",
	}
	sv := map[string]*string{}
	for f := range strs {
		sv[f] = fs.String(f, "", "")
	}
	fields := fs.String("fields", "", "")
	ts := fs.String("starting-position-timestamp", "", "")
	batch := fs.Int("batch-size", 0, "")
	var filters repeated
	fs.Var(&filters, "filter", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sluice sinks %s: unexpected argument %q\n", sub, fs.Arg(0))
		return 2
	}
	body := map[string]any{}
	switch sub {
	case "list":
		if *table != "" {
			body["TableName"] = *table
		}
	default:
		if *name == "" {
			fmt.Fprintf(stderr, "sluice sinks %s: --name is required\n", sub)
			return 2
		}
		body["Name"] = *name
	}
	if sub == "create" {
		body["TableName"] = *table
		var err error
		fs.Visit(func(f *flag.Flag) {
			switch {
			case strs[f.Name] != "":
				body[strs[f.Name]] = *sv[f.Name]
			case f.Name == "fields":
				body["Fields"] = strings.Split(*fields, ",")
			case f.Name == "batch-size":
				body["BatchSize"] = *batch
			case f.Name == "filter":
				body["Filters"] = []string(filters)
			case f.Name == "starting-position-timestamp":
				t, perr := parseTime(*ts)
				if perr != nil {
					err = perr
				}
				body["StartingPositionTimestamp"] = t
			}
		})
		if err != nil {
			fmt.Fprintf(stderr, "sluice sinks create: %v\n", err)
			return 2
		}
	}
	out, err := adminCall(*endpoint, *region, op, body)
	if err != nil {
		fmt.Fprintf(stderr, "sluice sinks %s: %v\n", sub, err)
		return 1
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Write(out)
	}
	fmt.Fprintln(stdout, pretty.String())
	return 0
}
