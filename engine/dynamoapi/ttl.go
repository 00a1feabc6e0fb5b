package dynamoapi

import (
	"context"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/wire"
)

type ttlSpecIn struct {
	Enabled       *bool   `json:"Enabled"`
	AttributeName *string `json:"AttributeName"`
}

type ttlSpecOut struct {
	Enabled       bool   `json:"Enabled"`
	AttributeName string `json:"AttributeName"`
}

// Messages of UpdateTimeToLive's own checks (DynamoDB's, as DynamoDB Local
// and users' reports give them).
const (
	msgTTLAlreadyEnabled  = "TimeToLive is already enabled"
	msgTTLAlreadyDisabled = "TimeToLive is already disabled"
	msgTTLOtherAttribute  = "TimeToLive is active on a different AttributeName"
)

// updateTimeToLive answers UpdateTimeToLive: it enables or disables TTL on
// a table's attribute. The TTL reaper (consumers) then deletes the items
// whose attribute, a number of epoch seconds, has passed.
func (a *api) updateTimeToLive(_ context.Context, req *wire.Request) (any, error) {
	var in struct {
		TableName *string    `json:"TableName"`
		Spec      *ttlSpecIn `json:"TimeToLiveSpecification"`
	}
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	name, err := a.tableName(in.TableName, false)
	if err != nil {
		return nil, err
	}
	var v violations
	if v.Required("timeToLiveSpecification", in.Spec != nil) {
		v.Required("timeToLiveSpecification.enabled", in.Spec.Enabled != nil)
		if v.Required("timeToLiveSpecification.attributeName", in.Spec.AttributeName != nil) {
			v.Length("timeToLiveSpecification.attributeName", *in.Spec.AttributeName, 1, 255)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	enable, attrName := *in.Spec.Enabled, *in.Spec.AttributeName
	if _, err := a.e.UpdateTable(name, func(def *catalog.Table) error {
		switch {
		case def.TTL.Enabled && def.TTL.Attribute != attrName:
			return attr.Invalid(msgTTLOtherAttribute)
		case enable && def.TTL.Enabled:
			return attr.Invalid(msgTTLAlreadyEnabled)
		case !enable && !def.TTL.Enabled:
			return attr.Invalid(msgTTLAlreadyDisabled)
		}
		def.TTL = catalog.TTL{Enabled: enable, Attribute: attrName}
		if !enable {
			def.TTL = catalog.TTL{}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return struct {
		TimeToLiveSpecification ttlSpecOut `json:"TimeToLiveSpecification"`
	}{ttlSpecOut{Enabled: enable, AttributeName: attrName}}, nil
}

// describeTimeToLive answers DescribeTimeToLive.
func (a *api) describeTimeToLive(_ context.Context, req *wire.Request) (any, error) {
	var in struct {
		TableName *string `json:"TableName"`
	}
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	name, err := a.tableName(in.TableName, false)
	if err != nil {
		return nil, err
	}
	def := a.lookup(name)
	if def == nil {
		return nil, notFound()
	}
	type description struct {
		TimeToLiveStatus string `json:"TimeToLiveStatus"`
		AttributeName    string `json:"AttributeName,omitempty"`
	}
	d := description{TimeToLiveStatus: "DISABLED"}
	if def.TTL.Enabled {
		d = description{TimeToLiveStatus: "ENABLED", AttributeName: def.TTL.Attribute}
	}
	return struct {
		TimeToLiveDescription description `json:"TimeToLiveDescription"`
	}{d}, nil
}
