package difftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// normalized is one response reduced to what must agree between servers.
type normalized struct {
	text    string // status and indented JSON: what is compared
	message string // the error message: reported, not compared
}

// normalize reduces a response as the package documentation describes.
// unordered names top-level lists to compare as multisets.
func normalize(status int, body []byte, unordered []string) normalized {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return normalized{text: fmt.Sprintf("status %d\nbody (not JSON): %q\n", status, body)}
	}
	var n normalized
	if m, ok := v.(map[string]any); ok {
		if _, isErr := m["__type"]; isErr {
			for _, k := range []string{"message", "Message"} {
				if s, ok := m[k].(string); ok {
					n.message = s
					delete(m, k)
				}
			}
		}
	}
	v = walk(v, nil)
	if m, ok := v.(map[string]any); ok {
		for _, k := range unordered {
			if l, ok := m[k].([]any); ok {
				sortCanonical(l)
			}
		}
	}
	n.text = fmt.Sprintf("status %d\n%s\n", status, encode(v, "  "))
	return n
}

var arnAccountRE = regexp.MustCompile(`arn:aws:dynamodb:[a-z0-9-]*:[0-9]*:`)

// walk normalises v in place (and returns it); path holds the member names
// from the top down to v.
func walk(v any, path []string) any {
	switch v := v.(type) {
	case map[string]any:
		if isSet(v) {
			for _, l := range v {
				sortCanonical(l.([]any))
			}
			return v
		}
		for k, c := range v {
			switch {
			case k == "TableId":
				if _, ok := c.(string); ok {
					delete(v, k)
					continue
				}
			case strings.HasSuffix(k, "DateTime"):
				if num, ok := c.(json.Number); ok {
					if f, err := num.Float64(); err == nil && f == 0 {
						delete(v, k)
					} else {
						v[k] = "<time>"
					}
					continue
				}
			}
			v[k] = walk(c, append(path, k))
		}
		return v
	case []any:
		for i, c := range v {
			v[i] = walk(c, path)
		}
		sortList(v, path)
		return v
	case string:
		return arnAccountRE.ReplaceAllString(v, "arn:aws:dynamodb:REGION:ACCOUNT:")
	case json.Number:
		// Metadata numbers (capacity units, counts) compare by value: 1.0
		// and 1 are the same on the wire. Attribute numbers are strings and
		// are compared as sent.
		if f, err := v.Float64(); err == nil {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
		return v
	default:
		return v
	}
}

// isSet reports whether m is a set attribute value: {"SS"|"NS"|"BS": [...]}.
func isSet(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k, v := range m {
		_, isList := v.([]any)
		return isList && (k == "SS" || k == "NS" || k == "BS")
	}
	return false
}

// sortList orders the lists whose order carries no meaning.
func sortList(l []any, path []string) {
	if len(path) == 0 {
		return
	}
	last := path[len(path)-1]
	switch last {
	case "AttributeDefinitions":
		sortByMember(l, "AttributeName")
		return
	case "GlobalSecondaryIndexes", "LocalSecondaryIndexes":
		sortByMember(l, "IndexName")
		return
	case "Tags":
		sortByMember(l, "Key")
		return
	case "ConsumedCapacity":
		sortByMember(l, "TableName")
		return
	}
	// BatchGetItem: Responses.<table>, UnprocessedKeys.<table>.Keys;
	// BatchWriteItem: UnprocessedItems.<table>.
	switch {
	case len(path) == 2 && (path[0] == "Responses" || path[0] == "UnprocessedItems"),
		len(path) == 3 && path[0] == "UnprocessedKeys" && path[2] == "Keys":
		sortCanonical(l)
	}
}

// sortByMember sorts a list of objects by a string member; lists of anything
// else are left alone.
func sortByMember(l []any, member string) {
	key := func(v any) (string, bool) {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		s, ok := m[member].(string)
		return s, ok
	}
	for _, v := range l {
		if _, ok := key(v); !ok {
			return
		}
	}
	slices.SortStableFunc(l, func(a, b any) int {
		ka, _ := key(a)
		kb, _ := key(b)
		return strings.Compare(ka, kb)
	})
}

// sortCanonical sorts a list by the canonical JSON of its elements.
func sortCanonical(l []any) {
	slices.SortStableFunc(l, func(a, b any) int { return strings.Compare(encode(a, ""), encode(b, "")) })
}

// encode renders v as JSON with sorted object members (encoding/json sorts
// map keys), without HTML escaping, indented by indent ("" for compact).
func encode(v any, indent string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("<unencodable: %v>", err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
