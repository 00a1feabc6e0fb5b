package dynamoapi

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/wire"
)

type tableNameIn struct {
	TableName *string `json:"TableName"`
}

// describeTable answers DescribeTable.
func (a *api) describeTable(_ context.Context, req *wire.Request) (any, error) {
	var in tableNameIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	name, err := a.tableName(in.TableName, true)
	if err != nil {
		return nil, err
	}
	info, err := a.e.DescribeTable(name)
	if err != nil {
		return nil, err
	}
	return struct {
		Table tableDescription `json:"Table"`
	}{a.describe(info)}, nil
}

// deleteTable answers DeleteTable. The engine refuses tables protected
// against deletion.
func (a *api) deleteTable(_ context.Context, req *wire.Request) (any, error) {
	var in tableNameIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	name, err := a.tableName(in.TableName, true)
	if err != nil {
		return nil, err
	}
	info, err := a.e.DeleteTable(name)
	if err != nil {
		return nil, err
	}
	return struct {
		TableDescription tableDescription `json:"TableDescription"`
	}{a.describe(info)}, nil
}

type listTablesIn struct {
	ExclusiveStartTableName *string `json:"ExclusiveStartTableName"`
	Limit                   *int64  `json:"Limit"`
}

// maxListTables is ListTables' default and largest page.
const maxListTables = 100

// listTables answers ListTables: names in ascending order, a page at a
// time, LastEvaluatedTableName only when more names follow.
func (a *api) listTables(_ context.Context, req *wire.Request) (any, error) {
	var in listTablesIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	var v violations
	if s := in.ExclusiveStartTableName; s != nil {
		v.Name("exclusiveStartTableName", *s, 3, 255)
	}
	v.RangeInt("limit", in.Limit, 1, maxListTables)
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := maxListTables
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	names := a.e.ListTables() // sorted
	if s := in.ExclusiveStartTableName; s != nil {
		names = names[sort.SearchStrings(names, *s+"\x00"):]
	}
	type out struct {
		TableNames             []string `json:"TableNames"`
		LastEvaluatedTableName string   `json:"LastEvaluatedTableName,omitempty"`
	}
	if len(names) > limit {
		return out{TableNames: names[:limit], LastEvaluatedTableName: names[limit-1]}, nil
	}
	return out{TableNames: names}, nil
}

type updateTableIn struct {
	TableName                   *string         `json:"TableName"`
	AttributeDefinitions        []attrDefIn     `json:"AttributeDefinitions"`
	BillingMode                 *string         `json:"BillingMode"`
	ProvisionedThroughput       *throughputIn   `json:"ProvisionedThroughput"`
	DeletionProtectionEnabled   *bool           `json:"DeletionProtectionEnabled"`
	TableClass                  *string         `json:"TableClass"`
	StreamSpecification         *streamSpecIn   `json:"StreamSpecification"`
	GlobalSecondaryIndexUpdates json.RawMessage `json:"GlobalSecondaryIndexUpdates"`
	SSESpecification            json.RawMessage `json:"SSESpecification"`
	ReplicaUpdates              json.RawMessage `json:"ReplicaUpdates"`
}

// msgNothingToUpdate is DynamoDB's answer to an UpdateTable that asks for
// no change.
const msgNothingToUpdate = "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"

// updateTable answers UpdateTable for billing mode, throughput, deletion
// protection, table class and the stream. Index, encryption and replica
// updates come later and are refused.
func (a *api) updateTable(_ context.Context, req *wire.Request) (any, error) {
	var in updateTableIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	name, err := a.tableName(in.TableName, true)
	if err != nil {
		return nil, err
	}
	var v violations
	v.Enum("billingMode", in.BillingMode, enumBillingMode)
	checkThroughputMembers(&v, "provisionedThroughput", in.ProvisionedThroughput)
	v.Enum("tableClass", in.TableClass, enumTableClass)
	if s := in.StreamSpecification; s != nil {
		v.Required("streamSpecification.streamEnabled", s.StreamEnabled != nil)
		v.Enum("streamSpecification.streamViewType", s.StreamViewType, enumStreamViewType)
	}
	var gsiUpdates []gsiUpdateIn
	if present(in.GlobalSecondaryIndexUpdates) {
		if gsiUpdates, err = parseGSIUpdates(in.GlobalSecondaryIndexUpdates, &v); err != nil {
			return nil, err
		}
		if len(gsiUpdates) == 0 {
			gsiUpdates = nil // an empty list updates nothing
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name string
		raw  json.RawMessage
	}{
		{"SSESpecification", in.SSESpecification},
		{"ReplicaUpdates", in.ReplicaUpdates},
	} {
		if present(p.raw) {
			return nil, notSupported(p.name)
		}
	}
	if in.BillingMode == nil && in.ProvisionedThroughput == nil && in.DeletionProtectionEnabled == nil &&
		in.TableClass == nil && in.StreamSpecification == nil && gsiUpdates == nil {
		return nil, attr.Invalid(msgNothingToUpdate)
	}
	if s := in.StreamSpecification; s != nil {
		if err := checkStream(s); err != nil {
			return nil, err
		}
	}
	if pt := in.ProvisionedThroughput; pt != nil {
		if err := throughputBounds(pt); err != nil {
			return nil, err
		}
	}
	now := a.now()
	info, err := a.e.UpdateTable(name, func(def *catalog.Table) error {
		if gsiUpdates != nil {
			if err := applyGSIUpdates(def, gsiUpdates, in.AttributeDefinitions); err != nil {
				return err
			}
		}
		return applyTableUpdate(def, &in, now)
	})
	if err != nil {
		return nil, err
	}
	return struct {
		TableDescription tableDescription `json:"TableDescription"`
	}{a.describe(info)}, nil
}

// present reports whether a raw member was sent (and is not null).
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}
