package attr

import (
	"encoding/json"
	"testing"
)

func TestSkipJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		at   int
		want int
	}{
		{`"abc",`, 0, 5},
		{`"a\"b"}`, 0, 6},
		{`"a\\"b"`, 0, 5},
		{`"a\\\"b"`, 0, 8},
		{`"\\\\"`, 0, 6},
		{`{"S":"x}"}]`, 0, 10},
		{`[{"a":["]"]},"\""] `, 0, 18},
		{`{"a":{"b":1}`, 0, -1},
		{`"abc`, 0, -1},
		{`"ab\"`, 0, -1},
		{`12.5e3,`, 0, 6},
		{`true}`, 0, 4},
		{`x:{"N":"1"}`, 2, 11},
		{`,`, 0, -1},
		{``, 0, -1},
		{`"a"`, 3, -1},
	} {
		if got := SkipJSON([]byte(tc.in), tc.at); got != tc.want {
			t.Errorf("SkipJSON(%q, %d) = %d, want %d", tc.in, tc.at, got, tc.want)
		}
	}
}

// skipStringBytewise is the byte-at-a-time scan skipJSONString replaces.
func skipStringBytewise(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// FuzzSkipJSON: strings end where a byte-at-a-time scan ends them, any
// valid JSON value is skipped whole, and nothing panics or goes backwards.
func FuzzSkipJSON(f *testing.F) {
	for _, s := range []string{`"a\"b"`, `{"M":{"a":{"S":"}"}}}`, `[1,"\\",[]]`, `"\\\\\""`, `-1.5e+3`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := SkipJSON(data, 0)
		if got != -1 && (got <= 0 || got > len(data)) {
			t.Fatalf("SkipJSON(%q) = %d", data, got)
		}
		if len(data) > 0 && data[0] == '"' {
			if want := skipStringBytewise(data, 0); got != want {
				t.Fatalf("SkipJSON(%q) = %d, byte-at-a-time %d", data, got, want)
			}
		}
		if json.Valid(data) && !isSpace(data[0]) && !isSpace(data[len(data)-1]) {
			if got := SkipJSON(append(data[:len(data):len(data)], ','), 0); got != len(data) {
				t.Fatalf("SkipJSON(%q,) = %d, want %d", data, got, len(data))
			}
		}
	})
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
