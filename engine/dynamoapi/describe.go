package dynamoapi

import (
	"strconv"
	"time"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/catalog"
)

// tableDescription is DynamoDB's TableDescription, as DescribeTable,
// CreateTable, UpdateTable and DeleteTable return it.
type tableDescription struct {
	AttributeDefinitions      []catalog.AttributeDefinition `json:"AttributeDefinitions"`
	TableName                 string                        `json:"TableName"`
	KeySchema                 []catalog.KeyElement          `json:"KeySchema"`
	TableStatus               string                        `json:"TableStatus"`
	CreationDateTime          epoch                         `json:"CreationDateTime"`
	ProvisionedThroughput     throughputDescription         `json:"ProvisionedThroughput"`
	TableSizeBytes            int64                         `json:"TableSizeBytes"`
	ItemCount                 int64                         `json:"ItemCount"`
	TableArn                  string                        `json:"TableArn"`
	TableID                   string                        `json:"TableId"`
	BillingModeSummary        *billingModeSummary           `json:"BillingModeSummary,omitempty"`
	LocalSecondaryIndexes     []lsiDescription              `json:"LocalSecondaryIndexes,omitempty"`
	GlobalSecondaryIndexes    []gsiDescription              `json:"GlobalSecondaryIndexes,omitempty"`
	StreamSpecification       *streamSpecification          `json:"StreamSpecification,omitempty"`
	LatestStreamLabel         string                        `json:"LatestStreamLabel,omitempty"`
	LatestStreamArn           string                        `json:"LatestStreamArn,omitempty"`
	DeletionProtectionEnabled bool                          `json:"DeletionProtectionEnabled"`
	TableClassSummary         *tableClassSummary            `json:"TableClassSummary,omitempty"`
}

// throughputDescription is ProvisionedThroughputDescription.
type throughputDescription struct {
	LastIncreaseDateTime   *epoch `json:"LastIncreaseDateTime,omitempty"`
	LastDecreaseDateTime   *epoch `json:"LastDecreaseDateTime,omitempty"`
	NumberOfDecreasesToday int64  `json:"NumberOfDecreasesToday"`
	ReadCapacityUnits      int64  `json:"ReadCapacityUnits"`
	WriteCapacityUnits     int64  `json:"WriteCapacityUnits"`
}

type billingModeSummary struct {
	BillingMode                       string `json:"BillingMode"`
	LastUpdateToPayPerRequestDateTime *epoch `json:"LastUpdateToPayPerRequestDateTime,omitempty"`
}

type lsiDescription struct {
	IndexName      string               `json:"IndexName"`
	KeySchema      []catalog.KeyElement `json:"KeySchema"`
	Projection     catalog.Projection   `json:"Projection"`
	IndexSizeBytes int64                `json:"IndexSizeBytes"`
	ItemCount      int64                `json:"ItemCount"`
	IndexArn       string               `json:"IndexArn"`
}

type gsiDescription struct {
	IndexName             string                `json:"IndexName"`
	KeySchema             []catalog.KeyElement  `json:"KeySchema"`
	Projection            catalog.Projection    `json:"Projection"`
	IndexStatus           string                `json:"IndexStatus"`
	Backfilling           *bool                 `json:"Backfilling,omitempty"`
	ProvisionedThroughput throughputDescription `json:"ProvisionedThroughput"`
	IndexSizeBytes        int64                 `json:"IndexSizeBytes"`
	ItemCount             int64                 `json:"ItemCount"`
	IndexArn              string                `json:"IndexArn"`
}

type streamSpecification struct {
	StreamEnabled  bool   `json:"StreamEnabled"`
	StreamViewType string `json:"StreamViewType,omitempty"`
}

type tableClassSummary struct {
	TableClass string `json:"TableClass"`
}

