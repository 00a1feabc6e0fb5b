// Package bank is the bank test of transactions: 16 clients move money
// between 100 accounts with conditional TransactWriteItems while `sluice
// serve` is killed with SIGKILL and restarted, and the test checks that money
// is neither made nor lost and that no balance goes negative:
//
//   - during the run, in TransactGetItems snapshots of every account;
//   - after the run, in a consistent Scan and in one TransactGetItems;
//   - in the ledger: every transfer also writes a ledger item "tx-<token>",
//     so the ledger holds every acknowledged transfer, none that was
//     cancelled, and balances equal 1000 + credits - debits over it (a
//     transfer's ledger item exists if and only if both its balance changes
//     were applied);
//   - on the change stream replayed from the start: folding the records per
//     key gives the table's state, each record's old image is the previous
//     record's new image, and every transaction's records (one
//     ce-correlationid) are complete and contiguous within each shard.
//
// A retry after a lost answer reuses the transfer's ClientRequestToken, so it
// must not apply the transfer twice; some acknowledged transfers are re-sent
// on purpose for the same reason.
//
// BANK_DURATION sets how long the clients run (a Go duration; 60s by
// default, 10s with -short). The server is killed max(3, duration/10s) times.
package bank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

const (
	table        = "bank"
	accounts     = 100
	initial      = 1000
	total        = accounts * initial
	clients      = 16
	maxAmount    = 300 // transfers move 1..maxAmount, so poor accounts get cancellations
	ledgerPrefix = "tx-"
	// replayEvery: about one acknowledged transfer in replayEvery is sent
	// again with its token, and must succeed without being applied again.
	replayEvery = 32

	callTimeout    = 10 * time.Second // one request
	resolveTimeout = time.Minute      // after the run, for in-flight transfers to get an answer
	snapshotEvery  = 250 * time.Millisecond
	streamTimeout  = 2 * time.Minute // for the relay to publish every record
)

// runDuration is how long the clients move money.
func runDuration(t *testing.T) time.Duration {
	if s := os.Getenv("BANK_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("BANK_DURATION=%q: want a positive Go duration such as 60s", s)
		}
		return d
	}
	if testing.Short() {
		return 10 * time.Second
	}
	return time.Minute
}

func account(i int) string { return fmt.Sprintf("acct-%03d", i) }

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk)}
}

// transfer moves amount from one account to another. Its token is the
// ClientRequestToken of every attempt and names its ledger item.
type transfer struct {
	token    string
	from, to int
	amount   int64
}

// input is the transfer's request, identical on every attempt: debit (only
// with enough funds), credit, and the ledger item.
func (tr transfer) input() *dynamodb.TransactWriteItemsInput {
	amt := map[string]types.AttributeValue{":amt": num(tr.amount)}
	return &dynamodb.TransactWriteItemsInput{
		ClientRequestToken: aws.String(tr.token),
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:                 aws.String(table),
				Key:                       key(account(tr.from)),
				UpdateExpression:          aws.String("SET balance = balance - :amt"),
				ConditionExpression:       aws.String("attribute_exists(pk) AND balance >= :amt"),
				ExpressionAttributeValues: amt,
			}},
			{Update: &types.Update{
				TableName:                 aws.String(table),
				Key:                       key(account(tr.to)),
				UpdateExpression:          aws.String("SET balance = balance + :amt"),
				ConditionExpression:       aws.String("attribute_exists(pk)"),
				ExpressionAttributeValues: amt,
			}},
			{Put: &types.Put{
				TableName: aws.String(table),
				Item: map[string]types.AttributeValue{
					"pk":     str(ledgerPrefix + tr.token),
					"amount": num(tr.amount),
					"from":   str(account(tr.from)),
					"to":     str(account(tr.to)),
				},
				// Without the token, a second application would fail here
				// and cancel the whole transaction.
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}},
		},
	}
}

// result is what an answer (or its absence) says about a request.
type result int

const (
	applied      result = iota // success
	insufficient               // cancelled by the debit's condition: not applied
	unknown                    // no answer, or a server error: maybe applied
	bad                        // any other answer: a bug
	unresolved                 // (send only) still unknown when the run ended
)

