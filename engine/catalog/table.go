package catalog

import (
	"time"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

// Billing modes.
const (
	PayPerRequest = "PAY_PER_REQUEST"
	Provisioned   = "PROVISIONED"
)

// Table statuses.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusUpdating = "UPDATING"
	StatusDeleting = "DELETING"
)

// KeyElement is one entry of a key schema.
type KeyElement struct {
	Name    string `json:"AttributeName"`
	KeyType string `json:"KeyType"` // HASH or RANGE
}

// AttributeDefinition names the type of a key attribute.
type AttributeDefinition struct {
	Name string `json:"AttributeName"`
	Type string `json:"AttributeType"` // S, N or B
}

// Throughput is provisioned capacity and its history.
type Throughput struct {
	Read                   int64     `json:"ReadCapacityUnits"`
	Write                  int64     `json:"WriteCapacityUnits"`
	LastIncrease           time.Time `json:"LastIncreaseDateTime,omitzero"`
	LastDecrease           time.Time `json:"LastDecreaseDateTime,omitzero"`
	NumberOfDecreasesToday int64     `json:"NumberOfDecreasesToday"`
}

// Projection of a secondary index.
type Projection struct {
	Type             string   `json:"ProjectionType"` // ALL, KEYS_ONLY, INCLUDE
	NonKeyAttributes []string `json:"NonKeyAttributes,omitempty"`
}

// Index is a local or global secondary index.
type Index struct {
	Name       string       `json:"IndexName"`
	KeySchema  []KeyElement `json:"KeySchema"`
	Projection Projection   `json:"Projection"`
	// Throughput is set for GSIs of provisioned tables.
	Throughput *Throughput `json:"ProvisionedThroughput,omitempty"`
	Status     string      `json:"IndexStatus,omitempty"` // GSIs only
	// OnDemandThroughput, WarmThroughput: later.

	// GSIs only. Ord numbers the GSI's entries in the store: assigned once,
	// never reused within the table. Backfilling is true while the entries
	// of the items written before the GSI was added are being written;
	// Through then holds, per table shard, the last change the backfill
	// covers, which the indexer does not apply to this GSI again.
	Ord         uint8             `json:"Ord,omitempty"`
	Backfilling bool              `json:"Backfilling,omitempty"`
	Through     map[uint32]uint64 `json:"Through,omitempty"`
}

// Stream is the table's stream specification, its current label and every
// stream the table has had.
type Stream struct {
	Enabled  bool   `json:"StreamEnabled"`
	ViewType string `json:"StreamViewType,omitempty"`
	// Label is the LatestStreamLabel (an ISO-8601 time of the last enable);
	// empty if a stream was never enabled.
	Label string `json:"Label,omitempty"`
	// History holds each stream the table had, oldest first; the last is
	// the latest (the enabled one, if any). Each enable starts a new stream
	// with a new label; a disabled stream stays readable until its records
	// are trimmed.
	History []StreamEpoch `json:"History,omitempty"`
}

// StreamEpoch is one stream of a table: from an enable to its disable.
type StreamEpoch struct {
	Label    string    `json:"Label"`
	ViewType string    `json:"ViewType"`
	Created  time.Time `json:"Created"`
	Disabled time.Time `json:"Disabled,omitzero"` // zero while enabled
}

// Epoch returns the stream with the given label.
func (s *Stream) Epoch(label string) (StreamEpoch, bool) {
	for _, ep := range s.History {
		if ep.Label == label {
			return ep, true
		}
	}
	return StreamEpoch{}, false
}

