package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TransactWriteItems and TransactGetItems through the SDK, raw requests
// where the SDK refuses to send a request, and the change records a
// transaction leaves on the stream.

// Messages of transactions (suite: tier3 error-messages/transact*,
// conditionalCheck; tier2 transactions).
const (
	msgTxCanceledPrefix = "Transaction cancelled, please refer cancellation reasons for specific reasons ["
	msgTxDuplicate      = "Transaction request cannot include multiple operations on one item"
	msgCondFailed       = "The conditional request failed"
	msgNotFound         = "Requested resource not found"
	msgMinItems         = "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1"
	// Reference texts: DynamoDB Local's wording, the single-item operations'
	// messages for the same checks, and DynamoDB's documented
	// IdempotentParameterMismatchException text.
	msgTxNoAction      = "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request"
	msgTxManyActions   = "TransactItems can only contain one of Check, Put, Update or Delete"
	msgKeySchema       = "The provided key element does not match the schema"
	msgUpdateTooLarge  = "Item size to update has exceeded the maximum allowed size"
	msgIdempotentMatch = "The request uses the same client token as a previous, but non-identical request. " +
		"Do not reuse a client token with different requests, unless the requests are identical."
)

// maxItemsRE is the suite's anchored pattern for a list of 101 actions: the
// list is echoed in Java's toString form, which is not pinned down.
var maxItemsRE = regexp.MustCompile(`(?s)^1 validation error detected: Value '\[.+\]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100$`)

// Action constructors. vals may be nil.
func putAct(table string, it item) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: it}}
}

func delAct(table string, key item) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(table), Key: key}}
}

func updAct(table string, key item, update string, vals item) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(table), Key: key,
		UpdateExpression: aws.String(update), ExpressionAttributeValues: vals}}
}

func checkAct(table string, key item, cond string, vals item) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: key,
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}}
}

func getAct(table string, key item) types.TransactGetItem {
	return types.TransactGetItem{Get: &types.Get{TableName: aws.String(table), Key: key}}
}

// tx runs TransactWriteItems with the actions and nothing else (the SDK adds
// a fresh ClientRequestToken to every call).
func (e *env) tx(acts ...types.TransactWriteItem) error {
	_, err := e.db.TransactWriteItems(e.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: acts})
	return err
}

// wantCanceled fails t unless err is a TransactionCanceledException whose
// reasons have the codes given, in action order, and whose message lists
// them (suite). "None" reasons carry nothing else; ConditionalCheckFailed
// ones carry the suite's message. It returns the reasons.
func wantCanceled(t *testing.T, err error, codes ...string) []types.CancellationReason {
	t.Helper()
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		t.Fatalf("got %v, want TransactionCanceledException %v", err, codes)
	}
	if want := msgTxCanceledPrefix + strings.Join(codes, ", ") + "]"; aws.ToString(tc.Message) != want {
		t.Errorf("message (suite text):\n got: %q\nwant: %q", aws.ToString(tc.Message), want)
	}
	if len(tc.CancellationReasons) != len(codes) {
		t.Fatalf("%d CancellationReasons, want one per action (%d): %+v", len(tc.CancellationReasons), len(codes), tc.CancellationReasons)
	}
	for i, r := range tc.CancellationReasons {
		if got := aws.ToString(r.Code); got != codes[i] {
			t.Errorf("reason %d: Code %q, want %q", i, got, codes[i])
		}
		switch codes[i] {
		case "None":
			if r.Message != nil || r.Item != nil {
				t.Errorf("reason %d: None carries Message %q, Item %v", i, aws.ToString(r.Message), normItem(r.Item))
			}
		case "ConditionalCheckFailed":
			if got := aws.ToString(r.Message); got != msgCondFailed {
				t.Errorf("reason %d: Message %q, want %q (suite)", i, got, msgCondFailed)
			}
		}
	}
	return tc.CancellationReasons
}

// wantReasonMsg checks a ValidationError reason's message (reference text:
// the single-item operation's message for the same check).
func wantReasonMsg(t *testing.T, reasons []types.CancellationReason, i int, msg string) {
	t.Helper()
	if i >= len(reasons) {
		return
	}
	if got := aws.ToString(reasons[i].Message); got != msg {
		t.Errorf("reason %d message (reference text):\n got: %q\nwant: %q", i, got, msg)
	}
}

// wantAbsent fails t if the item exists.
func (e *env) wantAbsent(t *testing.T, table string, key item) {
	t.Helper()
	if it := e.get(t, table, key); it != nil {
		t.Errorf("%s %v exists: %v", table, normItem(key), normItem(it))
	}
}

// wantTxCapacity checks a transaction's ConsumedCapacity list: one entry
// per table with the units given (order not compared); with INDEXES each
// entry also carries Table with the same units, with TOTAL it does not.
func wantTxCapacity(t *testing.T, what string, got []types.ConsumedCapacity, indexes bool, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d ConsumedCapacity entries, want %d (one per table)", what, len(got), len(want))
	}
	for _, cc := range got {
		name := aws.ToString(cc.TableName)
		units, ok := want[name]
		if !ok {
			t.Errorf("%s: ConsumedCapacity for unexpected table %q", what, name)
			continue
		}
		if u := aws.ToFloat64(cc.CapacityUnits); u != units {
			t.Errorf("%s: %s CapacityUnits %v, want %v", what, name, u, units)
		}
		switch {
		case !indexes && cc.Table != nil:
			t.Errorf("%s: %s: Table present with TOTAL", what, name)
		case indexes && cc.Table == nil:
			t.Errorf("%s: %s: Table missing with INDEXES", what, name)
		case indexes && aws.ToFloat64(cc.Table.CapacityUnits) != units:
			t.Errorf("%s: %s Table.CapacityUnits %v, want %v", what, name, aws.ToFloat64(cc.Table.CapacityUnits), units)
		}
	}
}

