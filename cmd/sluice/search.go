package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
)

func searchUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: sluice search TABLE QUERY [--limit N] [--all] [--endpoint URL] [--region REGION]

Searches the full-text index of a table's search sink (sluice sinks create
--type search) and prints the matching items, best first, one DynamoDB JSON
object per line. QUERY is Bleve's query-string syntax: words ("red shoes"),
field:word (title:shoes), +required -excluded, field:>number, "a phrase".

Flags:
  --limit N         items per page, 1..100 (default 10)
  --all             follow the pages to the last match
  --consistent      wait until the index has every change committed before
                    the search (read-your-writes)
  --endpoint URL    the server (default http://127.0.0.1:8000)
  --region REGION   the region to sign for (default us-east-1)
`)
}

// searchCommand runs `sluice search`.
func searchCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { searchUsage(stderr) }
	limit := fs.Int("limit", 10, "")
	all := fs.Bool("all", false, "")
	consistent := fs.Bool("consistent", false, "")
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "")
	region := fs.String("region", "us-east-1", "")
	var pos []string
	for len(args) > 0 {
		if !strings.HasPrefix(args[0], "-") {
			pos, args = append(pos, args[0]), args[1:]
			continue
		}
		if err := fs.Parse(args); err != nil {
			return 2
		}
		args = fs.Args()
	}
	if len(pos) != 2 {
		searchUsage(stderr)
		return 2
	}
	next := ""
	for {
		body := map[string]any{"TableName": pos[0], "Query": pos[1], "Limit": *limit}
		if next != "" {
			body["Next"] = next
		}
		if *consistent {
			body["ConsistentRead"] = true
		}
		out, err := adminCall(*endpoint, *region, "Search", body)
		if err != nil {
			fmt.Fprintf(stderr, "sluice search: %v\n", err)
			return 1
		}
		var res struct {
			Items []json.RawMessage `json:"Items"`
			Next  string            `json:"Next"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			fmt.Fprintf(stderr, "sluice search: %v\n", err)
			return 1
		}
		for _, it := range res.Items {
			fmt.Fprintln(stdout, string(it))
		}
		if !*all || res.Next == "" {
			return 0
		}
		next = res.Next
	}
}
