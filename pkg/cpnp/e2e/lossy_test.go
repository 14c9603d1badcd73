/*
Copyright 2026 The cpnp-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Settings of the lossy test. The network drops 20% of the datagrams in
// each direction, so a request and its answer both get through with
// probability 0.64: with 10 retries a transaction fails with probability
// 0.36^11 ≈ 1.3e-5. The timers are short (200 ms, ×1.5, capped at 1 s)
// so that the test runs in real time within its budget.
const (
	lossyDefaultN     = 100
	lossyDefaultSeed  = 8921
	lossyClients      = 4  // client engines, one association each
	lossyConcurrency  = 32 // negotiations in flight at once
	lossyOfferValid   = 10 * time.Second
	lossyResponseTime = 90 * time.Second
)

// lossyRetransmit is the RETRANS_TIMER schedule of both engines (§11.4).
var lossyRetransmit = session.Retransmit{Timer: 200 * time.Millisecond, Backoff: 1.5, MaxRetries: 10, MaxTimer: time.Second}

// envInt reads an integer environment variable, def when unset.
func envInt(t *testing.T, name string, def int64) int64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, s)
	}
	return v
}

// lossyPlan is what the client does with order i's offer.
type lossyPlan int

const (
	planAccept   lossyPlan = iota // ACCEPT (Fig. 6)
	planWithdraw                  // ACCEPT, then WITHDRAW the agreement (Fig. 14)
	planDecline                   // DECLINE (Fig. 13)
	planCancel                    // CANCEL (§9.2.7)
	planIgnore                    // no answer: the offer expires (§9.1.8)
)

func planOf(i int) lossyPlan {
	switch i % 10 {
	case 6:
		return planIgnore
	case 7:
		return planWithdraw
	case 8:
		return planDecline
	case 9:
		return planCancel
	}
	return planAccept
}

func (p lossyPlan) String() string {
	return [...]string{"accept", "withdraw", "decline", "cancel", "ignore"}[p]
}

// lossyResult is how one negotiation ended on the client.
type lossyResult struct {
	id       string
	identity string
	client   *testClient
	plan     lossyPlan
	order    client.Order
	outcome  string
	stuck    bool
}

// TestLossyNegotiations runs N negotiations (CPNP_LOSSY_N, default 100;
// `make test-lossy`: 1000) between client engines and the server engine
// through a seeded lossy relay (CPNP_LOSSY_SEED): 20% drop, 5% duplication,
// 10% reordering, 1-6 ms delay, in both directions, DTLS handshakes
// included. Plans: 60% accept, 10% accept then withdraw, 10% decline, 10%
// cancel, 10% no answer (the offer expires after 10 s). Every negotiation
// must end in a consistent terminal state on both sides — client Completed
// ⇔ server Completed with the same agreement CPD; client Cancelled ⇔ server
// not Completed (cancelled, declined, expired, or completed then
// withdrawn) — and once everything settled the policy holds exactly the
// agreements of the Completed orders and nothing Reserved. The outcome
// histogram is logged (go test -v).
// Reference: RFC 8921 §11.4 (retransmission, duplicates), §11.3 (sequence
// numbers), §9.1.8 (offer validity), §8.11; DESIGN §4, §7.
func TestLossyNegotiations(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	n := int(envInt(t, "CPNP_LOSSY_N", lossyDefaultN))
	if testing.Short() && n > 20 {
		n = 20
	}
	seed := envInt(t, "CPNP_LOSSY_SEED", lossyDefaultSeed)
	// The whole test must end by itself: 3 minutes for 100 negotiations,
	// proportionally more for more, at most 25 minutes.
	budget := min(3*time.Minute+time.Duration(n)*time.Second, 25*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	start := time.Now()

	identities := make([]string, lossyClients)
	for i := range identities {
		identities[i] = fmt.Sprintf("lossy-%d", i)
	}
	p := cpnptest.NewPKI(t, identities...)
	pol := testPolicy(lossyOfferValid)
	pol.Tenants = append(pol.Tenants, policy.Tenant{Identity: policy.Wildcard, Pools: []string{"wan"}})
	srv := startServer(t, p, serverOptions{
		policy:  &pol,
		machine: fsm.Server{Retransmit: lossyRetransmit},
		// Answer a repeated request again after 100 ms (default 500 ms),
		// so that the short RETRANS_TIMER of the clients is not wasted.
		dupCache: session.DupCacheConfig{ResendInterval: 100 * time.Millisecond},
	})
	relay, err := cpnptest.NewRelay(cpnptest.RelayConfig{
		Target: srv.addr, Seed: seed,
		Drop: 0.2, Duplicate: 0.05, Reorder: 0.1, Delay: time.Millisecond, Jitter: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("relay: %v", err)
	}
	t.Cleanup(func() {
		if err := relay.Close(); err != nil {
			t.Errorf("close relay: %v", err)
		}
	})
	clients := make([]*testClient, lossyClients)
	for i := range clients {
		clients[i] = startClient(t, p, relay.Addr().String(), clientOptions{
			cert:       certOf(p, identities[i]),
			machine:    fsm.Client{Retransmit: lossyRetransmit},
			minBackoff: 100 * time.Millisecond, maxBackoff: time.Second,
			quiet: true, noEvents: true, eventBuffer: 16,
		})
	}
	for _, c := range clients {
		c.connect()
	}
	t.Logf("lossy: %d negotiations over %d associations, relay seed %d; handshakes took %v",
		n, lossyClients, seed, time.Since(start).Round(time.Millisecond))

	results := make([]*lossyResult, n)
	sem := make(chan struct{}, lossyConcurrency)
	var wg sync.WaitGroup
	for i := range n {
		r := &lossyResult{id: fmt.Sprintf("lossy-%05d", i), identity: identities[i%lossyClients],
			client: clients[i%lossyClients], plan: planOf(i)}
		results[i] = r
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			r.outcome, r.stuck = "not started: out of time", true
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.run(ctx)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Let the server settle: offers nobody answered expire (§9.1.8) and
	// release their reservations.
	settled := waitSettled(ctx, srv)
	hist := map[string]int{}
	for _, r := range results {
		hist[r.outcome]++
	}
	var lines []string
	for k, v := range hist {
		lines = append(lines, fmt.Sprintf("  %5d  %s", v, k))
	}
	sort.Strings(lines)
	rs := relay.Stats()
	cm := map[string]uint64{}
	for _, c := range clients {
		s := c.metrics.Snapshot()
		cm["retransmissions"] += s.Retransmissions
		cm["dials"] += s.Dials
		cm["alarms"] += s.Alarms
	}
	t.Logf("lossy: %d negotiations in %v (settled after %v); outcomes (client side):\n%s\n"+
		"relay to-server: %+v\nrelay to-client: %+v\nclient %v; server retransmissions %v, FAILs sent %v",
		n, elapsed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), strings.Join(lines, "\n"),
		rs.ToServer, rs.ToClient, cm, srv.counter("cpnp_server_retransmissions_total", "", ""),
		srv.counter("cpnp_server_fails_sent_total", "", ""))
	if !settled {
		t.Errorf("the server did not settle within the budget of %v: holdings %+v", budget, srv.holdings())
	}
	checkConsistent(t, srv, results)
}

// run drives one negotiation to its end on the client.
func (r *lossyResult) run(ctx context.Context) {
	eng := r.client.eng
	events, unsubscribe := eng.Subscribe(r.id)
	defer unsubscribe()
	now := time.Now()
	if _, err := eng.Quote(ctx, serverName, client.QuoteRequest{
		CustomerOrderID: r.id, CPD: gold(1, 1), ExpectedResponseTime: ptr(now.Add(lossyResponseTime)),
	}); err != nil {
		r.outcome, r.stuck = "quote failed: "+err.Error(), true
		return
	}
	poll := time.NewTicker(250 * time.Millisecond) // in case an event was not delivered
	defer poll.Stop()
	acted, withdrew := false, false
	for {
		select {
		case _, ok := <-events:
			if !ok {
				r.outcome, r.stuck = "engine closed", true
				return
			}
		case <-poll.C:
		case <-ctx.Done():
			r.order, _ = eng.Get(r.id)
			r.outcome, r.stuck = "stuck in "+string(r.order.State()), true
			return
		}
		o, _ := eng.Get(r.id) // the latest, not the event's snapshot
		st := o.State()
		switch {
		case !acted && (st == fsm.ClientOfferProcessing || st == fsm.ClientOfferReceived):
			acted = true
			var err error
			switch r.plan {
			case planAccept, planWithdraw:
				err = eng.Accept(ctx, r.id)
			case planDecline:
				err = eng.Decline(ctx, r.id, wire.ReasonUnacceptableGap)
			case planCancel:
				err = eng.Cancel(ctx, r.id)
			case planIgnore: // wait for VALIDITY_OFFER_TIME
			}
			if err != nil && !errors.Is(err, client.ErrInvalidState) {
				r.outcome, r.stuck = "command failed: "+err.Error(), true
				return
			}
			continue // o is older than the command: judge the next state
		case r.plan == planWithdraw && !withdrew && st == fsm.ClientCompleted:
			withdrew = true
			if err := eng.Withdraw(ctx, r.id); err != nil {
				r.outcome, r.stuck = "withdraw failed: "+err.Error(), true
				return
			}
			continue
		}
		if out, done := lossyOutcome(o, r.plan, withdrew); done {
			r.order, r.outcome = o, out
			return
		}
	}
}

// lossyOutcome says whether o has settled on the client and how it ended.
func lossyOutcome(o client.Order, plan lossyPlan, withdrew bool) (string, bool) {
	switch o.State() {
	case fsm.ClientCompleted:
		if plan == planWithdraw && !withdrew {
			return "", false
		}
		return "Completed", o.FSM.Txn.Unanswered == nil
	case fsm.ClientCancelled:
		if withdrew {
			if o.FSM.WithdrawAcked {
				return "Cancelled: withdrawn, acknowledged", true
			}
			// Every retry lost: the next withdrawal cycle is 300 s away.
			_, armed := o.FSM.Timers[fsm.TimerWithdrawCycle]
			return "Cancelled: withdrawn, NOT acknowledged", armed
		}
		if !o.FSM.Terminal() {
			return "", false
		}
		reason := "?"
		for _, tr := range o.History {
			if tr.From != tr.To {
				reason = tr.Reason
			}
		}
		if f := o.FSM.Failure; f != nil && f.StatusCode != 0 {
			reason += fmt.Sprintf(" (FAIL %d)", f.StatusCode)
		}
		if len(o.History) > 0 && o.History[len(o.History)-1].Reason == "NoAcknowledgement" {
			reason += ", unacknowledged"
		}
		return "Cancelled: " + reason, true
	}
	return "", false
}

// waitSettled waits until no offer is Reserved and every server order is
// Completed or Cancelled (open offers expire after lossyOfferValid).
func waitSettled(ctx context.Context, srv *testServer) bool {
	deadline := time.Now().Add(lossyOfferValid + 30*time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ok := true
		for _, h := range srv.policy.Holdings() {
			if h.State == policy.HoldingReserved {
				ok = false
			}
		}
		for _, o := range srv.srv.List() {
			if o.State != string(fsm.ServerCompleted) && o.State != string(fsm.ServerCancelled) {
				ok = false
			}
		}
		if ok {
			return true
		}
		time.Sleep(50 * time.Millisecond) // polling, not an assertion
	}
	return false
}

// checkConsistent compares both sides of every negotiation and the policy.
func checkConsistent(t *testing.T, srv *testServer, results []*lossyResult) {
	t.Helper()
	byKey := map[string]server.OrderSummary{}
	for _, o := range srv.srv.List() {
		byKey[o.Identity+"/"+o.CustomerOrderID] = o
	}
	wantCommitted := map[string]bool{}
	problems := 0
	report := func(r *lossyResult, format string, args ...any) {
		problems++
		if problems <= 20 {
			t.Errorf("%s (plan %s, client %s): %s; history %v", r.id, r.plan, r.outcome, fmt.Sprintf(format, args...), reasons(r.order))
		}
	}
	clientCompleted := map[string]bool{}
	for _, r := range results {
		if r.stuck {
			report(r, "did not settle on the client")
			continue
		}
		key := r.identity + "/" + r.id
		s, ok := byKey[key]
		switch r.order.State() {
		case fsm.ClientCompleted:
			clientCompleted[key] = true
			wantCommitted[r.order.FSM.ProviderOrderID] = true
			if !ok || s.State != string(fsm.ServerCompleted) {
				report(r, "client Completed, server %q (found %v)", s.State, ok)
				continue
			}
			d, _ := srv.srv.Get(s.ProviderOrderID)
			if d.AgreementCPD == nil || !cpd.Equal(*d.AgreementCPD, r.order.FSM.Agreement.CPD) {
				report(r, "agreement CPDs differ: server %+v, client %+v", d.AgreementCPD, r.order.FSM.Agreement.CPD)
			}
		case fsm.ClientCancelled:
			if ok && s.State == string(fsm.ServerCompleted) {
				report(r, "client Cancelled, server Completed")
			}
		default:
			report(r, "client ended in %s", r.order.State())
		}
	}
	for key, s := range byKey {
		if s.State == string(fsm.ServerCompleted) && !clientCompleted[key] {
			problems++
			t.Errorf("server order %s is Completed, its client order is not", key)
		}
	}
	for _, h := range srv.policy.Holdings() {
		switch {
		case h.State == policy.HoldingReserved:
			problems++
			t.Errorf("leaked reservation: %+v", h)
		case !wantCommitted[h.ProviderOrderID]:
			problems++
			t.Errorf("committed holding of an order not Completed on the client: %+v", h)
		default:
			delete(wantCommitted, h.ProviderOrderID)
		}
	}
	for poid := range wantCommitted {
		problems++
		t.Errorf("client agreement %s holds no capacity on the server", poid)
	}
	if problems > 20 {
		t.Errorf("... %d problems in all", problems)
	}
}