func TestTransactWrite(t *testing.T) {
	e := start(t)
	e.createHash(t, "tx_h")
	e.createComposite(t, "tx_c", "N")
	hk := func(pk string) item { return item{"pk": sv(pk)} }
	ck := func(pk, sk string) item { return item{"pk": sv(pk), "sk": nv(sk)} }

	t.Run("AllKinds", func(t *testing.T) {
		e.put(t, "tx_h", item{"pk": sv("upd"), "n": nv("1"), "gone": sv("x")})
		e.put(t, "tx_h", item{"pk": sv("del"), "v": sv("bye")})
		e.put(t, "tx_h", item{"pk": sv("chk"), "status": sv("active")})
		e.put(t, "tx_c", item{"pk": sv("c"), "sk": nv("1"), "v": sv("old")})
		e.put(t, "tx_c", item{"pk": sv("c"), "sk": nv("2")})

		condPut := putAct("tx_h", item{"pk": sv("new"), "v": sv("created")})
		condPut.Put.ConditionExpression = aws.String("attribute_not_exists(pk)")
		upd := updAct("tx_h", hk("upd"), "SET n = n + :one REMOVE gone", item{":one": nv("1")})
		upd.Update.ConditionExpression = aws.String("attribute_exists(pk)")
		del := delAct("tx_h", hk("del"))
		del.Delete.ConditionExpression = aws.String("v = :v")
		del.Delete.ExpressionAttributeValues = item{":v": sv("bye")}
		chk := checkAct("tx_h", hk("chk"), "#s = :a", item{":a": sv("active")})
		chk.ConditionCheck.ExpressionAttributeNames = map[string]string{"#s": "status"}
		out := must(e.db.TransactWriteItems(e.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			condPut, upd, del, chk,
			putAct("tx_c", item{"pk": sv("c"), "sk": nv("3"), "ss": ssv("a", "b")}),
			updAct("tx_c", ck("c", "1"), "SET v = :v, l = list_append(if_not_exists(l, :none), :e)", item{":v": sv("new"), ":none": lv(), ":e": lv(nv("7"))}),
			delAct("tx_c", ck("c", "2")),
			// An Update of a missing item creates it, as UpdateItem does.
			updAct("tx_c", ck("c", "4"), "ADD cnt :one", item{":one": nv("1")}),
		}}))(t)
		if out.ConsumedCapacity != nil || out.ItemCollectionMetrics != nil {
			t.Errorf("unasked ConsumedCapacity %+v / ItemCollectionMetrics %+v", out.ConsumedCapacity, out.ItemCollectionMetrics)
		}
		wantItem(t, e.get(t, "tx_h", hk("new")), item{"pk": sv("new"), "v": sv("created")})
		wantItem(t, e.get(t, "tx_h", hk("upd")), item{"pk": sv("upd"), "n": nv("2")})
		e.wantAbsent(t, "tx_h", hk("del"))
		wantItem(t, e.get(t, "tx_h", hk("chk")), item{"pk": sv("chk"), "status": sv("active")})
		wantItem(t, e.get(t, "tx_c", ck("c", "3")), item{"pk": sv("c"), "sk": nv("3"), "ss": ssv("a", "b")})
		wantItem(t, e.get(t, "tx_c", ck("c", "1")), item{"pk": sv("c"), "sk": nv("1"), "v": sv("new"), "l": lv(nv("7"))})
		e.wantAbsent(t, "tx_c", ck("c", "2"))
		wantItem(t, e.get(t, "tx_c", ck("c", "4")), item{"pk": sv("c"), "sk": nv("4"), "cnt": nv("1")})

		// A table ARN names a table as well as its name does.
		arn := aws.ToString(e.describe(t, "tx_h").TableArn)
		must(0, e.tx(types.TransactWriteItem{Put: &types.Put{TableName: aws.String(arn), Item: item{"pk": sv("by-arn")}}}))(t)
		wantItem(t, e.get(t, "tx_h", hk("by-arn")), item{"pk": sv("by-arn")})
	})

	t.Run("Atomicity", func(t *testing.T) {
		e.put(t, "tx_h", item{"pk": sv("taken"), "v": sv("orig")})
		e.put(t, "tx_h", item{"pk": sv("cnt"), "n": nv("5")})
		e.put(t, "tx_c", item{"pk": sv("a"), "sk": nv("1"), "v": sv("keep")})
		failing := putAct("tx_h", item{"pk": sv("taken"), "v": sv("over")})
		failing.Put.ConditionExpression = aws.String("attribute_not_exists(pk)")
		err := e.tx(
			putAct("tx_h", item{"pk": sv("fresh")}),
			updAct("tx_h", hk("cnt"), "SET n = :x", item{":x": nv("99")}),
			failing,
			delAct("tx_c", ck("a", "1")),
		)
		reasons := wantCanceled(t, err, "None", "None", "ConditionalCheckFailed", "None")
		if reasons[2].Item != nil {
			t.Errorf("failed condition without ReturnValuesOnConditionCheckFailure returned Item %v", normItem(reasons[2].Item))
		}
		e.wantAbsent(t, "tx_h", hk("fresh"))
		wantItem(t, e.get(t, "tx_h", hk("cnt")), item{"pk": sv("cnt"), "n": nv("5")})
		wantItem(t, e.get(t, "tx_h", hk("taken")), item{"pk": sv("taken"), "v": sv("orig")})
		wantItem(t, e.get(t, "tx_c", ck("a", "1")), item{"pk": sv("a"), "sk": nv("1"), "v": sv("keep")})

		// Every failing action has its reason (suite: two failing actions).
		second := checkAct("tx_h", hk("cnt"), "n > :big", item{":big": nv("10")})
		wantCanceled(t, e.tx(failing, putAct("tx_h", hk("fresh")), second), "ConditionalCheckFailed", "None", "ConditionalCheckFailed")
		e.wantAbsent(t, "tx_h", hk("fresh"))

		// A condition on a missing item fails without creating it (suite:
		// no ghost item), and an Update's condition is checked too.
		ghost := updAct("tx_h", hk("ghost"), "ADD hits :one", item{":one": nv("1")})
		ghost.Update.ConditionExpression = aws.String("attribute_exists(pk)")
		wantCanceled(t, e.tx(ghost), "ConditionalCheckFailed")
		e.wantAbsent(t, "tx_h", hk("ghost"))
		delCond := delAct("tx_h", hk("taken"))
		delCond.Delete.ConditionExpression = aws.String("v = :v")
		delCond.Delete.ExpressionAttributeValues = item{":v": sv("other")}
		wantCanceled(t, e.tx(putAct("tx_c", item{"pk": sv("a"), "sk": nv("2")}), delCond), "None", "ConditionalCheckFailed")
		wantItem(t, e.get(t, "tx_h", hk("taken")), item{"pk": sv("taken"), "v": sv("orig")})
		e.wantAbsent(t, "tx_c", ck("a", "2"))
	})

	t.Run("ReturnValuesOnConditionCheckFailure", func(t *testing.T) {
		stored := item{"pk": sv("rv"), "v": sv("original"), "m": mv(item{"n": nv("1.5")}), "ss": ssv("x", "y")}
		e.put(t, "tx_h", stored)
		withRV := func(a types.TransactWriteItem, rv types.ReturnValuesOnConditionCheckFailure) types.TransactWriteItem {
			switch {
			case a.Put != nil:
				a.Put.ReturnValuesOnConditionCheckFailure = rv
			case a.Update != nil:
				a.Update.ReturnValuesOnConditionCheckFailure = rv
			case a.Delete != nil:
				a.Delete.ReturnValuesOnConditionCheckFailure = rv
			case a.ConditionCheck != nil:
				a.ConditionCheck.ReturnValuesOnConditionCheckFailure = rv
			}
			return a
		}
		put := putAct("tx_h", item{"pk": sv("rv"), "v": sv("new")})
		put.Put.ConditionExpression = aws.String("attribute_not_exists(pk)")
		// A passing action that asks for ALL_OLD gets nothing: it did not fail.
		passing := withRV(checkAct("tx_h", hk("taken"), "attribute_exists(pk)", nil), types.ReturnValuesOnConditionCheckFailureAllOld)
		reasons := wantCanceled(t, e.tx(passing, withRV(put, types.ReturnValuesOnConditionCheckFailureAllOld)), "None", "ConditionalCheckFailed")
		wantItem(t, reasons[1].Item, stored)

		reasons = wantCanceled(t, e.tx(withRV(put, types.ReturnValuesOnConditionCheckFailureNone)), "ConditionalCheckFailed")
		if reasons[0].Item != nil {
			t.Errorf("NONE: Item %v, want absent", normItem(reasons[0].Item))
		}
		for _, a := range []types.TransactWriteItem{
			checkAct("tx_h", hk("rv"), "v = :v", item{":v": sv("other")}),
			func() types.TransactWriteItem {
				u := updAct("tx_h", hk("rv"), "SET v = :v", item{":v": sv("other")})
				u.Update.ConditionExpression = aws.String("v = :v")
				return u
			}(),
			func() types.TransactWriteItem {
				d := delAct("tx_h", hk("rv"))
				d.Delete.ConditionExpression = aws.String("attribute_not_exists(v)")
				return d
			}(),
		} {
			reasons = wantCanceled(t, e.tx(withRV(a, types.ReturnValuesOnConditionCheckFailureAllOld)), "ConditionalCheckFailed")
			wantItem(t, reasons[0].Item, stored)
		}
		// A failed condition on a missing item has no item to return.
		reasons = wantCanceled(t, e.tx(withRV(checkAct("tx_h", hk("nothing"), "attribute_exists(pk)", nil), types.ReturnValuesOnConditionCheckFailureAllOld)),
			"ConditionalCheckFailed")
		if reasons[0].Item != nil {
			t.Errorf("missing item: Item %v, want absent", normItem(reasons[0].Item))
		}
		wantItem(t, e.get(t, "tx_h", hk("rv")), stored)
	})

	t.Run("ValidationError", func(t *testing.T) {
		// Per-action validation cancels the transaction with a ValidationError
		// reason for the action (suite: TransactGetItems with an empty Key);
		// the reason's message is the single-item operation's.
		for _, tc := range []struct {
			name  string
			act   types.TransactWriteItem
			msg   string
			table string
			key   item
		}{
			{"PutKeyTypeMismatch", putAct("tx_h", item{"pk": nv("1"), "v": sv("x")}),
				"One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N", "", nil},
			{"PutSortKeyTypeMismatch", putAct("tx_c", item{"pk": sv("v"), "sk": sv("1")}),
				"One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S", "", nil},
			{"PutMissingHashKey", putAct("tx_h", item{"other": sv("x")}),
				"One or more parameter values were invalid: Missing the key pk in the item", "", nil},
			{"PutMissingSortKey", putAct("tx_c", item{"pk": sv("v")}),
				"One or more parameter values were invalid: Missing the key sk in the item", "", nil},
			{"UpdateKeyAttribute", updAct("tx_h", hk("upd"), "SET pk = :v", item{":v": sv("z")}),
				"One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key", "tx_h", hk("upd")},
			{"UpdateSortKeyAttribute", updAct("tx_c", ck("c", "1"), "REMOVE sk", nil),
				"One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key", "tx_c", ck("c", "1")},
			{"DeleteKeyTypeMismatch", delAct("tx_c", item{"pk": sv("c"), "sk": sv("1")}), msgKeySchema, "tx_c", ck("c", "1")},
			{"DeleteMissingSortKey", delAct("tx_c", item{"pk": sv("c")}), msgKeySchema, "", nil},
			{"UpdateExtraKeyAttribute", updAct("tx_h", item{"pk": sv("upd"), "x": sv("y")}, "SET a = :a", item{":a": sv("b")}), msgKeySchema, "", nil},
			{"CheckKeyTypeMismatch", checkAct("tx_h", item{"pk": bv([]byte("a"))}, "attribute_exists(pk)", nil), msgKeySchema, "", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var before item
				if tc.key != nil {
					before = e.get(t, tc.table, tc.key)
				}
				// A valid action alongside: its reason is None, and it is not written.
				err := e.tx(putAct("tx_h", item{"pk": sv("val-" + tc.name)}), tc.act)
				reasons := wantCanceled(t, err, "None", "ValidationError")
				wantReasonMsg(t, reasons, 1, tc.msg)
				e.wantAbsent(t, "tx_h", hk("val-"+tc.name))
				if tc.key != nil {
					wantItem(t, e.get(t, tc.table, tc.key), before)
				}
			})
		}

		t.Run("UpdatePast400KB", func(t *testing.T) {
			big := strings.Repeat("x", 300_000)
			e.put(t, "tx_h", item{"pk": sv("big"), "a": sv(big)})
			err := e.tx(putAct("tx_h", hk("small")), updAct("tx_h", hk("big"), "SET b = :b", item{":b": sv(big)}))
			reasons := wantCanceled(t, err, "None", "ValidationError")
			wantReasonMsg(t, reasons, 1, msgUpdateTooLarge)
			e.wantAbsent(t, "tx_h", hk("small"))
			if got := e.get(t, "tx_h", hk("big")); got["b"] != nil {
				t.Errorf("the oversized update was applied")
			}
		})
	})

	t.Run("RequestErrors", func(t *testing.T) {
		const (
			val      = "ValidationException"
			notFound = "ResourceNotFoundException"
		)
		for _, tc := range []struct {
			name string
			acts []types.TransactWriteItem
			code string
			msg  string
			src  string
		}{
			{"DuplicatePuts", []types.TransactWriteItem{putAct("tx_h", hk("dup")), putAct("tx_h", item{"pk": sv("dup"), "v": sv("2")})}, val, msgTxDuplicate, suite},
			{"DuplicateCheckAndUpdate", []types.TransactWriteItem{checkAct("tx_h", hk("dup"), "attribute_not_exists(pk)", nil),
				updAct("tx_h", hk("dup"), "SET v = :v", item{":v": sv("1")})}, val, msgTxDuplicate, suite},
			// 1 and 1.0 are the same number, so the same sort key.
			{"DuplicateNumericKey", []types.TransactWriteItem{putAct("tx_c", ck("dup", "1")), delAct("tx_c", ck("dup", "1.0"))}, val, msgTxDuplicate, suite},
			{"MissingTable", []types.TransactWriteItem{putAct("tx_h", hk("mt")), putAct("tx_nope", hk("mt"))}, notFound, msgNotFound, suite},
			{"Empty", []types.TransactWriteItem{}, val, msgMinItems, suite},
			{"NoAction", []types.TransactWriteItem{putAct("tx_h", hk("na")), {}}, val, msgTxNoAction, ref},
			{"TwoActions", []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String("tx_h"), Item: hk("ta")},
				Delete: &types.Delete{TableName: aws.String("tx_h"), Key: hk("tb")}}}, val, msgTxManyActions, ref},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, e.tx(tc.acts...), tc.code, tc.msg, tc.src)
			})
		}
		for _, pk := range []string{"dup", "mt", "na", "ta"} {
			e.wantAbsent(t, "tx_h", hk(pk))
		}
		e.wantAbsent(t, "tx_c", ck("dup", "1"))

		t.Run("Limit", func(t *testing.T) {
			acts := make([]types.TransactWriteItem, 101)
			for i := range acts {
				acts[i] = putAct("tx_h", hk(fmt.Sprintf("lim-%d", i)))
			}
			err := e.tx(acts...)
			wantErr(t, err, val, "", suite)
			wantErrMatch(t, err, maxItemsRE)
			e.wantAbsent(t, "tx_h", hk("lim-0"))
			must(0, e.tx(acts[:100]...))(t) // exactly 100 is allowed (suite)
			wantItem(t, e.get(t, "tx_h", hk("lim-99")), hk("lim-99"))
		})

		// The SDK refuses to send these (required members); DynamoDB's
		// request validation answers them.
		t.Run("ConditionCheckWithoutCondition", func(t *testing.T) {
			st, _, body := e.raw(t, "TransactWriteItems",
				`{"TransactItems":[{"ConditionCheck":{"TableName":"tx_h","Key":{"pk":{"S":"chk"}}}}]}`, nil)
			wantRaw(t, st, body, 400, "com.amazon.coral.validate#ValidationException",
				"1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null")
		})
		t.Run("UpdateWithoutUpdateExpression", func(t *testing.T) {
			st, _, body := e.raw(t, "TransactWriteItems",
				`{"TransactItems":[{"Put":{"TableName":"tx_h","Item":{"pk":{"S":"nou-1"}}}},{"Update":{"TableName":"tx_h","Key":{"pk":{"S":"nou-2"}}}}]}`, nil)
			wantRaw(t, st, body, 400, "com.amazon.coral.validate#ValidationException",
				"1 validation error detected: Value null at 'transactItems.2.member.update.updateExpression' failed to satisfy constraint: Member must not be null")
			e.wantAbsent(t, "tx_h", hk("nou-1"))
			e.wantAbsent(t, "tx_h", hk("nou-2"))
		})
		t.Run("RawNoActionAndTwoActions", func(t *testing.T) {
			st, _, body := e.raw(t, "TransactWriteItems", `{"TransactItems":[{}]}`, nil)
			wantRaw(t, st, body, 400, "com.amazon.coral.validate#ValidationException", msgTxNoAction)
			st, _, body = e.raw(t, "TransactWriteItems",
				`{"TransactItems":[{"Put":{"TableName":"tx_h","Item":{"pk":{"S":"two"}}},"ConditionCheck":{"TableName":"tx_h","Key":{"pk":{"S":"two"}},"ConditionExpression":"attribute_exists(pk)"}}]}`, nil)
			wantRaw(t, st, body, 400, "com.amazon.coral.validate#ValidationException", msgTxManyActions)
			st, _, body = e.raw(t, "TransactWriteItems", `{}`, nil)
			wantRaw(t, st, body, 400, "com.amazon.coral.validate#ValidationException",
				"1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null")
			e.wantAbsent(t, "tx_h", hk("two"))
		})
		// Empty key values are refused before the transaction runs, so they
		// are the call's ValidationException; a value of the wrong type
		// cancels it (recorded from DynamoDB, eu-west-2).
		t.Run("EmptyKeyValues", func(t *testing.T) {
			const emptyKey = "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
			for name, act := range map[string]types.TransactWriteItem{
				"Put":            putAct("tx_h", hk("")),
				"Update":         updAct("tx_h", hk(""), "SET a = :a", item{":a": sv("x")}),
				"Delete":         delAct("tx_h", hk("")),
				"ConditionCheck": checkAct("tx_h", hk(""), "attribute_not_exists(pk)", nil),
			} {
				t.Run(name, func(t *testing.T) {
					// Even beside an action that would cancel the transaction.
					failing := checkAct("tx_h", hk("absent-"+name), "attribute_exists(pk)", nil)
					wantErr(t, e.tx(failing, act), val, emptyKey, recorded)
				})
			}
		})
		t.Run("IndexKeyValues", func(t *testing.T) {
			must(e.db.CreateTable(e.ctx, conformanceComposite("tx_ix")))(t)
			ik := func(sk string, v types.AttributeValue) item { return item{"pk": sv("ix"), "sk": sv(sk), "lsi1sk": v} }
			// The alphabetically first index lsi1sk keys is gsi1, not lsi1.
			const mismatch = "One or more parameter values were invalid: Type mismatch for Index Key lsi1sk Expected: S Actual: N IndexName: gsi1"
			reasons := wantCanceled(t, e.tx(putAct("tx_h", hk("ix-ok")), putAct("tx_ix", ik("a", nv("5")))), "None", "ValidationError")
			wantReasonMsg(t, reasons, 1, mismatch)
			reasons = wantCanceled(t, e.tx(updAct("tx_ix", item{"pk": sv("ix"), "sk": sv("b")}, "SET lsi1sk = :v", item{":v": nv("5")})), "ValidationError")
			wantReasonMsg(t, reasons, 0, mismatch)
			wantErr(t, e.tx(putAct("tx_ix", ik("c", sv("")))), val,
				"One or more parameter values are not valid. A value specified for a secondary index key is not supported. "+
					"The AttributeValue for a key attribute cannot contain an empty string value. IndexName: gsi1, IndexKey: lsi1sk", recorded)
			wantErr(t, e.tx(putAct("tx_h", hk("ix-ok")), updAct("tx_ix", item{"pk": sv("ix"), "sk": sv("d")}, "SET lsi1sk = :v", item{":v": sv("")})), val,
				"One or more parameter values are not valid. The update expression attempted to update a secondary index key to a value that is not supported. "+
					"The AttributeValue for a key attribute cannot contain an empty string value.", recorded)
			e.wantAbsent(t, "tx_h", hk("ix-ok"))
			for _, sk := range []string{"a", "b", "c", "d"} {
				e.wantAbsent(t, "tx_ix", item{"pk": sv("ix"), "sk": sv(sk)})
			}
		})
		t.Run("Over4MB", func(t *testing.T) {
			// 12 items of about 350 KB (suite: transaction limits).
			acts := make([]types.TransactWriteItem, 12)
			for i := range acts {
				acts[i] = putAct("tx_h", item{"pk": sv(fmt.Sprintf("4mb-%d", i)), "p": sv(strings.Repeat("x", 350_000))})
			}
			wantErr(t, e.tx(acts...), val, "", suite)
			e.wantAbsent(t, "tx_h", hk("4mb-0"))
			must(0, e.tx(acts[:10]...))(t) // about 3.5 MB is allowed
		})
	})
}