// classify sorts the error of a TransactWriteItems call. A client that got
// no answer (connection refused or reset, EOF, timeout) cannot know whether
// the server applied the request.
func classify(err error) result {
	if err == nil {
		return applied
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			code := aws.ToString(r.Code)
			if i == 0 && code != "ConditionalCheckFailed" || i > 0 && code != "None" && code != "" {
				return bad
			}
		}
		if len(tce.CancellationReasons) != 3 {
			return bad
		}
		return insufficient
	}
	return transient(err)
}

// transient returns unknown for an error that a kill explains, bad for any
// other.
func transient(err error) result {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return unknown
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "TransactionInProgressException", "InternalServerError", "ServiceUnavailable":
			return unknown
		}
		return bad
	}
	return unknown
}

// errKind names an unknown outcome's error for the summary.
func errKind(err error) string {
	var ae smithy.APIError
	s := err.Error()
	switch {
	case errors.As(err, &ae):
		return ae.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "connection reset"):
		return "connection reset"
	case strings.Contains(s, "EOF"):
		return "EOF"
	case strings.Contains(s, "broken pipe"):
		return "broken pipe"
	}
	return "other"
}

// tally is one client's account of what happened.
type tally struct {
	acked      []transfer // answered with success
	cancelled  []transfer // answered insufficient funds
	unresolved []transfer // no definite answer by the end
	failed     []transfer // answered in a way that is a bug (reported)
	unknown    int        // transfers whose first attempt got no answer
	attempts   int        // requests sent, retries included
	replays    int        // retries that found the transfer already applied
	resent     int        // acknowledged transfers deliberately sent again
	errKinds   map[string]int
	others     []string // a few unclassified errors, in full
}

func (a *tally) add(b *tally) {
	a.acked = append(a.acked, b.acked...)
	a.cancelled = append(a.cancelled, b.cancelled...)
	a.unresolved = append(a.unresolved, b.unresolved...)
	a.failed = append(a.failed, b.failed...)
	a.unknown += b.unknown
	a.attempts += b.attempts
	a.replays += b.replays
	a.resent += b.resent
	for k, n := range b.errKinds {
		a.errKinds[k] += n
	}
	a.others = append(a.others, b.others...)
}

// client is one of the concurrent clients, with its own connections.
type client struct {
	t   *testing.T
	db  *dynamodb.Client
	rng *rand.Rand
	tally
}

func newClient(t *testing.T, srv *sluicetest.Server, seed uint64) *client {
	return &client{
		t:     t,
		db:    srv.DynamoDB(),
		rng:   rand.New(rand.NewPCG(seed, 2)),
		tally: tally{errKinds: map[string]int{}},
	}
}

// run moves money until stop is closed, then returns once its last transfer
// has an answer or ctx ends. A bug stops the client.
func (c *client) run(ctx context.Context, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		from := c.rng.IntN(accounts)
		to := (from + 1 + c.rng.IntN(accounts-1)) % accounts
		tr := transfer{token: uuid.NewString(), from: from, to: to, amount: 1 + c.rng.Int64N(maxAmount)}
		res, seen, err := c.send(ctx, tr, false)
		switch res {
		case applied:
			c.acked = append(c.acked, tr)
			if seen {
				c.replays++
			}
		case insufficient:
			c.cancelled = append(c.cancelled, tr)
			if seen {
				c.t.Errorf("transfer %s: a retry found its ledger item written, then was cancelled (%v): the ClientRequestToken was not honoured", tr.token, err)
				return
			}
			continue
		case unresolved:
			c.unresolved = append(c.unresolved, tr)
			return
		default:
			c.failed = append(c.failed, tr)
			c.t.Errorf("transfer %s (%s -> %s, %d): unexpected answer: %v", tr.token, account(tr.from), account(tr.to), tr.amount, err)
			return
		}
		if c.rng.IntN(replayEvery) != 0 {
			continue
		}
		c.resent++
		switch res, _, err := c.send(ctx, tr, true); res {
		case applied:
		case unresolved:
			return
		default:
			c.t.Errorf("acknowledged transfer %s sent again with its ClientRequestToken: got %v, want success and no change", tr.token, err)
			return
		}
	}
}

