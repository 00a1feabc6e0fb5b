package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/sinks"
)

// Options configure New.
type Options struct {
	// Endpoint is the destination's URL, e.g. http://127.0.0.1:8001; ""
	// means AWS's endpoint of Region.
	Endpoint string
	// Table is the destination table; it must exist, with the source
	// table's key schema.
	Table string
	// Region signs the requests (and picks AWS's endpoint); "" means
	// us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey are static credentials; "" means
	// "sluice" (enough for Sluice and DynamoDB Local, not for AWS).
	AccessKeyID, SecretAccessKey string
	// Concurrency bounds the requests in flight; 0 means 16.
	Concurrency int
	// HTTPClient sends the requests; nil means a client of the Sink's own
	// that keeps Concurrency connections open and gives up on a request
	// after 30 seconds.
	HTTPClient *http.Client
}

// Defaults of Options.
const (
	defaultRegion      = "us-east-1"
	defaultCredential  = "sluice"
	defaultConcurrency = 16
	requestTimeout     = 30 * time.Second
	// maxAttempts is the SDK's attempts per request: one retry for a
	// dropped connection or a brief throttle, the runtime does the rest.
	maxAttempts  = 2
	maxRetryWait = 100 * time.Millisecond
)

// Sink applies a table's changes to a DynamoDB table. It is safe for
// concurrent use.
type Sink struct {
	opts Options
	// slots holds a token per request in flight, across Writes.
	slots chan struct{}
	mu    struct {
		sync.Mutex
		client *ddb.Client     // nil before Connect and after Close
		own    *http.Transport // the transport the Sink made, if it made one
	}
}

var _ sinks.Sink = (*Sink)(nil)

// New returns a replication sink; it connects on Connect.
func New(opts Options) (*Sink, error) {
	if opts.Table == "" {
		return nil, errors.New("dynamodb: Options.Table is required")
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("dynamodb: Options.Concurrency is %d", opts.Concurrency)
	}
	if opts.Region == "" {
		opts.Region = defaultRegion
	}
	if opts.AccessKeyID == "" {
		opts.AccessKeyID = defaultCredential
	}
	if opts.SecretAccessKey == "" {
		opts.SecretAccessKey = defaultCredential
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = defaultConcurrency
	}
	return &Sink{opts: opts, slots: make(chan struct{}, opts.Concurrency)}, nil
}

// Connect makes the client and checks that the destination table exists.
// A destination that does not answer gives an error matching
// sinks.ErrBackOff.
func (s *Sink) Connect(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.client == nil {
		s.mu.client, s.mu.own = s.newClient()
	}
	_, err := s.mu.client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: aws.String(s.opts.Table)})
	if err == nil {
		return nil
	}
	err = fmt.Errorf("dynamodb: describing the destination table %q: %w", s.opts.Table, err)
	switch classify(ctx, err) {
	case throttled:
		return &sinks.BackOffError{After: throttledBackOff, Err: err}
	case unavailable:
		return &sinks.BackOffError{After: unavailableBackOff, Err: err}
	}
	return err
}

func (s *Sink) newClient() (*ddb.Client, *http.Transport) {
	hc, own := s.opts.HTTPClient, (*http.Transport)(nil)
	if hc == nil {
		own = http.DefaultTransport.(*http.Transport).Clone()
		own.MaxIdleConnsPerHost = s.opts.Concurrency
		hc = &http.Client{Transport: own, Timeout: requestTimeout}
	}
	o := ddb.Options{
		Region:      s.opts.Region,
		Credentials: credentials.NewStaticCredentialsProvider(s.opts.AccessKeyID, s.opts.SecretAccessKey, ""),
		HTTPClient:  hc,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.MaxBackoff = maxRetryWait
			o.RateLimiter = ratelimit.None
		}),
	}
	if s.opts.Endpoint != "" {
		o.BaseEndpoint = aws.String(s.opts.Endpoint)
	}
	return ddb.New(o), own
}

// Close drops the client and its idle connections. Requests of a Write in
// progress finish on their own.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.own != nil {
		s.mu.own.CloseIdleConnections()
	}
	s.mu.client, s.mu.own = nil, nil
	return nil
}