func TestTransactCapacity(t *testing.T) {
	e := start(t)
	e.createHash(t, "cap_h")
	e.createComposite(t, "cap_c", "N")
	const (
		total   = types.ReturnConsumedCapacityTotal
		indexes = types.ReturnConsumedCapacityIndexes
	)
	write := func(rcc types.ReturnConsumedCapacity, acts ...types.TransactWriteItem) []types.ConsumedCapacity {
		t.Helper()
		return must(e.db.TransactWriteItems(e.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: acts, ReturnConsumedCapacity: rcc}))(t).ConsumedCapacity
	}
	// Sizes: name plus value; "pk"+"k1" = 4 bytes, "data" = 4 bytes.
	kb1 := item{"pk": sv("k1"), "data": sv(strings.Repeat("x", 1024-8))}     // exactly 1 KB: 2 units
	kb1plus := item{"pk": sv("k2"), "data": sv(strings.Repeat("x", 1024-7))} // 1 KB + 1: 4 units
	shrink := item{"pk": sv("k3"), "data": sv(strings.Repeat("x", 1024-7))}
	small := item{"pk": sv("c"), "sk": nv("1")}

	// Two write units per started KB of each item (transactional writes
	// cost twice a standard write), per table.
	wantTxCapacity(t, "Puts", write(total, putAct("cap_h", kb1), putAct("cap_c", small), putAct("cap_h", kb1plus), putAct("cap_h", shrink)),
		false, map[string]float64{"cap_h": 10, "cap_c": 2})
	// Update: the larger of the old and new item; Delete: the old item, 2 if
	// missing; ConditionCheck: 2 for a small item (it is billed as a write).
	remove := updAct("cap_h", item{"pk": sv("k3")}, "REMOVE #d", nil) // shrinks from 1 KB + 1: 4
	remove.Update.ExpressionAttributeNames = map[string]string{"#d": "data"}
	got := write(indexes,
		updAct("cap_h", item{"pk": sv("k1")}, "SET more = :m", item{":m": sv("grow")}), // 1 KB grows past 1 KB: 4
		remove,
		delAct("cap_h", item{"pk": sv("k2")}),   // 1 KB + 1: 4
		delAct("cap_h", item{"pk": sv("none")}), // missing: 2
		checkAct("cap_c", small, "attribute_exists(pk)", nil), // 2
	)
	wantTxCapacity(t, "Update, Delete, ConditionCheck (INDEXES)", got, true, map[string]float64{"cap_h": 14, "cap_c": 2})
	if cc := write(types.ReturnConsumedCapacityNone, putAct("cap_h", kb1)); cc != nil {
		t.Errorf("NONE: ConsumedCapacity = %+v, want absent", cc)
	}
	if cc := write("", putAct("cap_h", kb1)); cc != nil {
		t.Errorf("unset: ConsumedCapacity = %+v, want absent", cc)
	}

	// TransactGetItems: two read units per started 4 KB, 2 for a missing item.
	e.put(t, "cap_h", item{"pk": sv("g4k"), "data": sv(strings.Repeat("x", 4096-9))})  // exactly 4 KB: 2
	e.put(t, "cap_h", item{"pk": sv("g4k1"), "data": sv(strings.Repeat("x", 4096-9))}) // 4 KB + 1: 4
	read := func(rcc types.ReturnConsumedCapacity) []types.ConsumedCapacity {
		t.Helper()
		out := must(e.db.TransactGetItems(e.ctx, &dynamodb.TransactGetItemsInput{ReturnConsumedCapacity: rcc, TransactItems: []types.TransactGetItem{
			getAct("cap_h", item{"pk": sv("g4k")}), getAct("cap_h", item{"pk": sv("g4k1")}),
			getAct("cap_h", item{"pk": sv("missing")}), getAct("cap_c", small),
		}}))(t)
		if len(out.Responses) != 4 {
			t.Errorf("TransactGetItems: %d responses, want 4", len(out.Responses))
		}
		return out.ConsumedCapacity
	}
	wantTxCapacity(t, "TransactGetItems TOTAL", read(total), false, map[string]float64{"cap_h": 8, "cap_c": 2})
	wantTxCapacity(t, "TransactGetItems INDEXES", read(indexes), true, map[string]float64{"cap_h": 8, "cap_c": 2})
	if cc := read(types.ReturnConsumedCapacityNone); cc != nil {
		t.Errorf("TransactGetItems NONE: ConsumedCapacity = %+v, want absent", cc)
	}
}

