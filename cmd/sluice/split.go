package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sluicedb/sluice/engine/dynamoapi"
)

func splitUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: sluice split-shard TABLE [--shard N] [--endpoint URL] [--region REGION]

Splits one of a table's shards (or, without --shard, every current shard) into
its two hash halves. Nothing moves: each half is already a contiguous key
range. Later changes of the items in each half go to the half's own shard,
with sequence numbers after the parent's; a DynamoDB stream shows the split as
DynamoDB Streams does (the parent's stream shard closes, each child's names it).
Prints the table's shard map after the split as JSON.

The request is signed with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when
set (any key works, as for every Sluice request).

Flags:
  --shard N         the internal shard id (the last 8 hex digits of a stream
                    shard id name it too); default: every current shard
  --endpoint URL    the server (default http://127.0.0.1:8000)
  --region REGION   the region to sign for (default us-east-1)
`)
}

// splitCommand runs `sluice split-shard`.
func splitCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("split-shard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { splitUsage(stderr) }
	shard := fs.Int64("shard", -1, "")
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "")
	region := fs.String("region", "us-east-1", "")
	var table string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		table, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if table == "" && fs.NArg() > 0 {
		table = fs.Arg(0)
	}
	if table == "" {
		splitUsage(stderr)
		return 2
	}
	body := map[string]any{"TableName": table}
	if *shard >= 0 {
		body["ShardId"] = *shard
	}
	out, err := adminCall(*endpoint, *region, "SplitShard", body)
	if err != nil {
		fmt.Fprintf(stderr, "sluice split-shard: %v\n", err)
		return 1
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Write(out)
	}
	fmt.Fprintln(stdout, pretty.String())
	return 0
}

// adminCall sends one of Sluice's own operations, signed with SigV4, and
// returns the response body; an error response is returned as an error
// naming its __type and message.
func adminCall(endpoint, region, op string, body any) ([]byte, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(endpoint, "/")+"/", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", dynamoapi.AdminTargetPrefix+op)
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" {
		key, secret = "sluice", "sluice"
	}
	sum := sha256.Sum256(payload)
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "dynamodb", region, time.Now()); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(out, &e)
		if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
			e.Type = e.Type[i+1:]
		}
		return nil, fmt.Errorf("%s: %s", e.Type, e.Message)
	}
	return out, nil
}
