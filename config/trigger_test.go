package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTriggerValidate(t *testing.T) {
	n := func(v int) *int { return &v }
	ts := time.Unix(1_800_000_000, 0)
	ok := Trigger{Name: "mail", Table: "Orders", Target: TargetLambda, URL: "http://f", StartingPosition: TrimHorizon}
	for _, tc := range []struct {
		name string
		mod  func(*Trigger)
		want string // "" valid, else a substring of the error
	}{
		{"minimal", func(*Trigger) {}, ""},
		{"every setting", func(t *Trigger) {
			t.Target, t.Mode, t.Secret = TargetCloudEvents, "structured", "k"
			t.BatchSize, t.MaximumBatchingWindowInSeconds, t.ParallelizationFactor = n(10000), n(300), n(10)
			t.MaximumRetryAttempts, t.MaximumRecordAgeInSeconds, t.TumblingWindowInSeconds = n(10000), n(604800), n(900)
			t.StartingPosition, t.StartingPositionTimestamp = AtTimestamp, &ts
			t.FunctionResponseTypes, t.OnFailure = []string{ReportBatchItemFailures}, "dlq"
			t.Filters = []string{"{}", "{}", "{}", "{}", "{}"}
		}, ""},
		{"infinite retries and age", func(t *Trigger) { t.MaximumRetryAttempts, t.MaximumRecordAgeInSeconds = n(-1), n(-1) }, ""},
		{"name", func(t *Trigger) { t.Name = "a b" }, "name:"},
		{"long name", func(t *Trigger) { t.Name = strings.Repeat("a", 65) }, "name:"},
		{"no table", func(t *Trigger) { t.Table = "" }, "table:"},
		{"target", func(t *Trigger) { t.Target = "sqs" }, "target:"},
		{"mode on lambda", func(t *Trigger) { t.Mode = "batched" }, "mode:"},
		{"mode", func(t *Trigger) { t.Target, t.Mode = TargetCloudEvents, "binary" }, "mode:"},
		{"no url", func(t *Trigger) { t.URL = "" }, "url:"},
		{"batch size 0", func(t *Trigger) { t.BatchSize = n(0) }, "batch-size:"},
		{"batch size 10001", func(t *Trigger) { t.BatchSize = n(10001) }, "batch-size:"},
		{"window", func(t *Trigger) { t.MaximumBatchingWindowInSeconds = n(301) }, "maximum-batching-window-in-seconds:"},
		{"parallelization", func(t *Trigger) { t.ParallelizationFactor = n(11) }, "parallelization-factor:"},
		{"retries", func(t *Trigger) { t.MaximumRetryAttempts = n(-2) }, "maximum-retry-attempts:"},
		{"record age 59", func(t *Trigger) { t.MaximumRecordAgeInSeconds = n(59) }, "maximum-record-age-in-seconds:"},
		{"record age 0", func(t *Trigger) { t.MaximumRecordAgeInSeconds = n(0) }, "maximum-record-age-in-seconds:"},
		{"tumbling", func(t *Trigger) { t.TumblingWindowInSeconds = n(901) }, "tumbling-window-in-seconds:"},
		{"no starting position", func(t *Trigger) { t.StartingPosition = "" }, "starting-position:"},
		{"starting position", func(t *Trigger) { t.StartingPosition = "EARLIEST" }, "starting-position:"},
		{"AT_TIMESTAMP without time", func(t *Trigger) { t.StartingPosition = AtTimestamp }, "starting-position-timestamp:"},
		{"time without AT_TIMESTAMP", func(t *Trigger) { t.StartingPositionTimestamp = &ts }, "starting-position-timestamp:"},
		{"response type", func(t *Trigger) { t.FunctionResponseTypes = []string{"Partial"} }, "function-response-types:"},
		{"dead-letter stream", func(t *Trigger) { t.OnFailure = "a.b" }, "on-failure:"},
		{"six filters", func(t *Trigger) { t.Filters = make([]string, 6) }, "filters:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := ok
			tc.mod(&tr)
			err := tr.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want an error about %s", err, tc.want)
			}
		})
	}
}

func TestTriggersInFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sluice.yaml")
	yaml := `triggers:
  - name: mail
    table: Orders
    target: lambda
    url: http://127.0.0.1:9000/2015-03-31/functions/function/invocations
    starting-position: TRIM_HORIZON
    batch-size: 10
    bisect-batch-on-function-error: true
    filters: ['{"eventName":["INSERT"]}']
  - name: mail
    table: Orders
    target: cloudevents
    url: http://hook
    starting-position: LATEST
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	if len(c.Triggers) != 2 || *c.Triggers[0].BatchSize != 10 || !c.Triggers[0].BisectBatchOnFunctionError ||
		c.Triggers[0].Filters[0] != `{"eventName":["INSERT"]}` {
		t.Fatalf("triggers: %+v", c.Triggers)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `name "mail" is used twice`) {
		t.Errorf("Validate = %v, want the duplicate name", err)
	}
}
