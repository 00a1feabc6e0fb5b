package e2e

import (
	"bytes"
	"math/big"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestItemRoundTrip(t *testing.T) {
	e := start(t)
	e.createHash(t, "hash_t")
	e.createComposite(t, "comp_t", "S")
	e.createComposite(t, "comp_b", "B")
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("hash_n"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "N"),
		BillingMode: types.BillingModePayPerRequest,
	}))(t)

	t.Run("AllTypes", func(t *testing.T) {
		it := item{
			"pk":    sv("all"),
			"s":     sv("héllo \"world\" <&>"),
			"empty": sv(""),
			"n":     nv("123.456"),
			"b":     bv([]byte{0, 1, 0x7f, 0x80, 0xfe, 0xff}),
			"bempt": bv([]byte{}),
			"t":     boolv(true),
			"f":     boolv(false),
			"null":  nullv(),
			"ss":    ssv("b", "a", "c"),
			"ns":    nsv("3", "1", "2.5"),
			"bs":    bsv([]byte{1}, []byte{2, 3}, []byte{}),
			"l":     lv(sv("x"), nv("1"), boolv(true), nullv(), mv(item{"k": sv("v")}), lv(sv(""), sv("hello"))),
			"m": mv(item{
				"lvl2": mv(item{"lvl3": mv(item{"deep": sv("yes"), "set": ssv("q")})}),
				"list": lv(mv(item{"in": nv("7")})),
			}),
		}
		// BS may not hold an empty member; keep the set valid.
		it["bs"] = bsv([]byte{1}, []byte{2, 3})
		out := must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("hash_t"), Item: it, ReturnValues: types.ReturnValueNone}))(t)
		if out.Attributes != nil {
			t.Errorf("PutItem NONE: Attributes = %v, want absent", normItem(out.Attributes))
		}
		if out.ConsumedCapacity != nil {
			t.Errorf("PutItem without ReturnConsumedCapacity: ConsumedCapacity = %+v, want absent", out.ConsumedCapacity)
		}
		for _, consistent := range []bool{false, true} {
			g := must(e.db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String("hash_t"), Key: item{"pk": sv("all")}, ConsistentRead: aws.Bool(consistent)}))(t)
			wantItem(t, g.Item, it)
		}
	})

	t.Run("NumbersCanonical", func(t *testing.T) {
		in := map[string]string{
			"a": "00042", "b": "1.0", "c": "-0", "d": "1.5E2", "e": "3.1400", "f": "000.100", "g": "1E2",
			"h": "12345678901234567890123456789012345678", "i": "-1.50e-3", "j": "0.0",
		}
		want := map[string]string{
			"a": "42", "b": "1", "c": "0", "d": "150", "e": "3.14", "f": "0.1", "g": "100",
			"h": "12345678901234567890123456789012345678", "i": "-0.0015", "j": "0",
		}
		it := item{"pk": sv("nums")}
		for k, v := range in {
			it[k] = nv(v)
		}
		it["set"] = nsv("1.0", "00042", "-0")
		e.put(t, "hash_t", it)
		got := e.get(t, "hash_t", item{"pk": sv("nums")})
		for k, w := range want {
			n, ok := got[k].(*types.AttributeValueMemberN)
			if !ok || n.Value != w {
				t.Errorf("%s: %q came back as %v, want %q", k, in[k], norm(got[k]), w)
			}
		}
		wantItem(t, item{"set": got["set"]}, item{"set": nsv("1", "42", "0")})
	})

	t.Run("NumberExtremes", func(t *testing.T) {
		big1 := "9.9999999999999999999999999999999999999E+125"
		e.put(t, "hash_t", item{"pk": sv("ext"), "max": nv(big1), "min": nv("-" + big1), "tiny": nv("1E-130"), "small": nv("0.00000000000000000000000000000000000001")})
		got := e.get(t, "hash_t", item{"pk": sv("ext")})
		for k, w := range map[string]string{"max": big1, "min": "-" + big1, "tiny": "1E-130", "small": "1E-38"} {
			n, ok := got[k].(*types.AttributeValueMemberN)
			if !ok {
				t.Errorf("%s: got %v", k, norm(got[k]))
				continue
			}
			if !sameNumber(n.Value, w) {
				t.Errorf("%s: got %s, want the value %s", k, n.Value, w)
			}
			if strings.ContainsAny(n.Value, "eE") {
				t.Errorf("%s: %s is not in plain notation (DynamoDB strips exponents)", k, n.Value)
			}
		}
	})

	t.Run("NumericKeys", func(t *testing.T) {
		for _, k := range []string{"42", "3.14", "-100"} {
			e.put(t, "hash_n", item{"pk": nv(k), "v": sv(k)})
			got := e.get(t, "hash_n", item{"pk": nv(k)})
			wantItem(t, got, item{"pk": nv(k), "v": sv(k)})
		}
		// 042 and 42.0 are the same key as 42.
		e.put(t, "hash_n", item{"pk": nv("042.0"), "v": sv("replaced")})
		wantItem(t, e.get(t, "hash_n", item{"pk": nv("42")}), item{"pk": nv("42"), "v": sv("replaced")})
	})

	t.Run("BinarySortKeys", func(t *testing.T) {
		keys := [][]byte{{1, 2, 3}, {0xde, 0xad, 0xbe, 0xef}, {0xff, 0x00, 0x7f, 0x80}}
		for i, k := range keys {
			e.put(t, "comp_b", item{"pk": sv("bin"), "sk": bv(k), "i": nv(string(rune('0' + i)))})
		}
		for i, k := range keys {
			got := e.get(t, "comp_b", item{"pk": sv("bin"), "sk": bv(k)})
			wantItem(t, got, item{"pk": sv("bin"), "sk": bv(k), "i": nv(string(rune('0' + i)))})
		}
		payload := []byte{0, 1, 0x7f, 0x80, 0xfe, 0xff}
		e.put(t, "comp_b", item{"pk": sv("bin"), "sk": bv([]byte{9}), "p": bv(payload)})
		got := e.get(t, "comp_b", item{"pk": sv("bin"), "sk": bv([]byte{9})})
		if b, ok := got["p"].(*types.AttributeValueMemberB); !ok || !bytes.Equal(b.Value, payload) {
			t.Errorf("binary payload came back as %v", norm(got["p"]))
		}
	})

	t.Run("ReturnValuesAndOverwrite", func(t *testing.T) {
		out := must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("comp_t"), Item: item{"pk": sv("rv"), "sk": sv("1"), "old": sv("data")}, ReturnValues: types.ReturnValueAllOld}))(t)
		if out.Attributes != nil {
			t.Errorf("ALL_OLD with no old item: Attributes = %v, want absent", normItem(out.Attributes))
		}
		out = must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("comp_t"), Item: item{"pk": sv("rv"), "sk": sv("1"), "new": sv("second")}, ReturnValues: types.ReturnValueAllOld}))(t)
		wantItem(t, out.Attributes, item{"pk": sv("rv"), "sk": sv("1"), "old": sv("data")})
		// The put replaced the whole item.
		wantItem(t, e.get(t, "comp_t", item{"pk": sv("rv"), "sk": sv("1")}), item{"pk": sv("rv"), "sk": sv("1"), "new": sv("second")})
		// Same hash, other sort key: absent.
		g := must(e.db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String("comp_t"), Key: item{"pk": sv("rv"), "sk": sv("2")}}))(t)
		if g.Item != nil {
			t.Errorf("GetItem of a missing key: Item = %v, want absent", normItem(g.Item))
		}

		d := must(e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String("comp_t"), Key: item{"pk": sv("rv"), "sk": sv("1")}, ReturnValues: types.ReturnValueAllOld}))(t)
		wantItem(t, d.Attributes, item{"pk": sv("rv"), "sk": sv("1"), "new": sv("second")})
		if it := e.get(t, "comp_t", item{"pk": sv("rv"), "sk": sv("1")}); it != nil {
			t.Errorf("item still there after DeleteItem: %v", normItem(it))
		}
		d = must(e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String("comp_t"), Key: item{"pk": sv("rv"), "sk": sv("1")}, ReturnValues: types.ReturnValueAllOld}))(t)
		if d.Attributes != nil {
			t.Errorf("DeleteItem ALL_OLD of a missing item: Attributes = %v, want absent", normItem(d.Attributes))
		}
		d = must(e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String("comp_t"), Key: item{"pk": sv("never"), "sk": sv("1")}}))(t)
		if d.Attributes != nil {
			t.Errorf("DeleteItem NONE: Attributes = %v", normItem(d.Attributes))
		}
	})

	t.Run("ReturnValuesBodyShape", func(t *testing.T) {
		// Absent means absent on the wire too: no "Item":{} / "Attributes":{}.
		st, _, body := e.raw(t, "GetItem", `{"TableName":"hash_t","Key":{"pk":{"S":"nothing"}}}`, nil)
		if st != 200 || string(body) != "{}" {
			t.Errorf("GetItem miss: %d %s, want 200 {}", st, body)
		}
		st, _, body = e.raw(t, "PutItem", `{"TableName":"hash_t","Item":{"pk":{"S":"shape"}},"ReturnValues":"ALL_OLD"}`, nil)
		if st != 200 || string(body) != "{}" {
			t.Errorf("PutItem ALL_OLD of a new item: %d %s, want 200 {}", st, body)
		}
		st, _, body = e.raw(t, "DeleteItem", `{"TableName":"hash_t","Key":{"pk":{"S":"nothing"}},"ReturnValues":"ALL_OLD","ReturnConsumedCapacity":"NONE"}`, nil)
		if st != 200 || string(body) != "{}" {
			t.Errorf("DeleteItem ALL_OLD of a missing item: %d %s, want 200 {}", st, body)
		}
	})
}

