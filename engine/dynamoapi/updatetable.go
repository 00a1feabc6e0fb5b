package dynamoapi

import (
	"time"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// applyTableUpdate applies a validated UpdateTable request to a copy of the
// table's definition, with DynamoDB's billing-mode and throughput rules.
func applyTableUpdate(def *catalog.Table, in *updateTableIn, now time.Time) error {
	target := def.BillingMode
	if in.BillingMode != nil {
		target = *in.BillingMode
		def.BillingModeSet = true
	}
	pt := in.ProvisionedThroughput
	switch {
	case target == catalog.PayPerRequest:
		if pt != nil {
			return attr.Invalid(paramsInvalid + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
		if def.BillingMode != catalog.PayPerRequest {
			def.BillingMode = catalog.PayPerRequest
			def.LastUpdateToPayPerRequest = now
			def.Throughput = catalog.Throughput{}
			for i := range def.GSIs {
				def.GSIs[i].Throughput = nil
			}
		}
	case def.BillingMode == catalog.PayPerRequest:
		// On demand to provisioned: the table's and every GSI's throughput
		// must be given; GSI throughput comes with GlobalSecondaryIndexUpdates,
		// which is not supported yet.
		if pt == nil {
			return attr.Invalid(paramsInvalid + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
		}
		if len(def.GSIs) > 0 {
			return attr.Invalid(paramsInvalid+"ProvisionedThroughput must be specified for index: %s", def.GSIs[0].Name)
		}
		if def.LastUpdateToPayPerRequest.IsZero() {
			def.LastUpdateToPayPerRequest = def.Created // created on demand
		}
		def.BillingMode = catalog.Provisioned
		def.Throughput = catalog.Throughput{Read: *pt.ReadCapacityUnits, Write: *pt.WriteCapacityUnits}
	case pt != nil:
		if err := changeThroughput(&def.Throughput, *pt.ReadCapacityUnits, *pt.WriteCapacityUnits, now); err != nil {
			return err
		}
	}
	if in.DeletionProtectionEnabled != nil {
		def.DeletionProtection = *in.DeletionProtectionEnabled
	}
	if in.TableClass != nil {
		def.TableClass = *in.TableClass
	}
	if s := in.StreamSpecification; s != nil {
		// The engine gives an enabled stream its label and shards.
		switch {
		case *s.StreamEnabled && def.Stream.Enabled:
			// Also when only the view type would change: DynamoDB has
			// no way to change a live stream's view type.
			return attr.Invalid(msgStreamEnabled, def.Name)
		case *s.StreamEnabled:
			def.Stream.Enabled, def.Stream.ViewType = true, *s.StreamViewType
		case !def.Stream.Enabled:
			return attr.Invalid(msgNoStream)
		default:
			def.Stream.Enabled = false
		}
	}
	return nil
}

// Stream switch messages: DynamoDB's for an enabled stream (as recorded by
// users' reports of its errors); DynamoDB Local's for disabling none.
const (
	msgStreamEnabled = "Table already has an enabled stream: TableName: %s"
	msgNoStream      = "Table has no stream to disable"
)

// changeThroughput sets provisioned throughput, keeping DynamoDB's
// increase/decrease history. A change to the same values is an error.
func changeThroughput(tp *catalog.Throughput, read, write int64, now time.Time) error {
	if read == tp.Read && write == tp.Write {
		return attr.Invalid("The provisioned throughput for the table will not change. The requested value equals the current value. "+
			"Current ReadCapacityUnits provisioned for the table: %d. Requested ReadCapacityUnits: %d. "+
			"Current WriteCapacityUnits provisioned for the table: %d. Requested WriteCapacityUnits: %d. "+
			"Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
			tp.Read, read, tp.Write, write)
	}
	if read > tp.Read || write > tp.Write {
		tp.LastIncrease = now
	}
	if read < tp.Read || write < tp.Write {
		if !sameUTCDay(tp.LastDecrease, now) {
			tp.NumberOfDecreasesToday = 0
		}
		tp.NumberOfDecreasesToday++
		tp.LastDecrease = now
	}
	tp.Read, tp.Write = read, write
	return nil
}

func sameUTCDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}
