package event

import (
	"fmt"
	"strconv"

	"github.com/sluicedb/sluice/engine/attr"
)

// View types: which images a DynamoDB stream's records carry.
const (
	ViewKeysOnly  = "KEYS_ONLY"
	ViewNewImage  = "NEW_IMAGE"
	ViewOldImage  = "OLD_IMAGE"
	ViewNewAndOld = "NEW_AND_OLD_IMAGES"
)

// Project returns a record's data (the DynamoDB Streams record JSON, with
// both images, as Encode writes it) as a stream of the given view type
// shows it: without the images the view leaves out, with that view's
// StreamViewType and with SizeBytes counting the keys and the images kept.
// The JSON is otherwise byte for byte the data's. sizes, when not nil, are
// the record's (HdrSizes); without them the images are decoded to size them.
func Project(data []byte, view string, sizes *Sizes) ([]byte, error) {
	if view == ViewNewAndOld {
		return data, nil
	}
	return AppendProject(nil, data, view, sizes)
}

// AppendProject appends Project's result to dst.
func AppendProject(dst, data []byte, view string, sizes *Sizes) ([]byte, error) {
	var drop [2]string // member names to leave out
	switch view {
	case ViewNewAndOld:
		return append(dst, data...), nil
	case ViewKeysOnly:
		drop = [2]string{"NewImage", "OldImage"}
	case ViewNewImage:
		drop = [2]string{"OldImage", ""}
	case ViewOldImage:
		drop = [2]string{"NewImage", ""}
	default:
		return dst, fmt.Errorf("event: unknown stream view type %q", view)
	}
	var buf [16]member // records have a dozen members: no allocation
	start, end, err := objectMember(data, 0, "dynamodb", buf[:0])
	if err != nil {
		return dst, err
	}
	members, err := objectMembers(data, start, buf[:0])
	if err != nil {
		return dst, err
	}
	keep := func(name []byte) bool { return string(name) != drop[0] && string(name) != drop[1] }
	size := 0
	if sizes != nil {
		size = sizes.Keys
		if drop[0] != "NewImage" && drop[1] != "NewImage" {
			size += sizes.New
		}
		if drop[0] != "OldImage" && drop[1] != "OldImage" {
			size += sizes.Old
		}
	} else {
		for _, m := range members {
			switch name := m.nameOf(data); string(name) {
			case "Keys", "NewImage", "OldImage":
				if !keep(name) {
					continue
				}
				var it attr.Item
				if err := it.UnmarshalJSON(data[m.value[0]:m.value[1]]); err != nil {
					return dst, fmt.Errorf("event: %s: %w", name, err)
				}
				size += attr.ItemSize(it)
			}
		}
	}
	out := append(dst, data[:start+1]...) // through the dynamodb object's '{'
	first := true
	for _, m := range members {
		name := m.nameOf(data)
		if !keep(name) {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, data[m.name[0]:m.value[0]]...)
		switch string(name) {
		case "SizeBytes":
			out = strconv.AppendInt(out, int64(size), 10)
		case "StreamViewType":
			out = strconv.AppendQuote(out, view)
		default:
			out = append(out, data[m.value[0]:m.value[1]]...)
		}
	}
	out = append(out, '}')
	return append(out, data[end:]...), nil
}

// member locates one member of a JSON object: the quoted name and the value,
// as [start, end) offsets.
type member struct {
	name, value [2]int
}

// nameOf returns the member's name without its quotes.
func (m member) nameOf(data []byte) []byte { return data[m.name[0]+1 : m.name[1]-1] }

// objectMember finds the named member of the object starting at data[at]
// and returns its value's offsets.
func objectMember(data []byte, at int, name string, buf []member) (start, end int, err error) {
	members, err := objectMembers(data, at, buf)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range members {
		if string(m.nameOf(data)) == name {
			return m.value[0], m.value[1], nil
		}
	}
	return 0, 0, fmt.Errorf("%w: no %q member", ErrCorrupt, name)
}

// objectMembers appends to out the members of the object that starts at
// data[at]. Names are compared raw: the record's names have no escapes.
func objectMembers(data []byte, at int, out []member) ([]member, error) {
	i := skipSpace(data, at)
	if i >= len(data) || data[i] != '{' {
		return nil, fmt.Errorf("%w: object expected at %d", ErrCorrupt, at)
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return out, nil
	}
	for {
		var m member
		if i >= len(data) || data[i] != '"' {
			return nil, fmt.Errorf("%w: member name expected at %d", ErrCorrupt, i)
		}
		j, err := skipValue(data, i)
		if err != nil {
			return nil, err
		}
		m.name = [2]int{i, j}
		i = skipSpace(data, j)
		if i >= len(data) || data[i] != ':' {
			return nil, fmt.Errorf("%w: ':' expected at %d", ErrCorrupt, i)
		}
		i = skipSpace(data, i+1)
		j, err = skipValue(data, i)
		if err != nil {
			return nil, err
		}
		m.value = [2]int{i, j}
		out = append(out, m)
		i = skipSpace(data, j)
		if i >= len(data) {
			return nil, fmt.Errorf("%w: unterminated object", ErrCorrupt)
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return out, nil
		default:
			return nil, fmt.Errorf("%w: ',' or '}' expected at %d", ErrCorrupt, i)
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the offset just past the JSON value at data[i]. It
// checks the nesting of brackets and strings, not the whole grammar: the
// images are decoded (and so checked) separately.
func skipValue(data []byte, i int) (int, error) {
	j := attr.SkipJSON(data, i)
	if j < 0 {
		return 0, fmt.Errorf("%w: no whole value at %d", ErrCorrupt, i)
	}
	return j, nil
}

// Images returns the old and new images of a record's data (the DynamoDB
// Streams record JSON), nil where the record has none. They alias data.
func Images(data []byte) (old, new []byte, err error) {
	var buf [16]member
	start, _, err := objectMember(data, 0, "dynamodb", buf[:0])
	if err != nil {
		return nil, nil, err
	}
	members, err := objectMembers(data, start, buf[:0])
	if err != nil {
		return nil, nil, err
	}
	for _, m := range members {
		switch string(m.nameOf(data)) {
		case "OldImage":
			old = data[m.value[0]:m.value[1]]
		case "NewImage":
			new = data[m.value[0]:m.value[1]]
		}
	}
	return old, new, nil
}