// send sends tr until it gets a definite answer or ctx ends. Before each
// retry it reads tr's ledger item: seen reports that a retry found it, so
// the answer to that retry is a replay. known says tr is already applied.
// err is the last error.
func (c *client) send(ctx context.Context, tr transfer, known bool) (res result, seen bool, err error) {
	in := tr.input()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt == 1 && !known {
				c.unknown++
			}
			if !sleep(ctx, backoff(c.rng, attempt)) {
				return unresolved, seen, err
			}
			if !seen && !known {
				found, gerr := c.ledgerExists(ctx, tr.token)
				if gerr != nil {
					if transient(gerr) != unknown {
						return bad, seen, fmt.Errorf("reading the ledger item: %w", gerr)
					}
					continue
				}
				seen = found
			}
		}
		callCtx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err = c.db.TransactWriteItems(callCtx, in)
		cancel()
		c.attempts++
		if res = classify(err); res != unknown {
			return res, seen, err
		}
		c.note(err)
		if ctx.Err() != nil {
			return unresolved, seen, err
		}
	}
}

// note counts an error that left an outcome unknown.
func (c *client) note(err error) {
	k := errKind(err)
	c.errKinds[k]++
	if k == "other" && len(c.others) < 3 {
		c.others = append(c.others, err.Error())
	}
}

func (c *client) ledgerExists(ctx context.Context, token string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	out, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            key(ledgerPrefix + token),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, err
	}
	return out.Item != nil, nil
}

// backoff is the pause before retry attempt: 20ms doubling to 500ms, with
// jitter.
func backoff(rng *rand.Rand, attempt int) time.Duration {
	d := min(20*time.Millisecond<<min(attempt-1, 5), 500*time.Millisecond)
	return d/2 + time.Duration(rng.Int64N(int64(d/2)+1))
}

// sleep waits d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// reread calls read, which must be idempotent, again while it fails without
// an answer from the server, up to 5 times. Needed even with the server up:
// the SDK closes a request body as soon as the response arrives, and if
// net/http is still finishing the write of a body larger than its 4 KB
// buffer (TransactGetItems of 100 keys), the body's WriteTo returns io.EOF,
// the transport takes that for a write error and closes the connection under
// the response being read ("use of closed network connection").
func reread[T any](ctx context.Context, read func() (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := read()
		if err == nil || attempt == 5 || transient(err) != unknown || !sleep(ctx, time.Duration(attempt)*100*time.Millisecond) {
			return v, err
		}
	}
}

