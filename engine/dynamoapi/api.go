package dynamoapi

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/wire"
)

// Options configure Register. The zero value is usable.
type Options struct {
	Logger *slog.Logger // nil discards
	// Now is the clock for throughput and billing-mode change times; nil
	// means time.Now.
	Now func() time.Time
}

// targetPrefix is the X-Amz-Target prefix of the DynamoDB API.
const targetPrefix = "DynamoDB_20120810."

// api holds what every handler needs.
type api struct {
	e      *engine.Engine
	logger *slog.Logger
	now    func() time.Time
}

// Register installs every built operation on s.
func Register(s *wire.Server, e *engine.Engine, opts Options) {
	a := &api{e: e, logger: opts.Logger, now: opts.Now}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	for name, op := range map[string]wire.Op{
		"CreateTable":        a.createTable,
		"DescribeTable":      a.describeTable,
		"ListTables":         a.listTables,
		"DeleteTable":        a.deleteTable,
		"UpdateTable":        a.updateTable,
		"DescribeEndpoints":  a.describeEndpoints,
		"DescribeLimits":     a.describeLimits,
		"TagResource":        a.tagResource,
		"UntagResource":      a.untagResource,
		"ListTagsOfResource": a.listTagsOfResource,
		"PutItem":            a.putItem,
		"GetItem":            a.getItem,
		"DeleteItem":         a.deleteItem,
		"UpdateItem":         a.updateItem,
		"BatchWriteItem":     a.batchWriteItem,
		"BatchGetItem":       a.batchGetItem,
		"TransactWriteItems": a.transactWriteItems,
		"TransactGetItems":   a.transactGetItems,
		"UpdateTimeToLive":   a.updateTimeToLive,
		"DescribeTimeToLive": a.describeTimeToLive,
		"Query":              a.query,
		"Scan":               a.scan,
	} {
		s.Handle(targetPrefix+name, op)
	}
	s.Handle(AdminTargetPrefix+"SplitShard", a.splitShard)
}

// who is the identity a write records.
func who(req *wire.Request) event.Identity {
	return event.Identity{
		AccessKeyID: req.Identity.AccessKeyID,
		SourceAddr:  req.Identity.SourceAddr,
		RequestID:   req.RequestID,
	}
}

// msgNameRequired is the control-plane operations' answer to a missing
// TableName (the data plane uses the constraint form instead).
const msgNameRequired = "The parameter 'TableName' is required but was not present in the request"

// tableName checks a TableName member as every operation but CreateTable
// does (length 1 to 255, the name pattern), on its own: a bad name is
// reported alone, before any other member is looked at. A table ARN of this
// server names its table. controlPlane selects the wording for a missing
// name: DescribeTable, DeleteTable and UpdateTable say the parameter is
// required; the item operations use the constraint form.
func (a *api) tableName(s *string, controlPlane bool) (string, error) {
	if s == nil {
		if controlPlane {
			return "", attr.Invalid(msgNameRequired)
		}
		var v violations
		v.Null("tableName")
		return "", v.Err()
	}
	if strings.HasPrefix(*s, "arn:") {
		if name := a.e.TableNameFromARN(*s); name != "" {
			return name, nil
		}
	}
	var v violations
	v.Name("tableName", *s, 1, 255)
	return *s, v.Err()
}

// describeEndpoints answers DescribeEndpoints: this region's endpoint, to be
// cached for a day.
func (a *api) describeEndpoints(_ context.Context, req *wire.Request) (any, error) {
	var in struct{}
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	type endpoint struct {
		Address              string `json:"Address"`
		CachePeriodInMinutes int64  `json:"CachePeriodInMinutes"`
	}
	return struct {
		Endpoints []endpoint `json:"Endpoints"`
	}{[]endpoint{{Address: "dynamodb." + a.e.Region() + ".amazonaws.com", CachePeriodInMinutes: 1440}}}, nil
}

// DynamoDB's default account and table capacity quotas.
const (
	accountMaxCapacity = 80000
	tableMaxCapacity   = 40000
)

// describeLimits answers DescribeLimits with DynamoDB's default quotas.
func (a *api) describeLimits(_ context.Context, req *wire.Request) (any, error) {
	var in struct{}
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	return struct {
		AccountMaxReadCapacityUnits  int64 `json:"AccountMaxReadCapacityUnits"`
		AccountMaxWriteCapacityUnits int64 `json:"AccountMaxWriteCapacityUnits"`
		TableMaxReadCapacityUnits    int64 `json:"TableMaxReadCapacityUnits"`
		TableMaxWriteCapacityUnits   int64 `json:"TableMaxWriteCapacityUnits"`
	}{accountMaxCapacity, accountMaxCapacity, tableMaxCapacity, tableMaxCapacity}, nil
}
