package engine

import (
	"bytes"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// TestAppendKeysJSON checks that a record's keys are what
// attr.AppendItemJSON and attr.ItemSize make of the key item, whichever
// of the two key names sorts first.
func TestAppendKeysJSON(t *testing.T) {
	s := func(v string) *attr.Value { return &attr.Value{T: attr.TypeS, S: v} }
	n := func(v string) *attr.Value { return &attr.Value{T: attr.TypeN, N: attr.Number(v)} }
	b := func(v string) *attr.Value { return &attr.Value{T: attr.TypeB, B: []byte(v)} }
	for _, tc := range []struct {
		name      string
		hash, rng string
		types     []string
		pk, sk    *attr.Value
		want      string
	}{
		{"hash only", "pk", "", []string{"S"}, s("a\"b"), nil, `{"pk":{"S":"a\"b"}}`},
		{"hash before range", "a", "b", []string{"S", "N"}, s("x"), n("12.5"), `{"a":{"S":"x"},"b":{"N":"12.5"}}`},
		{"range before hash", "z", "m", []string{"B", "S"}, b("\x00\xff"), s("é"), `{"m":{"S":"é"},"z":{"B":"AP8="}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def := &catalog.Table{
				KeySchema:            []catalog.KeyElement{{Name: tc.hash, KeyType: "HASH"}},
				AttributeDefinitions: []catalog.AttributeDefinition{{Name: tc.hash, Type: tc.types[0]}},
			}
			if tc.rng != "" {
				def.KeySchema = append(def.KeySchema, catalog.KeyElement{Name: tc.rng, KeyType: "RANGE"})
				def.AttributeDefinitions = append(def.AttributeDefinitions, catalog.AttributeDefinition{Name: tc.rng, Type: tc.types[1]})
			}
			kp := keyParts{pk: tc.pk, sk: tc.sk}
			got, size := appendKeysJSON([]byte("prefix"), def, kp)
			item := keyItem(def, kp)
			if want := attr.AppendItemJSON([]byte("prefix"), item); !bytes.Equal(got, want) {
				t.Errorf("JSON %s, want %s", got, want)
			}
			if want := "prefix" + tc.want; string(got) != want {
				t.Errorf("JSON %s, want %s", got, want)
			}
			if want := attr.ItemSize(item); size != want {
				t.Errorf("size %d, want %d", size, want)
			}
		})
	}
}