// sameNumber compares two decimal strings by value.
func sameNumber(a, b string) bool {
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	return ok1 && ok2 && x.Cmp(y) == 0
}

func TestItemErrors(t *testing.T) {
	e := start(t)
	e.createHash(t, "hash_t")
	e.createComposite(t, "comp_t", "S")
	e.put(t, "hash_t", item{"pk": sv("keep"), "v": nv("1")})
	e.put(t, "comp_t", item{"pk": sv("keep"), "sk": sv("1")})

	const (
		val = "ValidationException"
		rnf = "ResourceNotFoundException"
	)
	noSchema := "The provided key element does not match the schema"
	long := strings.Repeat("a", 256)
	put := func(table string, it item) error {
		_, err := e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it})
		return err
	}
	get := func(table string, key item) error {
		_, err := e.db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
		return err
	}
	del := func(table string, key item) error {
		_, err := e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key})
		return err
	}
	for _, tc := range []struct {
		name      string
		err       func() error
		code, msg string
		src       string
	}{
		{"PutMissingTable", func() error { return put("_conformance_nonexistent_table", item{"pk": sv("a")}) }, rnf, "Requested resource not found", suite},
		{"GetMissingTable", func() error { return get("_conformance_does_not_exist_em_get", item{"pk": sv("a")}) }, rnf, "Requested resource not found", suite},
		{"DeleteMissingTable", func() error { return del("_conformance_does_not_exist_em_delete", item{"pk": sv("a")}) }, rnf, "Requested resource not found", suite},
		{"ShortNameIsOnlyMissing", func() error { return put("ab", item{"pk": sv("a")}) }, rnf, "Requested resource not found", suite},
		{"PutEmptyTableName", func() error { return put("", item{"pk": sv("a")}) }, val,
			"1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1", suite},
		{"PutLongTableName", func() error { return put(long, item{"pk": sv("a")}) }, val,
			"1 validation error detected: Value '" + long + "' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255", suite},
		{"PutBadTableName", func() error { return put("bad table!@#", item{"pk": sv("a")}) }, val,
			"1 validation error detected: Value 'bad table!@#' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", suite},
		{"GetBadTableName", func() error { return get("x!", item{"pk": sv("a")}) }, val,
			"1 validation error detected: Value 'x!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", ref},
		{"DeleteEmptyTableName", func() error { return del("", item{"pk": sv("a")}) }, val,
			"1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1", ref},

		{"PutMissingHashKey", func() error { return put("hash_t", item{"notTheKey": sv("x")}) }, val, "One or more parameter values were invalid: Missing the key pk in the item", ref},
		{"PutMissingSortKey", func() error { return put("comp_t", item{"pk": sv("x")}) }, val, "One or more parameter values were invalid: Missing the key sk in the item", ref},
		{"PutKeyTypeMismatch", func() error { return put("hash_t", item{"pk": nv("1")}) }, val, "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N", ref},
		{"PutEmptyHashKey", func() error { return put("hash_t", item{"pk": sv("")}) }, val,
			"One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk", ref},
		{"PutEmptySortKey", func() error { return put("comp_t", item{"pk": sv("x"), "sk": sv("")}) }, val,
			"One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: sk", ref},
		{"PutHashKeyTooLong", func() error { return put("hash_t", item{"pk": sv(strings.Repeat("k", 2049))}) }, val,
			"One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes", ref},
		{"PutSortKeyTooLong", func() error { return put("comp_t", item{"pk": sv("x"), "sk": sv(strings.Repeat("k", 1025))}) }, val,
			"One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes", ref},

		{"GetMissingSortKey", func() error { return get("comp_t", item{"pk": sv("x")}) }, val, noSchema, suite},
		{"DeleteMissingSortKey", func() error { return del("comp_t", item{"pk": sv("x")}) }, val, noSchema, suite},
		{"GetKeyTypeMismatch", func() error { return get("hash_t", item{"pk": nv("1")}) }, val, noSchema, ref},
		{"GetExtraKeyAttribute", func() error { return get("hash_t", item{"pk": sv("x"), "other": sv("y")}) }, val, noSchema, ref},
		{"GetWrongKeyName", func() error { return get("hash_t", item{"nope": sv("x")}) }, val, noSchema, ref},
		{"DeleteKeyTypeMismatch", func() error { return del("comp_t", item{"pk": sv("x"), "sk": nv("1")}) }, val, noSchema, ref},
		{"GetEmptyKey", func() error { return get("hash_t", item{"pk": sv("")}) }, val,
			"One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk", ref},

		{"EmptySS", func() error { return put("hash_t", item{"pk": sv("x"), "bad": ssv()}) }, val, "One or more parameter values were invalid: An string set  may not be empty", suite},
		{"EmptyNS", func() error { return put("hash_t", item{"pk": sv("x"), "bad": nsv()}) }, val, "One or more parameter values were invalid: An number set  may not be empty", suite},
		{"EmptyBS", func() error { return put("hash_t", item{"pk": sv("x"), "bad": bsv()}) }, val, "One or more parameter values were invalid: Binary sets should not be empty", ref},
		{"EmptySSInMap", func() error { return put("hash_t", item{"pk": sv("x"), "m": mv(item{"bad": ssv()})}) }, val, "One or more parameter values were invalid: An string set  may not be empty", suite},
		{"EmptyNSInList", func() error { return put("hash_t", item{"pk": sv("x"), "l": lv(nsv())}) }, val, "One or more parameter values were invalid: An number set  may not be empty", suite},
		{"DuplicateSS", func() error { return put("hash_t", item{"pk": sv("x"), "bad": ssv("a", "a")}) }, val, "One or more parameter values were invalid: Input collection [a, a] contains duplicates.", suite},
		{"DuplicateNS", func() error { return put("hash_t", item{"pk": sv("x"), "bad": nsv("1", "1.0")}) }, val, "Input collection contains duplicates", ref},
		{"NullFalse", func() error {
			return put("hash_t", item{"pk": sv("x"), "attr1": &types.AttributeValueMemberNULL{Value: false}})
		}, val, "One or more parameter values were invalid: Null attribute value types must have the value of true", suite},
		{"Number39Digits", func() error {
			return put("hash_t", item{"pk": sv("x"), "n": nv("123456789012345678901234567890123456789")})
		}, val,
			"Attempting to store more than 38 significant digits in a Number", ref},
		{"NumberOverflow", func() error { return put("hash_t", item{"pk": sv("x"), "n": nv("1E+126")}) }, val,
			"Number overflow. Attempting to store a number with magnitude larger than supported range", ref},
		{"NumberNegOverflow", func() error { return put("hash_t", item{"pk": sv("x"), "n": nv("-1E+126")}) }, val,
			"Number overflow. Attempting to store a number with magnitude larger than supported range", ref},
		{"NumberUnderflow", func() error { return put("hash_t", item{"pk": sv("x"), "n": nv("1E-131")}) }, val,
			"Number underflow. Attempting to store a number with magnitude smaller than supported range", ref},
		{"NumberBadText", func() error { return put("hash_t", item{"pk": sv("x"), "n": nv("12abc")}) }, val,
			"The parameter cannot be converted to a numeric value: 12abc", ref},
		{"NumberEmpty", func() error { return put("hash_t", item{"pk": sv("x"), "n": nv("")}) }, val,
			"The parameter cannot be converted to a numeric value", ref},

		{"PutBadReturnValues", func() error {
			_, err := e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("hash_t"), Item: item{"pk": sv("x")}, ReturnValues: "INVALID"})
			return err
		}, val, "1 validation error detected: Value 'INVALID' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", ref},
		{"PutReturnValuesAllNew", func() error {
			_, err := e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("hash_t"), Item: item{"pk": sv("x")}, ReturnValues: types.ReturnValueAllNew})
			return err
		}, val, "ReturnValues can only be ALL_OLD or NONE", ref},
		{"DeleteReturnValuesAllNew", func() error {
			_, err := e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String("hash_t"), Key: item{"pk": sv("x")}, ReturnValues: types.ReturnValueAllNew})
			return err
		}, val, "ReturnValues can only be ALL_OLD or NONE", ref},
		{"GetBadReturnConsumedCapacity", func() error {
			_, err := e.db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String("hash_t"), Key: item{"pk": sv("x")}, ReturnConsumedCapacity: "INVALID"})
			return err
		}, val, "1 validation error detected: Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]", ref},
		{"EnumsBeforeTableLookup", func() error {
			_, err := e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("_conformance_valid_table_name"), Item: item{"pk": sv("x")},
				ReturnConsumedCapacity: "INVALID", ReturnItemCollectionMetrics: "INVALID", ReturnValues: "INVALID"})
			return err
		}, val, "3 validation errors detected: Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value 'INVALID' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; Value 'INVALID' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]", ref},
		{"TableNameAloneFirst", func() error {
			_, err := e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(""), Item: item{}, ReturnValues: "INVALID"})
			return err
		}, val, "1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1", ref},
		{"DeleteEnumsBeforeTableLookup", func() error {
			_, err := e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String("_conformance_valid_table_name"), Key: item{"pk": sv("x")},
				ReturnValues: "INVALID", ReturnConsumedCapacity: "INVALID"})
			return err
		}, val, "", suite},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err(), tc.code, tc.msg, tc.src) })
	}
	t.Run("EnumsBeforeTableLookupContains", func(t *testing.T) {
		_, err := e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String("_conformance_valid_table_name"), Key: item{"pk": sv("x")},
			ReturnValues: "INVALID", ReturnConsumedCapacity: "INVALID"})
		wantErrContains(t, err, val, "returnValues", "returnConsumedCapacity")
	})

	// Nothing above changed the table.
	wantItem(t, e.get(t, "hash_t", item{"pk": sv("keep")}), item{"pk": sv("keep"), "v": nv("1")})
	if it := e.get(t, "hash_t", item{"pk": sv("x")}); it != nil {
		t.Errorf("a rejected PutItem stored %v", normItem(it))
	}
	if d := e.describe(t, "hash_t"); aws.ToInt64(d.ItemCount) != 1 {
		t.Errorf("ItemCount = %d after rejected writes, want 1", aws.ToInt64(d.ItemCount))
	}
}

