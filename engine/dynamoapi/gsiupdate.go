package dynamoapi

import (
	"encoding/json"
	"slices"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// gsiUpdateIn is one element of UpdateTable's GlobalSecondaryIndexUpdates.
type gsiUpdateIn struct {
	Create *indexIn `json:"Create"`
	Delete *struct {
		IndexName *string `json:"IndexName"`
	} `json:"Delete"`
	Update *struct {
		IndexName             *string       `json:"IndexName"`
		ProvisionedThroughput *throughputIn `json:"ProvisionedThroughput"`
	} `json:"Update"`
}

// Messages of the GSI updates (DynamoDB's, as its users report them).
const (
	msgOneGSIUpdate   = "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table"
	msgGSIExists      = "Attempting to create an index which already exists"
	msgGSINotFound    = "Requested resource not found: Index: %s not found"
	msgGSIUpdateShape = "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Update or GlobalSecondaryIndexUpdate.Delete must be specified"
)

// parseGSIUpdates decodes and checks the members of GlobalSecondaryIndexUpdates.
func parseGSIUpdates(raw json.RawMessage, v *violations) ([]gsiUpdateIn, error) {
	var ups []gsiUpdateIn
	if err := json.Unmarshal(raw, &ups); err != nil {
		return nil, attr.Invalid("Invalid GlobalSecondaryIndexUpdates")
	}
	for _, u := range ups {
		if u.Create != nil {
			checkIndexMembers(v, "globalSecondaryIndexUpdates.1.member.create", []indexIn{*u.Create}, true)
		}
		if u.Delete != nil && v.Required("globalSecondaryIndexUpdates.1.member.delete.indexName", u.Delete.IndexName != nil) {
			v.Name("globalSecondaryIndexUpdates.1.member.delete.indexName", *u.Delete.IndexName, 3, 255)
		}
	}
	return ups, nil
}

// applyGSIUpdates applies checked GSI updates to a table definition: a
// Create adds the GSI as CREATING and backfilling (the GSI indexer fills it
// and makes it ACTIVE), a Delete removes it (the engine deletes its
// entries), an Update changes its throughput. attrs are the request's
// AttributeDefinitions, which a Create may need.
func applyGSIUpdates(def *catalog.Table, ups []gsiUpdateIn, attrs []attrDefIn) error {
	if len(ups) != 1 {
		return attr.Errorf(engine.ErrLimitExceeded, msgOneGSIUpdate)
	}
	u := ups[0]
	n := 0
	for _, set := range []bool{u.Create != nil, u.Delete != nil, u.Update != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return attr.Invalid(msgGSIUpdateShape)
	}
	find := func(name string) int {
		return slices.IndexFunc(def.GSIs, func(ix catalog.Index) bool { return ix.Name == name })
	}
	switch {
	case u.Create != nil:
		x := *u.Create
		for _, a := range attrs {
			if a.AttributeName == nil || a.AttributeType == nil {
				continue
			}
			if def.AttrType(*a.AttributeName) == attr.TypeInvalid {
				def.AttributeDefinitions = append(def.AttributeDefinitions, catalog.AttributeDefinition{Name: *a.AttributeName, Type: *a.AttributeType})
			}
		}
		var defined []string
		for _, d := range def.AttributeDefinitions {
			defined = append(defined, d.Name)
		}
		if find(*x.IndexName) >= 0 || slices.ContainsFunc(def.LSIs, func(ix catalog.Index) bool { return ix.Name == *x.IndexName }) {
			return attr.Invalid(paramsInvalid + msgGSIExists)
		}
		if len(def.GSIs) >= maxGSIs {
			return attr.Errorf(engine.ErrLimitExceeded, "GSI limit exceeded: a table can have at most %d global secondary indexes", maxGSIs)
		}
		if err := checkIndex(x, defined, map[string]bool{}, "", def.BillingMode); err != nil {
			return err
		}
		ix := buildIndex(x)
		if x.ProvisionedThroughput != nil {
			ix.Throughput = &catalog.Throughput{Read: *x.ProvisionedThroughput.ReadCapacityUnits, Write: *x.ProvisionedThroughput.WriteCapacityUnits}
		}
		ix.Status = catalog.StatusCreating
		ix.Backfilling = true
		ix.Ord = def.NextGSIOrd
		if ix.Ord < uint8(len(def.GSIs)) { // a table created before ordinals were kept
			ix.Ord = uint8(len(def.GSIs))
		}
		def.NextGSIOrd = ix.Ord + 1
		def.GSIs = append(def.GSIs, ix)
	case u.Delete != nil:
		i := find(*u.Delete.IndexName)
		if i < 0 {
			return attr.Errorf(engine.ErrTableNotFound, msgGSINotFound, *u.Delete.IndexName)
		}
		def.GSIs = slices.Delete(def.GSIs, i, i+1)
	case u.Update != nil:
		if u.Update.IndexName == nil {
			return attr.Invalid(msgGSIUpdateShape)
		}
		i := find(*u.Update.IndexName)
		if i < 0 {
			return attr.Errorf(engine.ErrTableNotFound, msgGSINotFound, *u.Update.IndexName)
		}
		if pt := u.Update.ProvisionedThroughput; pt != nil {
			if err := throughputBounds(pt); err != nil {
				return err
			}
			def.GSIs[i].Throughput = &catalog.Throughput{Read: *pt.ReadCapacityUnits, Write: *pt.WriteCapacityUnits}
		}
	}
	return nil
}