func TestTransactToken(t *testing.T) {
	e := start(t)
	e.createHash(t, "tok_h")
	big := strings.Repeat("x", 5000) // "pk"+"big"+"data"+5000 = 5009 bytes: 10 write units, 4 read units
	in := func(token string, n string) *dynamodb.TransactWriteItemsInput {
		return &dynamodb.TransactWriteItemsInput{
			ClientRequestToken:     aws.String(token),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			TransactItems: []types.TransactWriteItem{
				updAct("tok_h", item{"pk": sv("ctr")}, "ADD n :one", item{":one": nv(n)}),
				putAct("tok_h", item{"pk": sv("big"), "data": sv(big)}),
			},
		}
	}
	wantCounter := func(when, n string) {
		t.Helper()
		got := e.get(t, "tok_h", item{"pk": sv("ctr")})
		if c, ok := got["n"].(*types.AttributeValueMemberN); !ok || c.Value != n {
			t.Errorf("%s: counter %v, want %s", when, norm(got["n"]), n)
		}
	}

	out := must(e.db.TransactWriteItems(e.ctx, in("tok-1", "1")))(t)
	wantTxCapacity(t, "first call", out.ConsumedCapacity, false, map[string]float64{"tok_h": 2 + 10})
	wantCounter("after the first call", "1")

	// A repeat within ten minutes changes nothing and succeeds; its capacity
	// is that of reading the items (API reference, ClientRequestToken).
	for i := range 2 {
		out = must(e.db.TransactWriteItems(e.ctx, in("tok-1", "1")))(t)
		wantTxCapacity(t, fmt.Sprintf("repeat %d (read units)", i+1), out.ConsumedCapacity, false, map[string]float64{"tok_h": 2 + 4})
		wantCounter("after a repeat", "1")
	}

	// The same token with other parameters (suite).
	_, err := e.db.TransactWriteItems(e.ctx, in("tok-1", "2"))
	wantErr(t, err, "IdempotentParameterMismatchException", msgIdempotentMatch, ref)
	var ipm *types.IdempotentParameterMismatchException
	if !errors.As(err, &ipm) {
		t.Errorf("errors.As(*types.IdempotentParameterMismatchException) failed for %v", err)
	}
	wantCounter("after a mismatch", "1")

	// The same request with its JSON members in another order is the same
	// request.
	reordered := `{"ReturnConsumedCapacity":"TOTAL","TransactItems":[` +
		`{"Update":{"ExpressionAttributeValues":{":one":{"N":"1"}},"UpdateExpression":"ADD n :one","Key":{"pk":{"S":"ctr"}},"TableName":"tok_h"}},` +
		`{"Put":{"Item":{"data":{"S":"` + big + `"},"pk":{"S":"big"}},"TableName":"tok_h"}}],"ClientRequestToken":"tok-1"}`
	st, _, body := e.raw(t, "TransactWriteItems", reordered, nil)
	if st != 200 {
		t.Errorf("reordered repeat: %d %s, want 200", st, body)
	}
	wantCounter("after a reordered repeat", "1")

	// A new token is a new request.
	must(e.db.TransactWriteItems(e.ctx, in("tok-2", "1")))(t)
	wantCounter("after a new token", "2")

	// A cancelled request leaves no token behind: repeating it once its
	// condition holds applies it.
	guarded := &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String("tok-3"), TransactItems: []types.TransactWriteItem{
		checkAct("tok_h", item{"pk": sv("gate")}, "attribute_exists(pk)", nil),
		updAct("tok_h", item{"pk": sv("ctr")}, "ADD n :one", item{":one": nv("1")}),
	}}
	_, err = e.db.TransactWriteItems(e.ctx, guarded)
	wantCanceled(t, err, "ConditionalCheckFailed", "None")
	e.put(t, "tok_h", item{"pk": sv("gate")})
	must(e.db.TransactWriteItems(e.ctx, guarded))(t)
	wantCounter("after the cancelled request's retry", "3")
	must(e.db.TransactWriteItems(e.ctx, guarded))(t)
	wantCounter("after repeating it", "3")

	// Tokens are stored durably: they answer after a restart.
	e.srv.Restart(t)
	out = must(e.db.TransactWriteItems(e.ctx, in("tok-1", "1")))(t)
	wantTxCapacity(t, "repeat after restart", out.ConsumedCapacity, false, map[string]float64{"tok_h": 2 + 4})
	must(e.db.TransactWriteItems(e.ctx, guarded))(t)
	wantCounter("after repeats following a restart", "3")
	_, err = e.db.TransactWriteItems(e.ctx, in("tok-2", "5"))
	wantErr(t, err, "IdempotentParameterMismatchException", msgIdempotentMatch, ref)
	wantCounter("after a mismatch following a restart", "3")

	// The token's length is checked (1 to 36 characters).
	_, err = e.db.TransactWriteItems(e.ctx, in(strings.Repeat("t", 37), "1"))
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '"+strings.Repeat("t", 37)+
		"' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36", ref)
	wantCounter("after a token too long", "3")
	// With an unknown ReturnConsumedCapacity, the token is reported first
	// (recorded from DynamoDB, us-east-1).
	long := in(strings.Repeat("t", 37), "1")
	long.ReturnConsumedCapacity = "BOGUS"
	_, err = e.db.TransactWriteItems(e.ctx, long)
	wantErr(t, err, "ValidationException", "2 validation errors detected: Value '"+strings.Repeat("t", 37)+
		"' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36; "+
		"Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]", recorded)
}

