package dynamoapi

import (
	"context"
	"slices"
	"strconv"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/wire"
)

// Request members shared by the table operations. Pointers and nil slices
// tell a missing member from a zero one.
type (
	keyElementIn struct {
		AttributeName *string `json:"AttributeName"`
		KeyType       *string `json:"KeyType"`
	}
	attrDefIn struct {
		AttributeName *string `json:"AttributeName"`
		AttributeType *string `json:"AttributeType"`
	}
	throughputIn struct {
		ReadCapacityUnits  *int64 `json:"ReadCapacityUnits"`
		WriteCapacityUnits *int64 `json:"WriteCapacityUnits"`
	}
	projectionIn struct {
		ProjectionType   *string  `json:"ProjectionType"`
		NonKeyAttributes []string `json:"NonKeyAttributes"`
	}
	indexIn struct {
		IndexName             *string        `json:"IndexName"`
		KeySchema             []keyElementIn `json:"KeySchema"`
		Projection            *projectionIn  `json:"Projection"`
		ProvisionedThroughput *throughputIn  `json:"ProvisionedThroughput"` // GSIs only
	}
	streamSpecIn struct {
		StreamEnabled  *bool   `json:"StreamEnabled"`
		StreamViewType *string `json:"StreamViewType"`
	}
	tagIn struct {
		Key   *string `json:"Key"`
		Value *string `json:"Value"`
	}
)

type createTableIn struct {
	TableName                 *string        `json:"TableName"`
	AttributeDefinitions      []attrDefIn    `json:"AttributeDefinitions"`
	KeySchema                 []keyElementIn `json:"KeySchema"`
	LocalSecondaryIndexes     []indexIn      `json:"LocalSecondaryIndexes"`
	GlobalSecondaryIndexes    []indexIn      `json:"GlobalSecondaryIndexes"`
	BillingMode               *string        `json:"BillingMode"`
	ProvisionedThroughput     *throughputIn  `json:"ProvisionedThroughput"`
	StreamSpecification       *streamSpecIn  `json:"StreamSpecification"`
	Tags                      []tagIn        `json:"Tags"`
	TableClass                *string        `json:"TableClass"`
	DeletionProtectionEnabled *bool          `json:"DeletionProtectionEnabled"`
}

// Limits on table definitions.
const (
	maxLSIs       = 5
	maxGSIs       = 20
	maxTags       = 50
	maxThroughput = 1_000_000_000_000 // DynamoDB's "out of bounds" limit
)

// createTable answers CreateTable.
func (a *api) createTable(_ context.Context, req *wire.Request) (any, error) {
	var in createTableIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	def, err := checkCreateTable(&in)
	if err != nil {
		return nil, err
	}
	info, err := a.e.CreateTable(def)
	if err != nil {
		return nil, err
	}
	return struct {
		TableDescription tableDescription `json:"TableDescription"`
	}{a.describe(info)}, nil
}