func TestItemSize(t *testing.T) {
	e := start(t)
	e.createHash(t, "hash_t")
	tooLarge := "Item size has exceeded the maximum allowed size"
	put := func(it item) error {
		_, err := e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("hash_t"), Item: it})
		return err
	}
	big := strings.Repeat("x", 390_000)
	if err := put(item{"pk": sv("big"), "data": sv(big)}); err != nil {
		t.Fatalf("390 000-character string: %v", err)
	}
	if got := e.get(t, "hash_t", item{"pk": sv("big")}); len(got["data"].(*types.AttributeValueMemberS).Value) != len(big) {
		t.Errorf("390 000-character string did not round-trip")
	}
	if err := put(item{"pk": sv("bin"), "data": bv(make([]byte, 350_000))}); err != nil {
		t.Errorf("350 000-byte binary: %v", err)
	}

	// Exactly at the limit: 409 600 bytes = "pk"(2) + "k"(1) + "d"(1) + value.
	if err := put(item{"pk": sv("k"), "d": sv(strings.Repeat("y", 409_600-4))}); err != nil {
		t.Errorf("item of exactly 409 600 bytes: %v", err)
	}
	wantErr(t, put(item{"pk": sv("k"), "d": sv(strings.Repeat("y", 409_600-3))}), "ValidationException", tooLarge, ref)

	manyAttrs := item{"pk": sv("many")}
	for i := 0; i < 100; i++ {
		manyAttrs[strings.Repeat("n", 200)+string(rune('A'+i%26))+string(rune('a'+i/26))+"xx"] = sv(strings.Repeat("v", 3900))
	}
	nested := mv(item{"inner": mv(item{"deep": sv(strings.Repeat("z", 410_000))})})
	var bigSet []string
	var bigList []types.AttributeValue
	for i := 0; i < 100; i++ {
		s := strings.Repeat(string(rune('a'+i%26)), 4200) + string(rune('0'+i/26))
		bigSet = append(bigSet, s)
		bigList = append(bigList, sv(s))
	}
	for _, tc := range []struct {
		name string
		it   item
	}{
		{"String410000", item{"pk": sv("o1"), "data": sv(strings.Repeat("x", 410_000))}},
		{"ManyAttributes", manyAttrs},
		{"NestedMap", item{"pk": sv("o3"), "m": nested}},
		{"StringSet", item{"pk": sv("o4"), "ss": ssv(bigSet...)}},
		{"List", item{"pk": sv("o5"), "l": lv(bigList...)}},
		{"Binary410000", item{"pk": sv("o6"), "b": bv(make([]byte, 410_000))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, put(tc.it), "ValidationException", tooLarge, ref)
			if got := e.get(t, "hash_t", item{"pk": tc.it["pk"]}); got != nil {
				t.Errorf("the oversize item was stored")
			}
		})
	}
}
