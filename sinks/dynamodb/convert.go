package dynamodb

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

// RepAttribute is the reserved attribute that holds, on every item the sink
// puts, the order of the change that wrote it (see RepValue).
const RepAttribute = "sluice:rep"

// The condition of every request, and its placeholders.
const (
	condition = "attribute_not_exists(#rep) OR #rep < :rep"
	repName   = "#rep"
	repValue  = ":rep"
)

// RepValue returns the RepAttribute value of the change committed at t as
// sequence number seq of shard sh: fixed-width decimal fields (Unix
// microseconds, shard, sequence) separated by '/', so that string order is
// the changes' order. A time before 1970 counts as 1970.
func RepValue(t time.Time, sh shards.ID, seq shards.Seq) string {
	us := max(t.UnixMicro(), 0)
	return fmt.Sprintf("%019d/%010d/%0*d", us, uint32(sh), shards.StreamDigits, uint64(seq))
}

// errInvalidValue reports a value the attr decoder kept as invalid; the
// destination would refuse it.
var errInvalidValue = errors.New("dynamodb: invalid attribute value")

// toItem converts an item in DynamoDB JSON (as change records carry it) to
// the SDK's attribute values.
func toItem(data []byte) (map[string]types.AttributeValue, error) {
	var it attr.Item
	if err := it.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decoding an item: %w", err)
	}
	if it == nil {
		return nil, errors.New("decoding an item: null")
	}
	return toMap(it)
}

func toMap(m map[string]attr.Value) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		av, err := toValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

// toValue converts one attr.Value. The decoder bounds the nesting, so the
// recursion is bounded too.
func toValue(v attr.Value) (types.AttributeValue, error) {
	switch v.T {
	case attr.TypeS:
		return &types.AttributeValueMemberS{Value: v.S}, nil
	case attr.TypeN:
		return &types.AttributeValueMemberN{Value: string(v.N)}, nil
	case attr.TypeB:
		return &types.AttributeValueMemberB{Value: v.B}, nil
	case attr.TypeBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.BOOL}, nil
	case attr.TypeNULL:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case attr.TypeM:
		m, err := toMap(v.M)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case attr.TypeL:
		l := make([]types.AttributeValue, len(v.L))
		for i, e := range v.L {
			av, err := toValue(e)
			if err != nil {
				return nil, fmt.Errorf("list element %d: %w", i, err)
			}
			l[i] = av
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case attr.TypeSS:
		return &types.AttributeValueMemberSS{Value: v.SS}, nil
	case attr.TypeNS:
		ns := make([]string, len(v.NS))
		for i, n := range v.NS {
			ns[i] = string(n)
		}
		return &types.AttributeValueMemberNS{Value: ns}, nil
	case attr.TypeBS:
		return &types.AttributeValueMemberBS{Value: v.BS}, nil
	default:
		if v.S != "" {
			return nil, fmt.Errorf("%w: %s", errInvalidValue, v.S)
		}
		return nil, errInvalidValue
	}
}
