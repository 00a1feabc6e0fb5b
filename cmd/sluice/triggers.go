package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice/config"
)

func triggersUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: sluice triggers COMMAND [flags]

Function triggers deliver a table's changes to a function in batches, with the
semantics of a Lambda event source mapping for DynamoDB Streams. They persist
in the server (created here or in the config file's "triggers" list).

Commands:
  create   --name N --table T --target lambda|cloudevents --url URL
           --starting-position TRIM_HORIZON|LATEST|AT_TIMESTAMP [settings]
  update   --name N [settings to change]
  get      --name N
  list     [--table T]
  delete   --name N
  enable   --name N
  disable  --name N          (keeps its checkpoint; enable resumes from it)
  redrive  --name N          (delivers its dead-lettered batches again)

Settings (Lambda's names in kebab case):
  --batch-size N                            1..10000 (default 100)
  --maximum-batching-window-in-seconds N    0..300 (default 0)
  --starting-position-timestamp TIME        for AT_TIMESTAMP: RFC 3339 or Unix seconds
  --parallelization-factor N                1..10 (default 1); per-item order is kept
  --maximum-retry-attempts N                -1 (default: until the record expires)..10000
  --maximum-record-age-in-seconds N         -1 (default) or 60..604800
  --bisect-batch-on-function-error          split a failed batch in two and retry
  --function-response-types ReportBatchItemFailures
  --report-batch-item-failures              the same
  --on-failure STREAM                       dead-letter JetStream stream for batches given up on
  --filter PATTERN                          a filter pattern (repeatable, at most 5)
  --tumbling-window-in-seconds N            0..900
  --mode batched|structured                 CloudEvents HTTP mode (default batched)
  --secret S                                CloudEvents: HMAC-SHA256 signing key
  --enabled=false                           create it disabled

Common flags:
  --endpoint URL    the server (default http://127.0.0.1:8000)
  --region REGION   the region to sign for (default us-east-1)

Prints the server's answer as JSON.
`)
}

// triggersCommand runs `sluice triggers`.
func triggersCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		triggersUsage(stderr)
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("triggers "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { triggersUsage(stderr) }
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "")
	region := fs.String("region", "us-east-1", "")
	name := fs.String("name", "", "")
	table := fs.String("table", "", "")
	var op string
	settings := false
	switch sub {
	case "create":
		op, settings = "CreateTrigger", true
	case "update":
		op, settings = "UpdateTrigger", true
	case "get":
		op = "GetTrigger"
	case "list":
		op = "ListTriggers"
	case "delete":
		op = "DeleteTrigger"
	case "enable":
		op = "EnableTrigger"
	case "disable":
		op = "DisableTrigger"
	case "redrive":
		op = "RedriveTrigger"
	default:
		fmt.Fprintf(stderr, "sluice triggers: unknown command %q\n\n", sub)
		triggersUsage(stderr)
		return 2
	}
	var set func() (map[string]any, error)
	if settings {
		set = triggerSettingFlags(fs)
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sluice triggers %s: unexpected argument %q\n", sub, fs.Arg(0))
		return 2
	}
	body := map[string]any{}
	if sub == "list" {
		if *table != "" {
			body["TableName"] = *table
		}
	} else {
		if *name == "" {
			fmt.Fprintf(stderr, "sluice triggers %s: --name is required\n", sub)
			return 2
		}
		body["Name"] = *name
	}
	if settings {
		if *table != "" {
			body["TableName"] = *table
		}
		more, err := set()
		if err != nil {
			fmt.Fprintf(stderr, "sluice triggers %s: %v\n", sub, err)
			return 2
		}
		for k, v := range more {
			body[k] = v
		}
	}
	out, err := adminCall(*endpoint, *region, op, body)
	if err != nil {
		fmt.Fprintf(stderr, "sluice triggers %s: %v\n", sub, err)
		return 1
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Write(out)
	}
	fmt.Fprintln(stdout, pretty.String())
	return 0
}

// repeated is a flag that may be given more than once.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(s string) error { *r = append(*r, s); return nil }

// triggerSettingFlags defines the trigger settings' flags on fs and returns
// a function that, after parsing, gives the members of the flags that were
// set, by their JSON names (config.Trigger's).
func triggerSettingFlags(fs *flag.FlagSet) func() (map[string]any, error) {
	strs := map[string]string{
		"target": "Target", "url": "Url", "mode": "Mode", "secret": "Secret",
		"starting-position": "StartingPosition", "on-failure": "OnFailure",
	}
	ints := map[string]string{
		"batch-size":                         "BatchSize",
		"maximum-batching-window-in-seconds": "MaximumBatchingWindowInSeconds",
		"parallelization-factor":             "ParallelizationFactor",
		"maximum-retry-attempts":             "MaximumRetryAttempts",
		"maximum-record-age-in-seconds":      "MaximumRecordAgeInSeconds",
		"tumbling-window-in-seconds":         "TumblingWindowInSeconds",
	}
	bools := map[string]string{"bisect-batch-on-function-error": "BisectBatchOnFunctionError", "enabled": "Enabled"}
	sv := map[string]*string{}
	for f := range strs {
		sv[f] = fs.String(f, "", "")
	}
	iv := map[string]*int{}
	for f := range ints {
		iv[f] = fs.Int(f, 0, "")
	}
	bv := map[string]*bool{}
	for f := range bools {
		bv[f] = fs.Bool(f, f == "enabled", "")
	}
	ts := fs.String("starting-position-timestamp", "", "")
	rbif := fs.Bool("report-batch-item-failures", false, "")
	var filters, responseTypes repeated
	fs.Var(&filters, "filter", "")
	fs.Var(&responseTypes, "function-response-types", "")
	return func() (map[string]any, error) {
		out := map[string]any{}
		var err error
		fs.Visit(func(f *flag.Flag) {
			switch {
			case strs[f.Name] != "":
				out[strs[f.Name]] = *sv[f.Name]
			case ints[f.Name] != "":
				out[ints[f.Name]] = *iv[f.Name]
			case bools[f.Name] != "":
				out[bools[f.Name]] = *bv[f.Name]
			case f.Name == "starting-position-timestamp":
				var t time.Time
				if t, err = parseTime(*ts); err == nil {
					out["StartingPositionTimestamp"] = t
				}
			case f.Name == "filter":
				out["Filters"] = []string(filters)
			case f.Name == "function-response-types":
				out["FunctionResponseTypes"] = []string(responseTypes)
			case f.Name == "report-batch-item-failures":
				if *rbif {
					out["FunctionResponseTypes"] = []string{config.ReportBatchItemFailures}
				} else {
					out["FunctionResponseTypes"] = []string{}
				}
			}
		})
		return out, err
	}
}

// parseTime reads RFC 3339 or Unix seconds.
func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		sec := int64(n)
		return time.Unix(sec, int64((n-float64(sec))*1e9)).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--starting-position-timestamp: %q is neither RFC 3339 nor Unix seconds", s)
	}
	return t, nil
}
