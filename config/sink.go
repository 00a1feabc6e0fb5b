package config

import (
	"errors"
	"fmt"
	"time"
)

// Sink types.
const (
	SinkSearch      = "search"
	SinkAnalytics   = "analytics"
	SinkAudit       = "audit"
	SinkReplication = "replication"
)

// Sink copies a table's changes to a destination (package sinks). The JSON
// names are what the admin operations take; the yaml keys and the CLI
// flags are the same names in kebab case.
type Sink struct {
	Name  string `yaml:"name" json:"Name"`
	Table string `yaml:"table" json:"TableName"`
	Type  string `yaml:"type" json:"Type"`
	// Filters are filter patterns, as a trigger's (at most 5, OR'ed).
	Filters []string `yaml:"filters,omitempty" json:"Filters,omitempty"`
	// StartingPosition: TRIM_HORIZON (the default), LATEST or AT_TIMESTAMP.
	// A search or replication sink starting at TRIM_HORIZON first copies
	// the table's items (a scan), then follows the stream from the point
	// the scan began.
	StartingPosition          string     `yaml:"starting-position,omitempty" json:"StartingPosition,omitempty"`
	StartingPositionTimestamp *time.Time `yaml:"starting-position-timestamp,omitempty" json:"StartingPositionTimestamp,omitempty"`
	BatchSize                 *int       `yaml:"batch-size,omitempty" json:"BatchSize,omitempty"`

	// Fields are the attributes a search sink indexes (top-level names).
	Fields []string `yaml:"fields,omitempty" json:"Fields,omitempty"`
	// Path is the directory of an audit or analytics sink's files.
	Path string `yaml:"path,omitempty" json:"Path,omitempty"`
	// TargetEndpoint, TargetTable (default: the same name) and TargetRegion
	// (default us-east-1) name a replication sink's destination; it signs
	// with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the server's
	// environment when set.
	TargetEndpoint string `yaml:"target-endpoint,omitempty" json:"TargetEndpoint,omitempty"`
	TargetTable    string `yaml:"target-table,omitempty" json:"TargetTable,omitempty"`
	TargetRegion   string `yaml:"target-region,omitempty" json:"TargetRegion,omitempty"`

	// Enabled: nil means true; pause sets it false.
	Enabled *bool `yaml:"enabled,omitempty" json:"Enabled,omitempty"`
}

// IsEnabled reports whether the sink runs.
func (s *Sink) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

// Validate checks a sink's settings; each error names the setting by its
// yaml key.
func (s *Sink) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf(key+": "+format, args...))
	}
	if !triggerName.MatchString(s.Name) {
		bad("name", "%q must be 1 to 64 letters, digits, '-' or '_'", s.Name)
	}
	if s.Table == "" {
		bad("table", "must be set")
	}
	switch s.Type {
	case SinkSearch:
		if len(s.Fields) == 0 {
			bad("fields", "a search sink needs the attributes to index")
		}
	case SinkAnalytics, SinkAudit:
		if s.Path == "" {
			bad("path", "an %s sink needs a directory", s.Type)
		}
	case SinkReplication:
		if s.TargetEndpoint == "" {
			bad("target-endpoint", "a replication sink needs the endpoint to write to")
		}
	default:
		bad("type", "%q is not search, analytics, audit or replication", s.Type)
	}
	switch s.StartingPosition {
	case "", TrimHorizon, Latest:
		if s.StartingPositionTimestamp != nil {
			bad("starting-position-timestamp", "applies to AT_TIMESTAMP only")
		}
	case AtTimestamp:
		if s.StartingPositionTimestamp == nil {
			bad("starting-position-timestamp", "must be set for AT_TIMESTAMP")
		}
	default:
		bad("starting-position", "%q is not TRIM_HORIZON, LATEST or AT_TIMESTAMP", s.StartingPosition)
	}
	if s.BatchSize != nil && (*s.BatchSize < 1 || *s.BatchSize > 10000) {
		bad("batch-size", "%d is not within 1..10000", *s.BatchSize)
	}
	if len(s.Filters) > MaxFilters {
		bad("filters", "%d patterns, at most %d", len(s.Filters), MaxFilters)
	}
	return errors.Join(errs...)
}