func TestTransactGet(t *testing.T) {
	e := start(t)
	e.createHash(t, "tg_h")
	e.createComposite(t, "tg_c", "S")
	full := item{"pk": sv("a"), "n": nv("1"), "m": mv(item{"k": sv("v"), "j": nv("2")}), "l": lv(nv("1"), nv("2"), nv("3")), "status": sv("on")}
	e.put(t, "tg_h", full)
	e.put(t, "tg_h", item{"pk": sv("b"), "n": nv("2")})
	comp := item{"pk": sv("a"), "sk": sv("x"), "data": sv("comp")}
	e.put(t, "tg_c", comp)
	get := func(gets ...types.TransactGetItem) (*dynamodb.TransactGetItemsOutput, error) {
		return e.db.TransactGetItems(e.ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets})
	}

	t.Run("Items", func(t *testing.T) {
		proj := getAct("tg_h", item{"pk": sv("a")})
		proj.Get.ProjectionExpression = aws.String("m.k, l[1], #s")
		proj.Get.ExpressionAttributeNames = map[string]string{"#s": "status"}
		out := must(get(
			getAct("tg_h", item{"pk": sv("a")}),
			getAct("tg_h", item{"pk": sv("missing")}),
			getAct("tg_c", item{"pk": sv("a"), "sk": sv("x")}),
			getAct("tg_c", item{"pk": sv("a"), "sk": sv("y")}),
			getAct("tg_h", item{"pk": sv("b")}),
		))(t)
		if len(out.Responses) != 5 {
			t.Fatalf("%d responses, want one per Get (5)", len(out.Responses))
		}
		wantItem(t, out.Responses[0].Item, full)
		if out.Responses[1].Item != nil || out.Responses[3].Item != nil {
			t.Errorf("missing items: %v, %v; want empty entries", normItem(out.Responses[1].Item), normItem(out.Responses[3].Item))
		}
		wantItem(t, out.Responses[2].Item, comp)
		wantItem(t, out.Responses[4].Item, item{"pk": sv("b"), "n": nv("2")})
		if out.ConsumedCapacity != nil {
			t.Errorf("unasked ConsumedCapacity %+v", out.ConsumedCapacity)
		}

		out = must(get(proj, getAct("tg_c", item{"pk": sv("a"), "sk": sv("x")})))(t)
		if len(out.Responses) != 2 {
			t.Fatalf("%d responses, want 2", len(out.Responses))
		}
		wantItem(t, out.Responses[0].Item, item{"m": mv(item{"k": sv("v")}), "l": lv(nv("2")), "status": sv("on")})
		wantItem(t, out.Responses[1].Item, comp)

		// The raw answer: an empty object for a missing item.
		st, _, body := e.raw(t, "TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"tg_h","Key":{"pk":{"S":"missing"}}}},{"Get":{"TableName":"tg_h","Key":{"pk":{"S":"b"}}}}]}`, nil)
		if want := `{"Responses":[{},{"Item":{"n":{"N":"2"},"pk":{"S":"b"}}}]}`; st != 200 || !sameJSON(body, want) {
			t.Errorf("raw TransactGetItems: %d %s, want 200 %s", st, body, want)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		// A key that does not fit the schema cancels the read with a
		// ValidationError for it (suite: an empty Key).
		for _, tc := range []struct {
			name string
			key  item
		}{
			{"EmptyKey", item{}},
			{"WrongType", item{"pk": nv("1")}},
			{"ExtraAttribute", item{"pk": sv("a"), "n": nv("1")}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := get(getAct("tg_h", item{"pk": sv("a")}), getAct("tg_h", tc.key))
				reasons := wantCanceled(t, err, "None", "ValidationError")
				wantReasonMsg(t, reasons, 1, msgKeySchema)
			})
		}
		_, err := get(getAct("tg_c", item{"pk": sv("a")}))
		wantReasonMsg(t, wantCanceled(t, err, "ValidationError"), 0, msgKeySchema)

		_, err = get(getAct("tg_h", item{"pk": sv("a")}), getAct("tg_h", item{"pk": sv("a")}))
		wantErr(t, err, "ValidationException", msgTxDuplicate, suite)
		_, err = get(getAct("tg_h", item{"pk": sv("a")}), getAct("tg_nope", item{"pk": sv("a")}))
		wantErr(t, err, "ResourceNotFoundException", msgNotFound, suite)
		_, err = get([]types.TransactGetItem{}...)
		wantErr(t, err, "ValidationException", msgMinItems, suite)
		gets := make([]types.TransactGetItem, 101)
		for i := range gets {
			gets[i] = getAct("tg_h", item{"pk": sv(fmt.Sprintf("g%d", i))})
		}
		_, err = get(gets...)
		wantErr(t, err, "ValidationException", "", suite)
		wantErrMatch(t, err, maxItemsRE)
		out := must(get(gets[:100]...))(t)
		if len(out.Responses) != 100 {
			t.Errorf("100 gets: %d responses", len(out.Responses))
		}
		bad := getAct("tg_h", item{"pk": sv("a")})
		bad.Get.ProjectionExpression = aws.String("!!!")
		_, err = get(bad)
		wantErr(t, err, "ValidationException", `Invalid ProjectionExpression: Syntax error; token: "!", near: "!!"`, suite)
	})
}

