package config

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Trigger targets.
const (
	// TargetLambda POSTs the Lambda DynamoDB event to a function's
	// invocation URL (the Lambda Runtime Interface Emulator's, for example).
	TargetLambda = "lambda"
	// TargetCloudEvents delivers CloudEvents to a webhook by the CloudEvents
	// HTTP binding.
	TargetCloudEvents = "cloudevents"
)

// Starting positions of a trigger (Lambda's StartingPosition).
const (
	TrimHorizon = "TRIM_HORIZON"
	Latest      = "LATEST"
	AtTimestamp = "AT_TIMESTAMP"
)

// ReportBatchItemFailures is the one FunctionResponseTypes value.
const ReportBatchItemFailures = "ReportBatchItemFailures"

// Trigger is a function trigger on a table's change stream: the settings of
// a Lambda event source mapping for DynamoDB Streams, with the function
// named by a URL. The JSON names are Lambda's (CreateEventSourceMapping),
// the yaml keys and the CLI flags are the same names in kebab case.
//
// Pointer fields distinguish "not set" (nil: the default) from zero.
type Trigger struct {
	Name  string `yaml:"name" json:"Name"`
	Table string `yaml:"table" json:"TableName"`
	// Target is TargetLambda or TargetCloudEvents; URL is where it is sent.
	Target string `yaml:"target" json:"Target"`
	URL    string `yaml:"url" json:"Url"`
	// Mode is the CloudEvents HTTP mode: "batched" (the default) or
	// "structured" (one request per record).
	Mode string `yaml:"mode,omitempty" json:"Mode,omitempty"`
	// Secret, for CloudEvents, signs each request (HMAC-SHA256).
	Secret string `yaml:"secret,omitempty" json:"Secret,omitempty"`

	BatchSize                      *int       `yaml:"batch-size,omitempty" json:"BatchSize,omitempty"`
	MaximumBatchingWindowInSeconds *int       `yaml:"maximum-batching-window-in-seconds,omitempty" json:"MaximumBatchingWindowInSeconds,omitempty"`
	StartingPosition               string     `yaml:"starting-position" json:"StartingPosition"`
	StartingPositionTimestamp      *time.Time `yaml:"starting-position-timestamp,omitempty" json:"StartingPositionTimestamp,omitempty"`
	ParallelizationFactor          *int       `yaml:"parallelization-factor,omitempty" json:"ParallelizationFactor,omitempty"`
	MaximumRetryAttempts           *int       `yaml:"maximum-retry-attempts,omitempty" json:"MaximumRetryAttempts,omitempty"`
	MaximumRecordAgeInSeconds      *int       `yaml:"maximum-record-age-in-seconds,omitempty" json:"MaximumRecordAgeInSeconds,omitempty"`
	BisectBatchOnFunctionError     bool       `yaml:"bisect-batch-on-function-error,omitempty" json:"BisectBatchOnFunctionError,omitempty"`
	FunctionResponseTypes          []string   `yaml:"function-response-types,omitempty" json:"FunctionResponseTypes,omitempty"`
	// OnFailure names the dead-letter JetStream stream that receives the
	// invocation record of each batch given up on (Lambda's
	// DestinationConfig.OnFailure); "" discards them.
	OnFailure string `yaml:"on-failure,omitempty" json:"OnFailure,omitempty"`
	// Filters are FilterCriteria patterns (at most 5, OR'ed).
	Filters                 []string `yaml:"filters,omitempty" json:"Filters,omitempty"`
	TumblingWindowInSeconds *int     `yaml:"tumbling-window-in-seconds,omitempty" json:"TumblingWindowInSeconds,omitempty"`
	// Enabled: nil means true.
	Enabled *bool `yaml:"enabled,omitempty" json:"Enabled,omitempty"`
}

// Trigger defaults (Lambda's for DynamoDB event source mappings).
const (
	DefaultBatchSize             = 100
	DefaultMaximumRetryAttempts  = -1 // until the record expires
	DefaultMaximumRecordAge      = -1 // until the record expires
	DefaultParallelizationFactor = 1
)

// MaxFilters is how many patterns a trigger's FilterCriteria may hold.
const MaxFilters = 5

var triggerName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Int returns *p, or def when p is nil.
func Int(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// IsEnabled reports whether the trigger runs.
func (t *Trigger) IsEnabled() bool { return t.Enabled == nil || *t.Enabled }

// ReportsItemFailures reports whether FunctionResponseTypes holds
// ReportBatchItemFailures.
func (t *Trigger) ReportsItemFailures() bool {
	for _, s := range t.FunctionResponseTypes {
		if s == ReportBatchItemFailures {
			return true
		}
	}
	return false
}

// Validate checks a trigger's settings against Lambda's limits for
// DynamoDB event source mappings. (The filter patterns' syntax is checked
// where they are compiled.) Each error names the setting by its yaml key.
func (t *Trigger) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf(key+": "+format, args...))
	}
	if !triggerName.MatchString(t.Name) {
		bad("name", "%q must be 1 to 64 letters, digits, '-' or '_'", t.Name)
	}
	if t.Table == "" {
		bad("table", "must be set")
	}
	switch t.Target {
	case TargetLambda:
		if t.Mode != "" {
			bad("mode", "applies to the cloudevents target only")
		}
	case TargetCloudEvents:
		switch t.Mode {
		case "", "batched", "structured":
		default:
			bad("mode", "%q is not batched or structured", t.Mode)
		}
	default:
		bad("target", "%q is not lambda or cloudevents", t.Target)
	}
	if t.URL == "" {
		bad("url", "must be set")
	}
	rng := func(key string, p *int, lo, hi int) {
		if p != nil && (*p < lo || *p > hi) {
			bad(key, "%d is not within %d..%d", *p, lo, hi)
		}
	}
	rng("batch-size", t.BatchSize, 1, 10000)
	rng("maximum-batching-window-in-seconds", t.MaximumBatchingWindowInSeconds, 0, 300)
	rng("parallelization-factor", t.ParallelizationFactor, 1, 10)
	rng("maximum-retry-attempts", t.MaximumRetryAttempts, -1, 10000)
	rng("tumbling-window-in-seconds", t.TumblingWindowInSeconds, 0, 900)
	if p := t.MaximumRecordAgeInSeconds; p != nil && *p != -1 && (*p < 60 || *p > 604800) {
		bad("maximum-record-age-in-seconds", "%d is not -1 or within 60..604800", *p)
	}
	switch t.StartingPosition {
	case TrimHorizon, Latest:
		if t.StartingPositionTimestamp != nil {
			bad("starting-position-timestamp", "applies to AT_TIMESTAMP only")
		}
	case AtTimestamp:
		if t.StartingPositionTimestamp == nil {
			bad("starting-position-timestamp", "must be set for AT_TIMESTAMP")
		}
	case "":
		bad("starting-position", "must be set (TRIM_HORIZON, LATEST or AT_TIMESTAMP)")
	default:
		bad("starting-position", "%q is not TRIM_HORIZON, LATEST or AT_TIMESTAMP", t.StartingPosition)
	}
	for _, s := range t.FunctionResponseTypes {
		if s != ReportBatchItemFailures {
			bad("function-response-types", "%q is not %s", s, ReportBatchItemFailures)
		}
	}
	if t.OnFailure != "" && !triggerName.MatchString(t.OnFailure) {
		bad("on-failure", "%q must be a stream name of 1 to 64 letters, digits, '-' or '_'", t.OnFailure)
	}
	if len(t.Filters) > MaxFilters {
		bad("filters", "%d patterns, at most %d", len(t.Filters), MaxFilters)
	}
	return errors.Join(errs...)
}
