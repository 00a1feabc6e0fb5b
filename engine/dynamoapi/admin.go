package dynamoapi

import (
	"context"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/wire"
	"github.com/sluicedb/sluice/shards"
)

// Sluice's own operations answer beside DynamoDB's on the same port, under
// their own X-Amz-Target prefix, signed like any request. They are what
// `sluice split-shard` sends.
const AdminTargetPrefix = "Sluice_20261121."

type splitShardIn struct {
	TableName *string `json:"TableName"`
	// ShardId is the internal shard to split; absent: every current shard.
	ShardId *uint32 `json:"ShardId"`
}

type shardSpanOut struct {
	ShardId       uint32  `json:"ShardId"`
	HashKeyRange  [2]any  `json:"HashKeyRange"` // [first hash, first hash past it]
	ParentShardId *uint32 `json:"ParentShardId,omitempty"`
}

// splitShard answers Sluice_20261121.SplitShard: it splits one of a table's
// shards (or each of them) into its two hash halves and returns the shard
// map after it. The table's stream, when enabled, shows the split as
// DynamoDB Streams does: the parent's stream shard closes and each child's
// names it.
func (a *api) splitShard(_ context.Context, req *wire.Request) (any, error) {
	var in splitShardIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	name, err := a.tableName(in.TableName, true)
	if err != nil {
		return nil, err
	}
	var todo []shards.ID
	if in.ShardId != nil {
		todo = []shards.ID{shards.ID(*in.ShardId)}
	} else {
		def := a.lookup(name)
		if def == nil {
			_, err := a.e.DescribeTable(name) // the engine's not-found answer
			return nil, err
		}
		for _, sp := range def.Shards() {
			todo = append(todo, sp.ID)
		}
	}
	var spans shards.Map
	for _, id := range todo {
		if spans, err = a.e.SplitShard(name, id); err != nil {
			return nil, err
		}
	}
	out := struct {
		TableName string         `json:"TableName"`
		Shards    []shardSpanOut `json:"Shards"`
	}{TableName: name}
	for _, sp := range spans {
		s := shardSpanOut{ShardId: uint32(sp.ID), HashKeyRange: [2]any{sp.Lo, sp.Hi}}
		if sp.HasParent {
			p := uint32(sp.Parent)
			s.ParentShardId = &p
		}
		out.Shards = append(out.Shards, s)
	}
	if len(out.Shards) == 0 {
		return nil, attr.Invalid("nothing was split")
	}
	return out, nil
}