// TestTransactConcurrency checks the documented choice that conflicting
// transactions wait instead of failing, and that TransactGetItems sees
// every transaction whole.
func TestTransactConcurrency(t *testing.T) {
	e := start(t)
	e.createHash(t, "cc_h")
	e.createComposite(t, "cc_c", "N")
	e.put(t, "cc_h", item{"pk": sv("a"), "bal": nv("100")})
	e.put(t, "cc_h", item{"pk": sv("b"), "bal": nv("0")})

	const workers, each = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				err := e.tx(
					updAct("cc_h", item{"pk": sv("ctr")}, "ADD n :one", item{":one": nv("1")}),
					updAct("cc_c", item{"pk": sv("ctr"), "sk": nv("1")}, "ADD n :one", item{":one": nv("1")}),
				)
				if err != nil {
					t.Errorf("worker %d, transaction %d: %v (conflicting transactions must wait, not fail)", w, i, err)
				}
			}
		})
	}
	// Transfers from a to b, while readers check that the total never moves.
	wg.Go(func() {
		for i := range 50 {
			from := updAct("cc_h", item{"pk": sv("a")}, "SET bal = bal - :one", item{":one": nv("1")})
			from.Update.ConditionExpression = aws.String("bal >= :one")
			if err := e.tx(from, updAct("cc_h", item{"pk": sv("b")}, "SET bal = bal + :one", item{":one": nv("1")})); err != nil {
				t.Errorf("transfer %d: %v", i, err)
			}
		}
	})
	for r := range 2 {
		wg.Go(func() {
			for i := range 50 {
				out, err := e.db.TransactGetItems(e.ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
					getAct("cc_h", item{"pk": sv("a")}), getAct("cc_h", item{"pk": sv("b")}),
				}})
				if err != nil {
					t.Errorf("reader %d, read %d: %v", r, i, err)
					continue
				}
				var sum int
				for _, resp := range out.Responses {
					var n int
					fmt.Sscan(resp.Item["bal"].(*types.AttributeValueMemberN).Value, &n)
					sum += n
				}
				if sum != 100 {
					t.Errorf("reader %d, read %d: a + b = %d, want 100 (a transaction seen in part)", r, i, sum)
				}
			}
		})
	}
	wg.Wait()
	n := fmt.Sprint(workers * each)
	wantItem(t, e.get(t, "cc_h", item{"pk": sv("ctr")}), item{"pk": sv("ctr"), "n": nv(n)})
	wantItem(t, e.get(t, "cc_c", item{"pk": sv("ctr"), "sk": nv("1")}), item{"pk": sv("ctr"), "sk": nv("1"), "n": nv(n)})
	wantItem(t, e.get(t, "cc_h", item{"pk": sv("a")}), item{"pk": sv("a"), "bal": nv("50")})
	wantItem(t, e.get(t, "cc_h", item{"pk": sv("b")}), item{"pk": sv("b"), "bal": nv("50")})
}