// epoch is a time written as DynamoDB writes dates: seconds since the Unix
// epoch as a JSON number, with milliseconds as the fraction.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', 3, 64), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// describe renders a table as DynamoDB describes it.
func (a *api) describe(in engine.TableInfo) tableDescription {
	t := in.Table
	arn := a.e.TableARN(t.Name)
	d := tableDescription{
		AttributeDefinitions:      t.AttributeDefinitions,
		TableName:                 t.Name,
		KeySchema:                 t.KeySchema,
		TableStatus:               t.Status,
		CreationDateTime:          epoch(t.Created),
		ProvisionedThroughput:     describeThroughput(&t.Throughput, t.BillingMode),
		TableSizeBytes:            in.SizeBytes,
		ItemCount:                 in.ItemCount,
		TableArn:                  arn,
		TableID:                   t.UUID,
		DeletionProtectionEnabled: t.DeletionProtection,
	}
	if d.AttributeDefinitions == nil {
		d.AttributeDefinitions = []catalog.AttributeDefinition{}
	}
	// The last switch to on demand stays in the summary after a switch back
	// to provisioned; a table created on demand switched at its creation.
	last := t.LastUpdateToPayPerRequest
	if last.IsZero() && t.BillingMode == catalog.PayPerRequest {
		last = t.Created
	}
	// A table created provisioned by default, and never switched, has no
	// summary (DynamoDB's and DynamoDB Local's answer).
	if t.BillingModeSet || !last.IsZero() {
		d.BillingModeSummary = &billingModeSummary{BillingMode: t.BillingMode, LastUpdateToPayPerRequestDateTime: epochPtr(last)}
	}
	for _, x := range t.LSIs {
		d.LocalSecondaryIndexes = append(d.LocalSecondaryIndexes, lsiDescription{
			IndexName:      x.Name,
			KeySchema:      x.KeySchema,
			Projection:     x.Projection,
			ItemCount:      in.LSIs[x.Name].Items,
			IndexSizeBytes: in.LSIs[x.Name].Bytes,
			IndexArn:       arn + "/index/" + x.Name,
		})
	}
	for _, x := range t.GSIs {
		status := x.Status
		if status == "" {
			status = catalog.StatusActive
		}
		var backfilling *bool
		if x.Backfilling {
			backfilling = &x.Backfilling
		}
		d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, gsiDescription{
			IndexName:             x.Name,
			KeySchema:             x.KeySchema,
			Projection:            x.Projection,
			IndexStatus:           status,
			Backfilling:           backfilling,
			ItemCount:             in.GSIs[x.Name].Items,
			IndexSizeBytes:        in.GSIs[x.Name].Bytes,
			ProvisionedThroughput: describeThroughput(x.Throughput, t.BillingMode),
			IndexArn:              arn + "/index/" + x.Name,
		})
	}
	if t.Stream.Enabled {
		d.StreamSpecification = &streamSpecification{StreamEnabled: true, StreamViewType: t.Stream.ViewType}
	}
	if t.Stream.Label != "" {
		d.LatestStreamLabel = t.Stream.Label
		d.LatestStreamArn = a.e.StreamARN(t.Name, t.Stream.Label)
	}
	if t.TableClass != "" {
		d.TableClassSummary = &tableClassSummary{TableClass: t.TableClass}
	}
	return d
}

// describeThroughput renders provisioned throughput; on-demand tables and
// indexes show 0/0, as DynamoDB does.
func describeThroughput(tp *catalog.Throughput, mode string) throughputDescription {
	if tp == nil || mode == catalog.PayPerRequest {
		return throughputDescription{}
	}
	return throughputDescription{
		LastIncreaseDateTime:   epochPtr(tp.LastIncrease),
		LastDecreaseDateTime:   epochPtr(tp.LastDecrease),
		NumberOfDecreasesToday: tp.NumberOfDecreasesToday,
		ReadCapacityUnits:      tp.Read,
		WriteCapacityUnits:     tp.Write,
	}
}