// snapshot reads every account's balance in one TransactGetItems.
func snapshot(ctx context.Context, db *dynamodb.Client) ([]types.ItemResponse, error) {
	in := &dynamodb.TransactGetItemsInput{}
	for i := range accounts {
		in.TransactItems = append(in.TransactItems, types.TransactGetItem{Get: &types.Get{
			TableName: aws.String(table),
			Key:       key(account(i)),
		}})
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	out, err := db.TransactGetItems(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.Responses, nil
}

// balances checks a snapshot's shape and returns its balances in account
// order.
func balances(resp []types.ItemResponse) ([]int64, error) {
	if len(resp) != accounts {
		return nil, fmt.Errorf("%d responses for %d accounts", len(resp), accounts)
	}
	out := make([]int64, accounts)
	for i, r := range resp {
		pk, ok := r.Item["pk"].(*types.AttributeValueMemberS)
		if !ok || pk.Value != account(i) {
			return nil, fmt.Errorf("response %d is %v, want the item %s", i, r.Item, account(i))
		}
		b, err := balanceOf(r.Item)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", account(i), err)
		}
		out[i] = b
	}
	return out, nil
}

func balanceOf(item map[string]types.AttributeValue) (int64, error) {
	n, ok := item["balance"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("no numeric balance in %v", item)
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

func sumOf(bal []int64) (sum int64) {
	for _, b := range bal {
		sum += b
	}
	return sum
}

// checkBalances returns what is wrong with a set of balances: a sum other
// than total, a negative balance.
func checkBalances(bal []int64) error {
	sum := sumOf(bal)
	var neg []string
	for i, b := range bal {
		if b < 0 {
			neg = append(neg, fmt.Sprintf("%s=%d", account(i), b))
		}
	}
	switch {
	case sum != total && len(neg) > 0:
		return fmt.Errorf("sum %d, want %d; negative balances %v", sum, total, neg)
	case sum != total:
		return fmt.Errorf("sum %d, want %d", sum, total)
	case len(neg) > 0:
		return fmt.Errorf("negative balances %v", neg)
	}
	return nil
}

// watchTally counts the snapshots taken during the run: consistent, without
// an answer (a kill, or the SDK race described at reread), and wrong.
type watchTally struct{ ok, failed, wrong int }

// watch takes TransactGetItems snapshots until stop: each must sum to the
// total with no negative balance. It reports the first few wrong ones.
func watch(ctx context.Context, t *testing.T, db *dynamodb.Client, stop <-chan struct{}) (w watchTally) {
	for {
		select {
		case <-stop:
			return w
		case <-ctx.Done():
			return w
		case <-time.After(snapshotEvery):
		}
		resp, err := snapshot(ctx, db)
		if err != nil {
			if transient(err) == unknown {
				w.failed++
				continue
			}
			t.Errorf("TransactGetItems of every account during the run: %v", err)
			return w
		}
		bal, err := balances(resp)
		if err == nil {
			err = checkBalances(bal)
		}
		if err != nil {
			if w.wrong++; w.wrong <= 3 {
				t.Errorf("snapshot %d during the run: %v", w.ok+w.wrong, err)
			}
			continue
		}
		w.ok++
	}
}

// killAll kills and restarts the server n times spread over run, and
// returns when run has passed.
func killAll(t *testing.T, srv *sluicetest.Server, run time.Duration, n int, rng *rand.Rand) {
	start := time.Now()
	gap := run / time.Duration(n+1)
	for i := 1; i <= n; i++ {
		jitter := time.Duration(rng.Int64N(int64(gap/5)*2+1)) - gap/5
		time.Sleep(time.Until(start.Add(time.Duration(i)*gap + jitter)))
		srv.Kill()
		at := time.Since(start)
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond) // let clients meet a dead port
		restart := time.Now()
		srv.Restart(t)
		t.Logf("kill %d/%d at %s; restarted in %s", i, n, at.Round(time.Millisecond), time.Since(restart).Round(time.Millisecond))
	}
	time.Sleep(time.Until(start.Add(run)))
}

func TestBank(t *testing.T) {
	run := runDuration(t)
	kills := max(3, int(run/(10*time.Second)))
	seed := uint64(time.Now().UnixNano())
	t.Logf("duration %s, %d kills, seed %d", run, kills, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	srv := sluicetest.Start(t, sluicetest.Options{})
	setup(t, srv.DynamoDB())

	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { // also when a Restart fails the test
		cancel()
		wg.Wait()
	}()
	cs := make([]*client, clients)
	for i := range cs {
		cs[i] = newClient(t, srv, rng.Uint64())
		wg.Go(func() { cs[i].run(ctx, stop) })
	}
	var w watchTally
	wg.Go(func() { w = watch(ctx, t, srv.DynamoDB(), stop) })

	began := time.Now()
	killAll(t, srv, run, kills, rng)
	close(stop)
	bound := time.AfterFunc(resolveTimeout, cancel)
	wg.Wait()
	bound.Stop()
	ran := time.Since(began)

	sum := tally{errKinds: map[string]int{}}
	for _, c := range cs {
		sum.add(&c.tally)
	}
	t.Logf("%s: %d transfers acknowledged, %d cancelled (insufficient funds), %d unresolved; "+
		"%d requests; %d transfers met a lost answer (%v), %d of their retries were replays; "+
		"%d acknowledged transfers re-sent; %d kills; %d consistent snapshots during the run (%d without an answer, %d wrong)",
		ran.Round(time.Millisecond), len(sum.acked), len(sum.cancelled), len(sum.unresolved),
		sum.attempts, sum.unknown, sum.errKinds, sum.replays, sum.resent, kills, w.ok, w.failed, w.wrong)
	for _, s := range sum.others {
		t.Logf("unclassified error with an unknown outcome: %s", s)
	}
	if len(sum.acked) == 0 {
		t.Fatal("no transfer was acknowledged")
	}
	if w.ok+w.wrong == 0 {
		t.Error("no TransactGetItems snapshot succeeded during the run")
	}
	if n := len(sum.unresolved); n > 0 {
		t.Errorf("%d transfers had no definite answer %s after the run, with the server up", n, resolveTimeout)
	}

	db := srv.DynamoDB()
	state := checkTable(t, db, &sum)
	checkStream(t, srv, state)
}

// setup creates the table and seeds the accounts in one transaction.
func setup(t *testing.T, db *dynamodb.Client) {
	t.Helper()
	ctx := sluicetest.Context(t)
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	in := &dynamodb.TransactWriteItemsInput{}
	for i := range accounts {
		in.TransactItems = append(in.TransactItems, types.TransactWriteItem{Put: &types.Put{
			TableName:           aws.String(table),
			Item:                map[string]types.AttributeValue{"pk": str(account(i)), "balance": num(initial)},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	if _, err := db.TransactWriteItems(ctx, in); err != nil {
		t.Fatalf("seeding %d accounts in one TransactWriteItems: %v", accounts, err)
	}
}

// ledgerEntry is a ledger item.
type ledgerEntry struct {
	from, to string
	amount   int64
}

// tableState is the table after the run.
type tableState struct {
	balances []int64 // by account
	ledger   map[string]ledgerEntry
}

// checkTable checks the table after the run: a consistent Scan, one
// TransactGetItems, and the ledger against the clients' tallies.
func checkTable(t *testing.T, db *dynamodb.Client, sum *tally) tableState {
	ctx := sluicetest.Context(t)
	st := tableState{balances: make([]int64, accounts), ledger: map[string]ledgerEntry{}}
	found := make([]bool, accounts)
	pages := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		// A failed NextPage does not advance: calling it again retries the page.
		page, err := reread(ctx, func() (*dynamodb.ScanOutput, error) { return pages.NextPage(ctx) })
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		for _, item := range page.Items {
			pk, _ := item["pk"].(*types.AttributeValueMemberS)
			switch {
			case pk != nil && strings.HasPrefix(pk.Value, ledgerPrefix):
				e, err := ledgerOf(item)
				if err != nil {
					t.Fatalf("ledger item %s: %v", pk.Value, err)
				}
				st.ledger[strings.TrimPrefix(pk.Value, ledgerPrefix)] = e
			case pk != nil && strings.HasPrefix(pk.Value, "acct-"):
				i, err := strconv.Atoi(strings.TrimPrefix(pk.Value, "acct-"))
				if err != nil || i < 0 || i >= accounts || found[i] {
					t.Fatalf("Scan: unexpected or repeated account %v", item)
				}
				found[i] = true
				if st.balances[i], err = balanceOf(item); err != nil {
					t.Fatalf("Scan: %s: %v", pk.Value, err)
				}
			default:
				t.Fatalf("Scan: unexpected item %v", item)
			}
		}
	}
	if i := slices.Index(found, false); i >= 0 {
		t.Fatalf("Scan: account %s is missing", account(i))
	}
	if err := checkBalances(st.balances); err != nil {
		t.Errorf("Scan after the run: %v", err)
	}

	resp, err := reread(ctx, func() ([]types.ItemResponse, error) { return snapshot(ctx, db) })
	if err != nil {
		t.Fatalf("TransactGetItems of every account after the run: %v", err)
	}
	snap, err := balances(resp)
	if err != nil {
		t.Fatalf("TransactGetItems of every account after the run: %v", err)
	}
	if err := checkBalances(snap); err != nil {
		t.Errorf("TransactGetItems after the run: %v", err)
	}
	if !slices.Equal(snap, st.balances) {
		t.Errorf("TransactGetItems after the run disagrees with Scan:\n  got  %v\n  want %v", snap, st.balances)
	}

	// The ledger holds every acknowledged transfer as sent, no cancelled one,
	// and nothing else but ones without a definite (or correct) answer.
	missing, wrong := 0, 0
	for _, tr := range sum.acked {
		e, ok := st.ledger[tr.token]
		switch {
		case !ok:
			if missing++; missing <= 5 {
				t.Errorf("acknowledged transfer %s (%s -> %s, %d) has no ledger item: lost", tr.token, account(tr.from), account(tr.to), tr.amount)
			}
		case e != (ledgerEntry{from: account(tr.from), to: account(tr.to), amount: tr.amount}):
			if wrong++; wrong <= 5 {
				t.Errorf("ledger item of %s is %+v; sent %s -> %s, %d", tr.token, e, account(tr.from), account(tr.to), tr.amount)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged transfers have no ledger item", missing, len(sum.acked))
	}
	for _, tr := range sum.cancelled {
		if _, ok := st.ledger[tr.token]; ok {
			t.Errorf("cancelled transfer %s (%s -> %s, %d) has a ledger item: a cancelled transaction wrote", tr.token, account(tr.from), account(tr.to), tr.amount)
		}
	}
	sent := map[string]bool{}
	for _, list := range [][]transfer{sum.acked, sum.unresolved, sum.failed} {
		for _, tr := range list {
			sent[tr.token] = true
		}
	}
	for token := range st.ledger {
		if !sent[token] {
			t.Errorf("ledger item %s%s belongs to no transfer acknowledged or without an answer", ledgerPrefix, token)
		}
	}

	// Atomicity: the balances are what the ledger says.
	want := make([]int64, accounts)
	for i := range want {
		want[i] = initial
	}
	for token, e := range st.ledger {
		from, err1 := strconv.Atoi(strings.TrimPrefix(e.from, "acct-"))
		to, err2 := strconv.Atoi(strings.TrimPrefix(e.to, "acct-"))
		if err1 != nil || err2 != nil || from < 0 || from >= accounts || to < 0 || to >= accounts {
			t.Fatalf("ledger item %s names unknown accounts: %+v", token, e)
		}
		want[from] -= e.amount
		want[to] += e.amount
	}
	off := 0
	for i := range want {
		if want[i] != st.balances[i] {
			if off++; off <= 10 {
				t.Errorf("%s: balance %d, but 1000 + credits - debits of the %d ledger items is %d", account(i), st.balances[i], len(st.ledger), want[i])
			}
		}
	}
	t.Logf("table: %d ledger items (%d acknowledged, %d unresolved transfers), balances sum to %d",
		len(st.ledger), len(sum.acked), len(sum.unresolved), sumOf(st.balances))
	return st
}

func ledgerOf(item map[string]types.AttributeValue) (ledgerEntry, error) {
	from, ok1 := item["from"].(*types.AttributeValueMemberS)
	to, ok2 := item["to"].(*types.AttributeValueMemberS)
	amt, ok3 := item["amount"].(*types.AttributeValueMemberN)
	if !ok1 || !ok2 || !ok3 {
		return ledgerEntry{}, fmt.Errorf("want from, to and amount in %v", item)
	}
	n, err := strconv.ParseInt(amt.Value, 10, 64)
	if err != nil {
		return ledgerEntry{}, err
	}
	return ledgerEntry{from: from.Value, to: to.Value, amount: n}, nil
}

// image is an item image of a change record; every attribute of this table
// is an S or an N.
type image map[string]struct {
	S *string `json:",omitempty"`
	N *string `json:",omitempty"`
}

func (im image) s(name string) string {
	if v, ok := im[name]; ok && v.S != nil {
		return *v.S
	}
	return ""
}

func (im image) n(name string) (int64, error) {
	v, ok := im[name]
	if !ok || v.N == nil {
		return 0, fmt.Errorf("no number %s in %s", name, show(im))
	}
	return strconv.ParseInt(*v.N, 10, 64)
}

func show(im image) string {
	if im == nil {
		return "none"
	}
	b, _ := json.Marshal(im)
	return string(b)
}

// streamRecord is the part of a change record the check needs.
type streamRecord struct {
	EventName string `json:"eventName"`
	Dynamodb  struct {
		Keys     image
		NewImage image
		OldImage image
	} `json:"dynamodb"`
}

// pending is a transfer's transaction whose records have not all been seen.
type pending struct {
	first, last int // stream positions
	n           int // records seen
	token       string
	entry       ledgerEntry      // from the ledger item's new image
	delta       map[string]int64 // balance change per account
	shards      []string         // subjects it has records on
}

// streamCheck folds the change records, one at a time in stream order, and
// keeps only what later records are checked against: each account's
// balance, the ledger items seen, and the transactions still incomplete. So
// it needs no more memory for 400,000 records than for 400.
type streamCheck struct {
	t          *testing.T
	ledger     map[string]ledgerEntry // the table's, from checkTable
	n          int                    // records folded
	lastSeq    map[string]shards.Seq  // per subject (shard)
	balance    map[string]int64       // per account, as folded
	seen       map[string]bool        // ledger tokens inserted
	seedTx     string                 // the first record's correlation id: the seed
	seeded     int                    // its records
	seedShards []string               // the subjects it has records on
	open       map[string]*pending    // by correlation id
	lastTx     map[string]string      // per subject, the correlation id of its last record
	done       int                    // complete transfers
	contig     int                    // of them, contiguous in stream order
	errs       int
}

func (sc *streamCheck) fail(format string, args ...any) {
	if sc.errs++; sc.errs <= 10 {
		sc.t.Errorf(format, args...)
	}
}

// add folds record r, the sc.n-th of the stream.
func (sc *streamCheck) add(r sluicetest.Record) {
	i := sc.n
	sc.n++
	seq, err := shards.ParseSeq(r.Header.Get("ce-sequence"))
	if err != nil {
		sc.fail("record %d: ce-sequence: %v", r.StreamSeq, err)
		return
	}
	if seq != sc.lastSeq[r.Subject]+1 {
		sc.fail("%s: record %d has sequence %d after %d (gap or duplicate)", r.Subject, r.StreamSeq, seq, sc.lastSeq[r.Subject])
	}
	sc.lastSeq[r.Subject] = seq
	var rec streamRecord
	if err := json.Unmarshal(r.Data, &rec); err != nil {
		sc.fail("record %d: %v", r.StreamSeq, err)
		return
	}
	pk := rec.Dynamodb.Keys.s("pk")
	tx := r.Header.Get("ce-correlationid")
	old, now := rec.Dynamodb.OldImage, rec.Dynamodb.NewImage
	if tx == "" {
		sc.fail("record %d (%s of %s) has no ce-correlationid; every change here is made by a transaction", r.StreamSeq, rec.EventName, pk)
		return
	}
	if sc.seedTx == "" {
		sc.seedTx = tx
	}

	// Fold the key: the old image must be what its previous record left.
	var delta int64
	switch token, isLedger := strings.CutPrefix(pk, ledgerPrefix); {
	case isLedger:
		if rec.EventName != "INSERT" || old != nil || sc.seen[token] {
			sc.fail("record %d: %s of ledger item %s (old image %s, inserted before: %v)", r.StreamSeq, rec.EventName, pk, show(old), sc.seen[token])
			return
		}
		sc.seen[token] = true
	case strings.HasPrefix(pk, "acct-"):
		prev, ok := sc.balance[pk]
		b, err := now.n("balance")
		if err != nil || len(now) != 2 {
			sc.fail("record %d: %s of %s: new image %s", r.StreamSeq, rec.EventName, pk, show(now))
			return
		}
		switch rec.EventName {
		case "INSERT":
			if ok || old != nil {
				sc.fail("record %d: INSERT of %s, which exists (balance %d, old image %s)", r.StreamSeq, pk, prev, show(old))
			}
		case "MODIFY":
			o, err := old.n("balance")
			if !ok || err != nil || o != prev || len(old) != 2 {
				sc.fail("record %d: MODIFY of %s: old image %s, but the key's previous record left balance %d (present %v): gap or reorder in its history",
					r.StreamSeq, pk, show(old), prev, ok)
			}
			delta = b - o
		default:
			sc.fail("record %d: %s of %s", r.StreamSeq, rec.EventName, pk)
		}
		if b < 0 {
			sc.fail("record %d: %s goes negative: %s", r.StreamSeq, pk, show(now))
		}
		sc.balance[pk] = b
	default:
		sc.fail("record %d: change of an unexpected item %s", r.StreamSeq, pk)
		return
	}

	// Group by transaction.
	// A transaction is one contiguous run of records per shard.
	prevTx := sc.lastTx[r.Subject]
	sc.lastTx[r.Subject] = tx
	if tx == sc.seedTx {
		if sc.seeded > 0 && prevTx != tx && slices.Contains(sc.seedShards, r.Subject) {
			sc.fail("record %d: the seed transaction's records on %s are not contiguous", r.StreamSeq, r.Subject)
		}
		if !slices.Contains(sc.seedShards, r.Subject) {
			sc.seedShards = append(sc.seedShards, r.Subject)
		}
		sc.seeded++
		if rec.EventName != "INSERT" || !strings.HasPrefix(pk, "acct-") {
			sc.fail("record %d: the seed transaction holds a %s of %s", r.StreamSeq, rec.EventName, pk)
		}
		return
	}
	p := sc.open[tx]
	if p == nil {
		p = &pending{first: i, delta: map[string]int64{}}
		sc.open[tx] = p
	}
	if slices.Contains(p.shards, r.Subject) {
		if prevTx != tx {
			sc.fail("record %d: transaction %s's records on %s are interleaved with transaction %s's", r.StreamSeq, tx, r.Subject, prevTx)
		}
	} else {
		p.shards = append(p.shards, r.Subject)
	}
	p.n++
	p.last = i
	if token, ok := strings.CutPrefix(pk, ledgerPrefix); ok {
		p.token = token
		amt, err := now.n("amount")
		if err != nil {
			sc.fail("record %d: ledger item %s: %v", r.StreamSeq, pk, err)
		}
		p.entry = ledgerEntry{from: now.s("from"), to: now.s("to"), amount: amt}
	} else {
		p.delta[pk] += delta
	}
	if p.n < 3 {
		return
	}
	delete(sc.open, tx)
	sc.done++
	if p.last-p.first == 2 {
		sc.contig++
	}
	want := map[string]int64{p.entry.from: -p.entry.amount, p.entry.to: p.entry.amount}
	switch e, ok := sc.ledger[p.token]; {
	case p.token == "":
		sc.fail("transaction %s: three records and no ledger item (account changes %v)", tx, p.delta)
	case !ok || e != p.entry:
		sc.fail("transaction %s: ledger item %s%s is %+v on the stream, %+v (present %v) in the table", tx, ledgerPrefix, p.token, p.entry, e, ok)
	case !maps.Equal(p.delta, want):
		sc.fail("transaction %s: ledger item %+v, but the account changes are %v", tx, p.entry, p.delta)
	}
}

// finish checks what only the whole stream shows: every transaction
// complete, and the fold equal to the table.
func (sc *streamCheck) finish(st tableState) {
	if sc.seeded != accounts {
		sc.fail("the first transaction on the stream has %d records, want the %d account INSERTs of the seed", sc.seeded, accounts)
	}
	for tx, p := range sc.open {
		sc.fail("transaction %s is incomplete on the stream: %d records (ledger token %q, account changes %v) from position %d",
			tx, p.n, p.token, p.delta, p.first)
	}
	var sum int64
	for i := range accounts {
		b, ok := sc.balance[account(i)]
		if !ok {
			sc.fail("stream fold: no record of %s", account(i))
		}
		sum += b
		if b != st.balances[i] {
			sc.fail("stream fold: %s has %d, the table %d", account(i), b, st.balances[i])
		}
	}
	if sum != total {
		sc.fail("stream fold: balances sum to %d, want %d", sum, total)
	}
	if len(sc.seen) != len(st.ledger) {
		sc.fail("stream fold: %d ledger items, the table %d", len(sc.seen), len(st.ledger))
	}
	for token := range sc.seen {
		if _, ok := st.ledger[token]; !ok {
			sc.fail("stream fold: ledger item %s%s is not in the table", ledgerPrefix, token)
			break
		}
	}
	if sc.errs > 10 {
		sc.t.Errorf("... %d stream errors in all", sc.errs)
	}
}

// checkStream replays the table's change records from the start: per shard
// dense sequence numbers; per key, each old image is the previous new image
// and no balance is negative; each transaction complete (the seed, then
// ledger INSERT, debit and credit per transfer); and the fold equals the
// table.
func checkStream(t *testing.T, srv *sluicetest.Server, st tableState) {
	want := accounts + 3*len(st.ledger) // the seed, then three records per transfer
	sc := &streamCheck{
		t:       t,
		ledger:  st.ledger,
		lastSeq: map[string]shards.Seq{},
		balance: map[string]int64{},
		seen:    map[string]bool{},
		open:    map[string]*pending{},
		lastTx:  map[string]string{},
	}
	start := time.Now()
	time.Sleep(500 * time.Millisecond) // let a duplicate, were the relay to publish one, arrive
	n := srv.EachRecord(t, table, want, streamTimeout, sc.add)
	if n != want {
		t.Errorf("stream holds %d records, want %d (%d accounts seeded + 3 per ledger item)", n, want, accounts)
	}
	sc.finish(st)
	t.Logf("stream: %d records read and folded in %s; %d transfers, each contiguous per shard, %d of them contiguous in stream order",
		n, time.Since(start).Round(time.Millisecond), sc.done, sc.contig)
}