// TestTransactChangeFeed checks the records of transactions: every record of
// one transaction carries the same ce-correlationid, single-item writes carry
// none, and a transaction that changes nothing writes nothing.
func TestTransactChangeFeed(t *testing.T) {
	e := start(t)
	e.createHash(t, "feed_h")
	e.createComposite(t, "feed_c", "N")
	hk := func(pk string) item { return item{"pk": sv(pk)} }
	ck := func(pk, sk string) item { return item{"pk": sv(pk), "sk": nv(sk)} }

	e.put(t, "feed_h", item{"pk": sv("single"), "v": sv("1")})
	e.put(t, "feed_c", item{"pk": sv("p"), "sk": nv("0")})
	// tx1: three changes over two tables, and a ConditionCheck.
	must(0, e.tx(
		putAct("feed_h", item{"pk": sv("t1")}),
		updAct("feed_c", ck("p", "1"), "SET v = :v", item{":v": sv("x")}),
		delAct("feed_h", hk("single")),
		checkAct("feed_c", ck("p", "0"), "attribute_exists(pk)", nil),
	))(t)
	// tx2: one change.
	must(0, e.tx(putAct("feed_h", item{"pk": sv("t2"), "v": sv("2")})))(t)
	// Transactions that change nothing: only ConditionChecks; a Put of an
	// identical item and a Delete of a missing one; a cancelled one.
	must(0, e.tx(
		checkAct("feed_h", hk("t1"), "attribute_exists(pk)", nil),
		checkAct("feed_c", ck("p", "0"), "attribute_exists(pk)", nil),
	))(t)
	must(0, e.tx(putAct("feed_h", item{"pk": sv("t2"), "v": sv("2")}), delAct("feed_c", ck("p", "404"))))(t)
	wantCanceled(t, e.tx(putAct("feed_h", hk("t3")), checkAct("feed_c", ck("p", "0"), "attribute_not_exists(pk)", nil)),
		"None", "ConditionalCheckFailed")
	// Single-item writes after them.
	e.put(t, "feed_h", hk("end"))
	e.put(t, "feed_c", ck("p", "9"))

	type rec struct{ name, key, corr string }
	want := map[string][]rec{
		"feed_h": {
			{"INSERT", `{"pk":{"S":"single"}}`, ""},
			{"INSERT", `{"pk":{"S":"t1"}}`, "tx1"},
			{"REMOVE", `{"pk":{"S":"single"}}`, "tx1"},
			{"INSERT", `{"pk":{"S":"t2"}}`, "tx2"},
			{"INSERT", `{"pk":{"S":"end"}}`, ""},
		},
		"feed_c": {
			{"INSERT", `{"pk":{"S":"p"},"sk":{"N":"0"}}`, ""},
			{"INSERT", `{"pk":{"S":"p"},"sk":{"N":"1"}}`, "tx1"},
			{"INSERT", `{"pk":{"S":"p"},"sk":{"N":"9"}}`, ""},
		},
	}
	for table, w := range want {
		e.srv.WaitRecords(t, table, len(w), 10*time.Second)
	}
	time.Sleep(300 * time.Millisecond) // let any extra (wrong) record arrive
	ids := map[string]string{}         // "tx1" -> its correlation id
	for table, w := range want {
		recs := e.srv.Records(t, table)
		if len(recs) != len(w) {
			for _, r := range recs {
				t.Logf("%s record %d: %s %s", table, r.StreamSeq, r.Header.Get("ce-correlationid"), r.Data)
			}
			t.Errorf("%s: %d records, want %d (none for transactions that change nothing)", table, len(recs), len(w))
			continue
		}
		// Records of different keys may sit on different shards: match them
		// by event and key, not by position.
		left := append([]rec(nil), w...)
		for _, r := range recs {
			sr := decodeRecord(t, r)
			key := canonJSON(t, sr.Dynamodb.Keys)
			corr := r.Header.Get("ce-correlationid")
			found := -1
			for i, x := range left {
				if x.name == sr.EventName && x.key == key {
					found = i
					break
				}
			}
			if found < 0 {
				t.Errorf("%s: unexpected record %s %s", table, sr.EventName, key)
				continue
			}
			x := left[found]
			left = append(left[:found], left[found+1:]...)
			switch {
			case x.corr == "" && corr != "":
				t.Errorf("%s %s %s: ce-correlationid %q on a single-item write, want none", table, x.name, key, corr)
			case x.corr == "":
			case !uuidRE.MatchString(corr):
				t.Errorf("%s %s %s: ce-correlationid %q, want the transaction id (a UUID)", table, x.name, key, corr)
			case ids[x.corr] == "":
				ids[x.corr] = corr
			case ids[x.corr] != corr:
				t.Errorf("%s %s %s: ce-correlationid %q, want %q like the other records of %s", table, x.name, key, corr, ids[x.corr], x.corr)
			}
		}
		checkSequences(t, recs)
	}
	if ids["tx1"] != "" && ids["tx1"] == ids["tx2"] {
		t.Errorf("two transactions share the correlation id %q", ids["tx1"])
	}
}

// wantErrMatch fails t unless err is an API error whose message matches re.
func wantErrMatch(t *testing.T, err error, re *regexp.Regexp) {
	t.Helper()
	var ae interface{ ErrorMessage() string }
	if errors.As(err, &ae) && !re.MatchString(ae.ErrorMessage()) {
		t.Errorf("message %.200q... does not match %s", ae.ErrorMessage(), re)
	}
}

// canonJSON renders a decoded JSON value with sorted object keys.
func canonJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJSON reports whether body and want hold equal JSON values.
func sameJSON(body []byte, want string) bool {
	var a, b any
	if json.Unmarshal(body, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
