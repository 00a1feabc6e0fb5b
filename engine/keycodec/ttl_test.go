package keycodec

import (
	"bytes"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
)

// TestTTLKeys: entries sort by expiry, then item, after the index's own
// records, and inside the table's TTL prefix; they decode to what made them.
func TestTTLKeys(t *testing.T) {
	item := func(pk string) []byte { return ItemKey(nil, 7, 3, attr.S(pk), nil) }
	keys := [][]byte{
		TTLHeaderKey(7),
		TTLAppliedKey(7, 0),
		TTLAppliedKey(7, 1<<32-1),
		TTLEntryKey(nil, 7, num(t, "-5").N, item("a")),
		TTLEntryKey(nil, 7, num(t, "0").N, item("a")),
		TTLEntryKey(nil, 7, num(t, "1799999999.5").N, item("z")),
		TTLEntryKey(nil, 7, num(t, "1800000000").N, item("a")),
		TTLEntryKey(nil, 7, num(t, "1800000000").N, item("b")),
		TTLEntryKey(nil, 7, num(t, "1800000000.25").N, item("a")),
	}
	for i, k := range keys {
		if !bytes.HasPrefix(k, TTLPrefix(7)) || bytes.Compare(k, PrefixEnd(TTLPrefix(6))) < 0 {
			t.Errorf("key %d outside the table's prefix", i)
		}
		if i > 0 && bytes.Compare(keys[i-1], k) >= 0 {
			t.Errorf("key %d sorts before key %d", i, i-1)
		}
	}
	if bytes.Compare(TTLEntryStart(7, num(t, "1800000000").N), keys[6]) > 0 ||
		bytes.Compare(PrefixEnd(TTLEntryStart(7, num(t, "1800000000").N)), keys[8]) > 0 {
		t.Error("entry bounds")
	}
	table, exp, it, err := DecodeTTLEntryKey(keys[5])
	if err != nil || table != 7 || exp != "1799999999.5" || !bytes.Equal(it, item("z")) {
		t.Errorf("decoded %d %q %x %v", table, exp, it, err)
	}
	if id, err := DecodeTTLTable(keys[0]); err != nil || id != 7 {
		t.Errorf("table of the header: %d %v", id, err)
	}
	for _, bad := range [][]byte{nil, TTLHeaderKey(7), TTLAppliedKey(7, 1), TTLPrefix(7), item("a")} {
		if _, _, _, err := DecodeTTLEntryKey(bad); err == nil {
			t.Errorf("%x decoded as an entry", bad)
		}
	}
}