// TTL is a table's time-to-live setting: the items whose Attribute, a
// number of epoch seconds, is past are deleted by the TTL reaper.
type TTL struct {
	Enabled   bool   `json:"Enabled,omitempty"`
	Attribute string `json:"AttributeName,omitempty"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// Table is one table's definition. Treat it as immutable.
type Table struct {
	Name      string    `json:"Name"`
	ID        uint32    `json:"ID"`   // internal; prefixes the table's keys
	UUID      string    `json:"UUID"` // TableId
	Created   time.Time `json:"Created"`
	Status    string    `json:"Status"`
	ShardBits uint8     `json:"ShardBits"`
	// ShardMap is the table's current shards once one was split (nil:
	// shards.Uniform(ShardBits)); NextShard is the id the next split's
	// first half gets.
	ShardMap  shards.Map `json:"ShardMap,omitempty"`
	NextShard shards.ID  `json:"NextShard,omitempty"`
	// NextGSIOrd is the Ord the next GSI added by UpdateTable gets.
	NextGSIOrd uint8 `json:"NextGSIOrd,omitempty"`
	// HashVersion is the partition-key hash of the table's storage keys
	// (shards.HashFNV for tables created before shards.HashXX).
	HashVersion uint8 `json:"HashVersion,omitempty"`

	KeySchema            []KeyElement          `json:"KeySchema"`
	AttributeDefinitions []AttributeDefinition `json:"AttributeDefinitions"`

	BillingMode string `json:"BillingMode"`
	// BillingModeSet records that a request named the billing mode:
	// DynamoDB describes the billing mode only then (or once on demand).
	BillingModeSet            bool       `json:"BillingModeSet,omitempty"`
	Throughput                Throughput `json:"Throughput"`
	LastUpdateToPayPerRequest time.Time  `json:"LastUpdateToPayPerRequest,omitzero"`

	LSIs []Index `json:"LSIs,omitempty"`
	GSIs []Index `json:"GSIs,omitempty"`

	Stream             Stream `json:"Stream"`
	Tags               []Tag  `json:"Tags,omitempty"`
	DeletionProtection bool   `json:"DeletionProtection"`
	TableClass         string `json:"TableClass,omitempty"` // STANDARD or STANDARD_INFREQUENT_ACCESS

	// TTL is the table's time-to-live setting (UpdateTimeToLive).
	TTL TTL `json:"TTL,omitzero"`

	// Deleted is when the table was deleted: set only on the definitions of
	// dropped tables the catalog keeps while their streams are readable.
	Deleted time.Time `json:"Deleted,omitzero"`
}

// Shards returns the table's current shard map.
func (t *Table) Shards() shards.Map {
	if t.ShardMap != nil {
		return t.ShardMap
	}
	return shards.Uniform(t.ShardBits)
}

// HashKey returns the partition key's name and type.
func (t *Table) HashKey() (string, attr.Type) { return t.key("HASH") }

// RangeKey returns the sort key's name and type; name is "" if there is none.
func (t *Table) RangeKey() (string, attr.Type) { return t.key("RANGE") }

func (t *Table) key(kind string) (string, attr.Type) {
	for _, k := range t.KeySchema {
		if k.KeyType == kind {
			return k.Name, t.AttrType(k.Name)
		}
	}
	return "", attr.TypeInvalid
}

// AttrType is the declared type of a key attribute (TypeInvalid if undeclared).
func (t *Table) AttrType(name string) attr.Type {
	for _, d := range t.AttributeDefinitions {
		if d.Name == name {
			switch d.Type {
			case "S":
				return attr.TypeS
			case "N":
				return attr.TypeN
			case "B":
				return attr.TypeB
			}
		}
	}
	return attr.TypeInvalid
}

// Clone returns a deep copy to modify.
func (t *Table) Clone() *Table {
	c := *t
	c.KeySchema = append([]KeyElement(nil), t.KeySchema...)
	c.AttributeDefinitions = append([]AttributeDefinition(nil), t.AttributeDefinitions...)
	c.LSIs = cloneIndexes(t.LSIs)
	c.GSIs = cloneIndexes(t.GSIs)
	c.Tags = append([]Tag(nil), t.Tags...)
	c.Stream.History = append([]StreamEpoch(nil), t.Stream.History...)
	c.ShardMap = append(shards.Map(nil), t.ShardMap...)
	if t.ShardMap == nil {
		c.ShardMap = nil
	}
	return &c
}

func cloneIndexes(in []Index) []Index {
	if in == nil {
		return nil
	}
	out := make([]Index, len(in))
	for i, x := range in {
		x.KeySchema = append([]KeyElement(nil), x.KeySchema...)
		x.Projection.NonKeyAttributes = append([]string(nil), x.Projection.NonKeyAttributes...)
		if x.Through != nil {
			through := make(map[uint32]uint64, len(x.Through))
			for k, v := range x.Through {
				through[k] = v
			}
			x.Through = through
		}
		if x.Throughput != nil {
			tp := *x.Throughput
			x.Throughput = &tp
		}
		out[i] = x
	}
	return out
}