// checkCreateTable validates a CreateTable request in DynamoDB's order and
// builds the table definition.
func checkCreateTable(in *createTableIn) (*catalog.Table, error) {
	// 1. The table name, alone.
	if in.TableName == nil {
		return nil, attr.Invalid(msgNameRequired)
	}
	var v violations
	v.Name("tableName", *in.TableName, 3, 255)
	if err := v.Err(); err != nil {
		return nil, err
	}

	// 2. Member constraints, aggregated.
	v.Enum("billingMode", in.BillingMode, enumBillingMode)
	checkThroughputMembers(&v, "provisionedThroughput", in.ProvisionedThroughput)
	checkKeySchemaMembers(&v, "keySchema", in.KeySchema, true, 2)
	if v.Required("attributeDefinitions", in.AttributeDefinitions != nil) {
		for i, d := range in.AttributeDefinitions {
			p := "attributeDefinitions." + strconv.Itoa(i+1) + ".member."
			if v.Required(p+"attributeName", d.AttributeName != nil) {
				v.Length(p+"attributeName", *d.AttributeName, 1, 255)
			}
			v.RequiredEnum(p+"attributeType", d.AttributeType, enumAttributeType)
		}
	}
	// The GSIs before the LSIs, whatever the request's order (recorded from
	// DynamoDB).
	checkIndexMembers(&v, "globalSecondaryIndexes", in.GlobalSecondaryIndexes, true)
	checkIndexMembers(&v, "localSecondaryIndexes", in.LocalSecondaryIndexes, false)
	if s := in.StreamSpecification; s != nil {
		v.Required("streamSpecification.streamEnabled", s.StreamEnabled != nil)
		v.Enum("streamSpecification.streamViewType", s.StreamViewType, enumStreamViewType)
	}
	checkTagMembers(&v, "tags", in.Tags)
	v.Enum("tableClass", in.TableClass, enumTableClass)
	if err := v.Err(); err != nil {
		return nil, err
	}

	// 3. Billing mode and throughput.
	mode := catalog.Provisioned
	if in.BillingMode != nil {
		mode = *in.BillingMode
	}
	pt := in.ProvisionedThroughput
	if mode == catalog.PayPerRequest {
		if pt != nil {
			return nil, attr.Invalid(paramsInvalid + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
	} else {
		if pt == nil {
			return nil, attr.Invalid(paramsInvalid + "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		if err := throughputBounds(pt); err != nil {
			return nil, err
		}
	}

	// 4. The key schema against the attribute definitions.
	defined := make([]string, len(in.AttributeDefinitions))
	for i, d := range in.AttributeDefinitions {
		defined[i] = *d.AttributeName
	}
	if err := checkKeySchema(in.KeySchema, defined, len(in.KeySchema) > len(defined), false); err != nil {
		return nil, err
	}
	indexed := in.LocalSecondaryIndexes != nil || in.GlobalSecondaryIndexes != nil
	if !indexed && len(in.KeySchema) != len(in.AttributeDefinitions) {
		return nil, attr.Invalid(paramsInvalid + "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}

	// 5. Secondary indexes.
	names := map[string]bool{}
	used := keyNames(in.KeySchema)
	if in.LocalSecondaryIndexes != nil {
		if len(in.LocalSecondaryIndexes) == 0 {
			return nil, attr.Invalid(paramsInvalid + "List of LocalSecondaryIndexes is empty")
		}
		if len(in.KeySchema) != 2 {
			return nil, attr.Invalid(paramsInvalid + "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
		}
		for _, x := range in.LocalSecondaryIndexes {
			if err := checkIndex(x, defined, names, *in.KeySchema[0].AttributeName, mode); err != nil {
				return nil, err
			}
			used = appendNew(used, keyNames(x.KeySchema)...)
		}
		if len(in.LocalSecondaryIndexes) > maxLSIs {
			return nil, attr.Invalid(paramsInvalid+"Number of LocalSecondaryIndexes exceeds per-table limit of %d", maxLSIs)
		}
	}
	if in.GlobalSecondaryIndexes != nil {
		if len(in.GlobalSecondaryIndexes) == 0 {
			return nil, attr.Invalid(paramsInvalid + "List of GlobalSecondaryIndexes is empty")
		}
		for _, x := range in.GlobalSecondaryIndexes {
			if err := checkIndex(x, defined, names, "", mode); err != nil {
				return nil, err
			}
			used = appendNew(used, keyNames(x.KeySchema)...)
		}
		if len(in.GlobalSecondaryIndexes) > maxGSIs {
			return nil, attr.Invalid(paramsInvalid+"GlobalSecondaryIndex count exceeds the per-table limit of %d", maxGSIs)
		}
	}
	if indexed && len(used) != len(in.AttributeDefinitions) {
		return nil, attr.Invalid(paramsInvalid+"Some AttributeDefinitions are not used. AttributeDefinitions: %s, keys used: %s",
			javaList(defined), javaList(used))
	}

	// 6. Stream and tags.
	if s := in.StreamSpecification; s != nil {
		if err := checkStream(s); err != nil {
			return nil, err
		}
	}
	if len(in.Tags) > maxTags {
		return nil, attr.Invalid(paramsInvalid+"The number of tags exceeds the limit of %d", maxTags)
	}

	return buildTable(in, mode), nil
}

// checkThroughputMembers checks a ProvisionedThroughput member's members.
func checkThroughputMembers(v *violations, path string, pt *throughputIn) {
	if pt == nil {
		return
	}
	if v.Required(path+".writeCapacityUnits", pt.WriteCapacityUnits != nil) {
		v.RangeInt(path+".writeCapacityUnits", pt.WriteCapacityUnits, 1, 0)
	}
	if v.Required(path+".readCapacityUnits", pt.ReadCapacityUnits != nil) {
		v.RangeInt(path+".readCapacityUnits", pt.ReadCapacityUnits, 1, 0)
	}
}

// throughputBounds is DynamoDB's upper limit on provisioned units.
func throughputBounds(pt *throughputIn) error {
	if r := *pt.ReadCapacityUnits; r > maxThroughput {
		return attr.Invalid("Given value %d for ReadCapacityUnits is out of bounds", r)
	}
	if w := *pt.WriteCapacityUnits; w > maxThroughput {
		return attr.Invalid("Given value %d for WriteCapacityUnits is out of bounds", w)
	}
	return nil
}

// checkKeySchemaMembers checks a KeySchema list's constraints; keyTypes says
// whether KeyType values are checked against [HASH, RANGE] here (the
// table's) or later (an index's); maxLen is 2, or maxGSIKeyAttrs for a
// GSI's.
func checkKeySchemaMembers(v *violations, path string, ks []keyElementIn, keyTypes bool, maxLen int) {
	if !v.Required(path, ks != nil) {
		return
	}
	v.ListLength(path, renderKeySchema(ks), len(ks), 1, maxLen)
	for i, k := range ks {
		p := path + "." + strconv.Itoa(i+1) + ".member."
		if v.Required(p+"attributeName", k.AttributeName != nil) {
			v.Length(p+"attributeName", *k.AttributeName, 1, 255)
		}
		if keyTypes {
			v.RequiredEnum(p+"keyType", k.KeyType, enumKeyType)
		} else {
			v.Required(p+"keyType", k.KeyType != nil)
		}
	}
}

// renderKeySchema renders a key schema as Java's toString does in
// constraint messages.
func renderKeySchema(ks []keyElementIn) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = "KeySchemaElement(attributeName=" + strOrNull(k.AttributeName) + ", keyType=" + strOrNull(k.KeyType) + ")"
	}
	return javaList(parts)
}

func strOrNull(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

// checkIndexMembers checks the constraints of a list of index definitions.
func checkIndexMembers(v *violations, path string, xs []indexIn, global bool) {
	for i, x := range xs {
		p := path + "." + strconv.Itoa(i+1) + ".member."
		if v.Required(p+"indexName", x.IndexName != nil) {
			v.Name(p+"indexName", *x.IndexName, 3, 255)
		}
		maxLen := 2
		if global {
			maxLen = 2 * maxGSIKeyAttrs
		}
		checkKeySchemaMembers(v, p+"keySchema", x.KeySchema, false, maxLen)
		if v.Required(p+"projection", x.Projection != nil) {
			v.Enum(p+"projection.projectionType", x.Projection.ProjectionType, enumProjectionType)
			if nk := x.Projection.NonKeyAttributes; nk != nil {
				v.ListLength(p+"projection.nonKeyAttributes", javaList(nk), len(nk), 1, 20)
			}
		}
		if global {
			checkThroughputMembers(v, p+"provisionedThroughput", x.ProvisionedThroughput)
		}
	}
}

// checkTagMembers checks a Tags list's constraints.
func checkTagMembers(v *violations, path string, tags []tagIn) {
	for i, t := range tags {
		p := path + "." + strconv.Itoa(i+1) + ".member."
		if v.Required(p+"key", t.Key != nil) {
			v.Length(p+"key", *t.Key, 1, 128)
		}
		if v.Required(p+"value", t.Value != nil) {
			v.Length(p+"value", *t.Value, 0, 256)
		}
	}
}

// maxGSIKeyAttrs is the most attributes a GSI's partition key, and its sort
// key, can each have (multi-attribute keys).
const maxGSIKeyAttrs = 4

// checkKeySchema checks a key schema's structure against the defined
// attributes: every key defined, HASH then RANGE, distinct names.
// tooMany is DynamoDB's shortcut for a key schema naming more attributes
// than are defined. multi allows a GSI's multi-attribute keys.
func checkKeySchema(ks []keyElementIn, defined []string, tooMany, multi bool) error {
	if tooMany {
		return attr.Invalid("Invalid KeySchema: Some index key attribute have no definition")
	}
	keys := keyNames(ks)
	for _, k := range keys {
		if !slices.Contains(defined, k) {
			return attr.Invalid(paramsInvalid+"Some index key attributes are not defined in AttributeDefinitions. Keys: %s, AttributeDefinitions: %s",
				javaList(keys), javaList(defined))
		}
	}
	if len(ks) == 2 && *ks[0].AttributeName == *ks[1].AttributeName && (!multi || *ks[1].KeyType != "HASH") {
		return attr.Invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name")
	}
	if multi && len(appendNew(nil, keys...)) != len(keys) {
		return attr.Invalid("The KeySchema contains multiple key attributes with the same name")
	}
	if *ks[0].KeyType != "HASH" {
		return attr.Invalid("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
	}
	if !multi || len(ks) == 2 {
		if len(ks) == 2 && *ks[1].KeyType != "RANGE" && (!multi || *ks[1].KeyType != "HASH") {
			return attr.Invalid("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
	}
	if multi {
		return checkMultiKeySchema(ks)
	}
	return nil
}

// checkMultiKeySchema checks the order and the counts of a GSI's key
// attributes: one to four HASH attributes, then up to four RANGE ones.
// The messages are DynamoDB's as its users report them; which check comes
// first, and the words for a KeyType that is neither HASH nor RANGE past
// the second element, are Sluice's choice.
func checkMultiKeySchema(ks []keyElementIn) error {
	hashes, ranges := 0, 0
	for _, k := range ks {
		switch *k.KeyType {
		case "HASH":
			if ranges > 0 {
				return attr.Invalid(paramsInvalid + "All HASH key attributes must precede RANGE key attributes in the KeySchema")
			}
			hashes++
		case "RANGE":
			ranges++
		default:
			return attr.Invalid(paramsInvalid+"Invalid KeyType in the KeySchema: %s; the KeyType must be HASH or RANGE", *k.KeyType)
		}
	}
	if hashes > maxGSIKeyAttrs {
		return attr.Invalid(paramsInvalid + "The KeySchema exceeds the maximum allowed number of HASH key attributes")
	}
	if ranges > maxGSIKeyAttrs {
		return attr.Invalid(paramsInvalid + "The KeySchema exceeds the maximum allowed number of RANGE key attributes")
	}
	return nil
}

// checkIndex checks one index definition's semantics and records its name.
// tableHash is the table's hash key for a local index, "" for a global one.
func checkIndex(x indexIn, defined []string, names map[string]bool, tableHash, mode string) error {
	name := *x.IndexName
	global := tableHash == ""
	if err := checkKeySchema(x.KeySchema, defined, false, global); err != nil {
		return err
	}
	if !global {
		if len(x.KeySchema) != 2 {
			return attr.Invalid(paramsInvalid+"Index KeySchema does not have a range key for index: %s", name)
		}
		if h := *x.KeySchema[0].AttributeName; h != tableHash {
			return attr.Invalid(paramsInvalid+"Index KeySchema does not have the same leading hash key as table KeySchema for index: %s. index hash key: %s, table hash key: %s", name, h, tableHash)
		}
	}
	pj := x.Projection
	if pj.ProjectionType == nil {
		return attr.Invalid(paramsInvalid + "Unknown ProjectionType: null")
	}
	if pj.NonKeyAttributes != nil && *pj.ProjectionType != "INCLUDE" {
		return attr.Invalid(paramsInvalid+"ProjectionType is %s, but NonKeyAttributes is specified", *pj.ProjectionType)
	}
	if global {
		switch {
		case mode == catalog.PayPerRequest && x.ProvisionedThroughput != nil:
			return attr.Invalid(paramsInvalid+"ProvisionedThroughput should not be specified for index: %s when BillingMode is PAY_PER_REQUEST", name)
		case mode != catalog.PayPerRequest && x.ProvisionedThroughput == nil:
			return attr.Invalid(paramsInvalid+"ProvisionedThroughput must be specified for index: %s", name)
		case x.ProvisionedThroughput != nil:
			if err := throughputBounds(x.ProvisionedThroughput); err != nil {
				return err
			}
		}
	}
	if names[name] {
		return attr.Invalid(paramsInvalid+"Duplicate index name: %s", name)
	}
	names[name] = true
	return nil
}

// checkStream checks a StreamSpecification's semantics.
func checkStream(s *streamSpecIn) error {
	if *s.StreamEnabled && s.StreamViewType == nil {
		return attr.Invalid(paramsInvalid + "You must specify a StreamViewType when StreamEnabled is set to true")
	}
	if !*s.StreamEnabled && s.StreamViewType != nil {
		return attr.Invalid(paramsInvalid + "StreamViewType cannot be specified when StreamEnabled is false")
	}
	return nil
}

func keyNames(ks []keyElementIn) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = *k.AttributeName
	}
	return out
}

// appendNew appends the members of add that list does not hold yet.
func appendNew(list []string, add ...string) []string {
	for _, s := range add {
		if !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

// buildTable turns a validated request into a definition for the engine.
func buildTable(in *createTableIn, mode string) *catalog.Table {
	def := &catalog.Table{
		Name:           *in.TableName,
		KeySchema:      buildKeySchema(in.KeySchema),
		BillingMode:    mode,
		BillingModeSet: in.BillingMode != nil,
	}
	for _, d := range in.AttributeDefinitions {
		def.AttributeDefinitions = append(def.AttributeDefinitions, catalog.AttributeDefinition{Name: *d.AttributeName, Type: *d.AttributeType})
	}
	if pt := in.ProvisionedThroughput; pt != nil && mode == catalog.Provisioned {
		def.Throughput = catalog.Throughput{Read: *pt.ReadCapacityUnits, Write: *pt.WriteCapacityUnits}
	}
	for _, x := range in.LocalSecondaryIndexes {
		def.LSIs = append(def.LSIs, buildIndex(x))
	}
	for _, x := range in.GlobalSecondaryIndexes {
		ix := buildIndex(x)
		if pt := x.ProvisionedThroughput; pt != nil {
			ix.Throughput = &catalog.Throughput{Read: *pt.ReadCapacityUnits, Write: *pt.WriteCapacityUnits}
		}
		def.GSIs = append(def.GSIs, ix)
	}
	if s := in.StreamSpecification; s != nil && *s.StreamEnabled {
		def.Stream = catalog.Stream{Enabled: true, ViewType: *s.StreamViewType}
	}
	def.Tags = mergeTags(nil, in.Tags)
	if in.DeletionProtectionEnabled != nil {
		def.DeletionProtection = *in.DeletionProtectionEnabled
	}
	if in.TableClass != nil {
		def.TableClass = *in.TableClass
	}
	return def
}

// buildKeySchema copies a validated key schema, HASH first.
func buildKeySchema(ks []keyElementIn) []catalog.KeyElement {
	out := make([]catalog.KeyElement, len(ks))
	for i, k := range ks {
		out[i] = catalog.KeyElement{Name: *k.AttributeName, KeyType: *k.KeyType}
	}
	return out
}

func buildIndex(x indexIn) catalog.Index {
	ix := catalog.Index{
		Name:       *x.IndexName,
		KeySchema:  buildKeySchema(x.KeySchema),
		Projection: catalog.Projection{Type: *x.Projection.ProjectionType},
	}
	if nk := x.Projection.NonKeyAttributes; nk != nil {
		ix.Projection.NonKeyAttributes = append([]string(nil), nk...)
	}
	return ix
}

// mergeTags sets each of add on tags, replacing the value of a key already
// there, and returns the result.
func mergeTags(tags []catalog.Tag, add []tagIn) []catalog.Tag {
	for _, t := range add {
		i := indexTag(tags, *t.Key)
		if i >= 0 {
			tags[i].Value = *t.Value
			continue
		}
		tags = append(tags, catalog.Tag{Key: *t.Key, Value: *t.Value})
	}
	return tags
}

func indexTag(tags []catalog.Tag, key string) int {
	for i, t := range tags {
		if t.Key == key {
			return i
		}
	}
	return -1
}
