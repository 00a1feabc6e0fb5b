package attr

// MaxItemSize is the largest item DynamoDB stores, as measured by ItemSize.
const MaxItemSize = 400 * 1024

// ErrItemTooLarge is the ValidationException for an item larger than
// MaxItemSize (PutItem, BatchWriteItem, TransactWriteItems). UpdateItem
// reports "Item size to update has exceeded the maximum allowed size" instead,
// which the engine builds with Invalid.
var ErrItemTooLarge = &Error{Kind: ErrValidation, Msg: msgItemTooLarge}

// Size returns the number of bytes DynamoDB counts for the value v (without
// any attribute name). The rule, from the developer guide's "Item sizes and
// formats" and measured byte-exactly against DynamoDB Local's 400 KB limit:
//
//   - S: UTF-8 bytes. B: raw bytes. BOOL, NULL: 1.
//   - N: 1 byte, plus 1 byte per base-100 digit pair between the first and
//     the last non-zero pair, pairs aligned at the decimal point (so 12 and
//     1000 take 2 bytes, 1.1 and 123 take 3), plus 1 byte if negative; zero
//     takes 1 byte. This is the exact form of the guide's "1 byte per two
//     significant digits, plus 1 byte".
//   - SS, NS, BS: the sum of the members' sizes.
//   - M: 3 bytes, plus for each entry its name's UTF-8 bytes, its value's size
//     and 1 byte. L: 3 bytes, plus for each element its size and 1 byte.
//
// v's numbers should be canonical (validated); others are sized by their
// canonical form, and text that is not a number counts its length.
func Size(v Value) int {
	switch v.T {
	case TypeS:
		return len(v.S)
	case TypeN:
		return numberSize(v.N)
	case TypeB:
		return len(v.B)
	case TypeBOOL, TypeNULL:
		return 1
	case TypeM:
		n := 3
		for k, e := range v.M {
			n += len(k) + Size(e) + 1
		}
		return n
	case TypeL:
		n := 3
		for _, e := range v.L {
			n += Size(e) + 1
		}
		return n
	case TypeSS:
		n := 0
		for _, s := range v.SS {
			n += len(s)
		}
		return n
	case TypeNS:
		n := 0
		for _, x := range v.NS {
			n += numberSize(x)
		}
		return n
	case TypeBS:
		n := 0
		for _, b := range v.BS {
			n += len(b)
		}
		return n
	}
	return 0
}

// ItemSize returns the size DynamoDB counts for an item: for each attribute
// its name's UTF-8 bytes plus Size of its value. An item is too large when
// ItemSize exceeds MaxItemSize (exactly 409,600 bytes is accepted).
func ItemSize(it Item) int {
	n := 0
	for k, v := range it {
		n += len(k) + Size(v)
	}
	return n
}

// numberSize implements the N rule of Size.
func numberSize(n Number) int {
	neg, digits, exp, ok := scanNumber(string(n))
	if !ok {
		return len(n)
	}
	if digits == "" {
		return 1
	}
	// The first digit has power exp+len-1 and the last has power exp; a
	// pair holds the powers 2k and 2k+1 (>> rounds toward minus infinity).
	first := (exp + int64(len(digits)) - 1) >> 1
	last := exp >> 1
	size := int(first-last) + 2
	if neg {
		size++
	}
	return size
}