func (s *Sink) client() *ddb.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.client
}

// request is one record's prepared request.
type request struct {
	key sinks.Key
	put *ddb.PutItemInput    // an INSERT or MODIFY
	del *ddb.DeleteItemInput // a REMOVE
	err error                // the record cannot be applied
}

// prepare makes the request of r.
func (s *Sink) prepare(r *sinks.Record) request {
	q := request{key: r.Key()}
	names := map[string]string{repName: RepAttribute}
	rep := RepValue(r.Time, r.Shard, r.Seq)
	values := map[string]types.AttributeValue{repValue: &types.AttributeValueMemberS{Value: rep}}
	switch {
	case r.Name == event.Remove:
		keys, err := toItem(r.Keys)
		if err != nil {
			q.err = fmt.Errorf("%w: record %s: keys: %w", ErrRejected, q.key, err)
			return q
		}
		q.del = &ddb.DeleteItemInput{
			TableName: aws.String(s.opts.Table), Key: keys,
			ConditionExpression:      aws.String(condition),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		}
	case r.New == nil:
		q.err = fmt.Errorf("%w: record %s: a %s without a new image", ErrRejected, q.key, r.Name)
	default:
		item, err := toItem(r.New)
		if err != nil {
			q.err = fmt.Errorf("%w: record %s: new image: %w", ErrRejected, q.key, err)
			return q
		}
		item[RepAttribute] = values[repValue]
		q.put = &ddb.PutItemInput{
			TableName: aws.String(s.opts.Table), Item: item,
			ConditionExpression:      aws.String(condition),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		}
	}
	return q
}

// do sends q once a slot is free.
func (s *Sink) do(ctx context.Context, c *ddb.Client, q *request) error {
	if q.err != nil {
		return q.err
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.slots }()
	if q.put != nil {
		_, err := c.PutItem(ctx, q.put)
		return result(ctx, q.key, "PutItem", err)
	}
	_, err := c.DeleteItem(ctx, q.del)
	return result(ctx, q.key, "DeleteItem", err)
}

// Write applies batch: the records of one item in order, one at a time,
// different items in parallel (see the package doc for the errors).
func (s *Sink) Write(ctx context.Context, batch []sinks.Record) error {
	if len(batch) == 0 {
		return nil
	}
	c := s.client()
	if c == nil {
		return errors.New("dynamodb: Write without Connect, or after Close")
	}
	reqs := make([]request, len(batch))
	for i := range batch {
		reqs[i] = s.prepare(&batch[i])
	}
	sc := newSched(batch)
	// errs[i] is record i's error; done[i] says it is applied. Each index
	// is written by the one worker that took it, and read after Wait.
	errs := make([]error, len(batch))
	done := make([]bool, len(batch))
	work := func() {
		for i := sc.take(); i >= 0; i = sc.take() {
			errs[i] = s.do(ctx, c, &reqs[i])
			done[i] = errs[i] == nil
			sc.finish(i, done[i])
		}
	}
	var wg sync.WaitGroup
	for range min(s.opts.Concurrency, sc.items) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	return outcomeOf(ctx, errs, done)
}

// outcomeOf turns the records' errors into Write's: nil when every record
// is applied; the context's error once it ended; a back-off (the longest
// asked for) if any request was told to back off; the first other failure,
// for the whole batch; else a *sinks.BatchError naming every record not
// applied.
func outcomeOf(ctx context.Context, errs []error, done []bool) error {
	if !slices.Contains(done, false) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dynamodb: writing a batch: %w", err)
	}
	var back, other error
	var after time.Duration
	for _, err := range errs {
		var be *sinks.BackOffError
		switch {
		case err == nil, errors.Is(err, ErrRejected):
		case errors.As(err, &be):
			if back == nil || be.After > after {
				back, after = err, be.After
			}
		case other == nil:
			other = err
		}
	}
	if back != nil {
		return back
	}
	if other != nil {
		return other
	}
	be := &sinks.BatchError{Failed: map[int]error{}}
	for i, ok := range done {
		switch {
		case ok:
		case errs[i] != nil:
			be.Failed[i] = errs[i]
		default:
			be.Failed[i] = errNotApplied
		}
	}
	return be
}
