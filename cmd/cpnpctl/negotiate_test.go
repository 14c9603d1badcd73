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

package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client/clienttest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

const (
	testProvider = "po-cli-1"
	testNonce    = "6512bd43d9caa6e02c990b0a82652dca"
	testNonce2   = "b6d767d2f8ed5d21a44b0e5886680cb9"
)

// cliEnv is a certificate directory made by `cpnpctl certs init`, a
// scripted DTLS server using its server certificate, and the global flags
// that reach it.
type cliEnv struct {
	t     *testing.T
	dir   string
	srv   *clienttest.Server
	flags []string
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	dir := t.TempDir()
	certs := filepath.Join(dir, "certs")
	if r := runCLI(t, nil, "certs", "init", certs); r.code != 0 {
		t.Fatalf("certs init: exit %d: %s", r.code, r.stderr)
	}
	cert, err := pki.LoadKeyPair(filepath.Join(certs, "server.crt"), filepath.Join(certs, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pki.LoadCertPool(filepath.Join(certs, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	srv := clienttest.NewServer(t, transport.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool})
	return &cliEnv{t: t, dir: dir, srv: srv, flags: []string{
		"--server", srv.Addr(), "--server-name", "localhost",
		"--ca", filepath.Join(certs, "ca.crt"),
		"--cert", filepath.Join(certs, "client.crt"), "--key", filepath.Join(certs, "client.key"),
		"--state", filepath.Join(dir, "state", "orders.db"),
		"--timeout", "20s",
	}}
}

// orderFile writes an order file for the sample request (cpd.Sample) with
// customer order identifier id and returns its path.
func (e *cliEnv) orderFile(id string, extra string) string {
	e.t.Helper()
	js, err := cpd.Sample().MarshalJSON()
	if err != nil {
		e.t.Fatal(err)
	}
	body := "customerOrderID: " + id + "\nexpectedResponseTime: 10m\n" + extra + "cpd: " + string(js) + "\n"
	p := filepath.Join(e.dir, id+".yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// start runs cpnpctl with the global flags and args in the background.
func (e *cliEnv) start(args ...string) <-chan result {
	ch := make(chan result, 1)
	all := append(append([]string(nil), args...), e.flags...)
	go func() { ch <- runCLI(e.t, nil, all...) }()
	return ch
}

// run runs cpnpctl with the global flags and args.
func (e *cliEnv) run(args ...string) result {
	return runCLI(e.t, nil, append(append([]string(nil), args...), e.flags...)...)
}

func (e *cliEnv) finish(ch <-chan result, wantCode int) result {
	e.t.Helper()
	select {
	case r := <-ch:
		if r.code != wantCode {
			e.t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, wantCode, r.stdout, r.stderr)
		}
		return r
	case <-time.After(30 * time.Second):
		e.t.Fatal("cpnpctl did not return")
	}
	return result{}
}

func (e *cliEnv) answer(to clienttest.Received, method wire.Method, edit func(*wire.Message)) {
	m := e.srv.Answer(to.Msg, method)
	m.ProviderOrderID = testProvider
	if edit != nil {
		edit(&m)
	}
	e.srv.Send(e.t, to, m)
}

func offerOf(c cpd.CPD, nonce string) func(*wire.Message) {
	return func(m *wire.Message) {
		valid := time.Now().Add(time.Hour)
		m.ValidityOfferTime = &valid
		m.OfferedCPD = &c
		m.Nonce = nonce
	}
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

// TestCLINegotiation drives quote --wait, status, accept, activate and
// withdraw against a scripted server, one cpnpctl process per verb sharing
// the state file, as a user would.
// Reference: RFC 8921 §8.7 Figure 6, §9.2.4, §9.2.8, §9.2.11; DESIGN §6.
func TestCLINegotiation(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	file := e.orderFile("cli-1", "negotiationOptions: {activationType: explicit}\n")

	run := e.start("quote", "-f", file, "--wait")
	q := e.srv.Expect(t, wire.MethodQuotation)
	if q.Msg.CustomerOrderID != "cli-1" || q.Msg.InformationElements == nil ||
		q.Msg.InformationElements.NegotiationOptions.ActivationType != wire.ActivationExplicit {
		t.Fatalf("QUOTATION = %s with IEs %+v", q.Msg, q.Msg.InformationElements)
	}
	e.answer(q, wire.MethodProcessing, nil)
	e.answer(q, wire.MethodOffer, offerOf(cpd.SampleConcrete(), testNonce))
	e.srv.Expect(t, wire.MethodProcessing) // flushed before cpnpctl exits
	r := e.finish(run, 0)
	mustContain(t, "quote output", r.stdout, "Order cli-1: QUOTATION sent to "+e.srv.Addr(),
		"PQOSent", "QuotationSent", "ServerProcessing", "OfferProcessing",
		"Offer for cli-1", "satisfies every bound", "cpnpctl accept cli-1")

	st := e.run("status")
	mustContain(t, "status", st.stdout, "ORDER", "cli-1", "OfferProcessing", testProvider)

	run = e.start("accept", "cli-1")
	a := e.srv.Expect(t, wire.MethodAccept)
	if a.Msg.Nonce != testNonce || a.Msg.Seq != q.Msg.Seq+2 {
		t.Errorf("ACCEPT = %s, want nonce of the offer and seq %d", a.Msg, q.Msg.Seq+2)
	}
	offered := cpd.SampleConcrete()
	e.answer(a, wire.MethodAck, func(m *wire.Message) { m.CPD = &offered })
	r = e.finish(run, 0)
	mustContain(t, "accept output", r.stdout, "Completed", "Agreed", "agreement reached", "inactive (explicit)")

	run = e.start("activate", "cli-1")
	act := e.srv.Expect(t, wire.MethodActivate)
	e.answer(act, wire.MethodAck, nil)
	r = e.finish(run, 0)
	mustContain(t, "activate output", r.stdout, "Activated", "agreement active")

	run = e.start("withdraw", "cli-1")
	w := e.srv.Expect(t, wire.MethodWithdraw)
	empty := cpd.Empty()
	e.answer(w, wire.MethodAck, func(m *wire.Message) { m.CPD = &empty })
	r = e.finish(run, 0)
	mustContain(t, "withdraw output", r.stdout, "Withdrawn", "WithdrawAcknowledged", "agreement withdrawn")

	st = e.run("status", "cli-1")
	mustContain(t, "status cli-1", st.stdout, "State:", "Cancelled", "withdrawn", "History:", "Agreed", "Activated")
	if st := e.run("accept", "cli-1"); st.code != 1 || !strings.Contains(st.stderr, "AcceptOffer refused in state Cancelled") {
		t.Errorf("accept of a withdrawn order: exit %d, stderr %q", st.code, st.stderr)
	}
}

// TestCLIAutoAccept: --accept auto declines an offer that misses a bound of
// the request (reason 1, exit 2) and accepts one that satisfies it.
// Reference: DESIGN §5 (Automatic acceptance); RFC 8921 §9.2.5 Table 3.
func TestCLIAutoAccept(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)

	run := e.start("quote", "-f", e.orderFile("auto-bad", ""), "--accept", "auto")
	q := e.srv.Expect(t, wire.MethodQuotation)
	short := cpd.SampleConcrete()
	short.Components[0].Capacity.OutgoingBps = cpd.Fixed(10e6) // below the requested 100 Mb/s
	e.answer(q, wire.MethodOffer, offerOf(short, testNonce))
	e.srv.Expect(t, wire.MethodProcessing)
	d := e.srv.Expect(t, wire.MethodDecline)
	if len(d.Msg.Reasons) != 1 || d.Msg.Reasons[0] != wire.ReasonUnacceptableGap {
		t.Errorf("DECLINE reasons %v, want [1]", d.Msg.Reasons)
	}
	r := e.finish(run, 2)
	mustContain(t, "auto decline", r.stdout, "differs from the request", "outgoing_bps", "Declining the offer")
	mustContain(t, "auto decline stderr", r.stderr, "order auto-bad ended Cancelled")

	run = e.start("quote", "-f", e.orderFile("auto-good", "extensionLimit: 20m\n"), "--accept", "auto")
	q = e.srv.Expect(t, wire.MethodQuotation)
	e.answer(q, wire.MethodOffer, offerOf(cpd.SampleConcrete(), testNonce))
	e.srv.Expect(t, wire.MethodProcessing)
	a := e.srv.Expect(t, wire.MethodAccept)
	offered := cpd.SampleConcrete()
	e.answer(a, wire.MethodAck, func(m *wire.Message) { m.CPD = &offered })
	r = e.finish(run, 0)
	mustContain(t, "auto accept", r.stdout, "Accepting the offer", "agreement reached", "active")

	// UPDATE with auto acceptance (§9.2.9): a new offer and nonce.
	upd := e.orderFile("auto-good-v2", "")
	run = e.start("update", "auto-good", "-f", upd)
	if r := e.finish(run, 1); !strings.Contains(r.stderr, "customerOrderID auto-good-v2 is not ORDER auto-good") {
		t.Errorf("update with another order's file: %s", r.stderr)
	}
	if err := os.WriteFile(upd, []byte(strings.Replace(mustRead(t, upd), "customerOrderID: auto-good-v2\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	run = e.start("update", "auto-good", "-f", upd, "--accept", "auto")
	u := e.srv.Expect(t, wire.MethodUpdate)
	if u.Msg.Nonce != testNonce {
		t.Errorf("UPDATE nonce %q, want the agreement's", u.Msg.Nonce)
	}
	e.answer(u, wire.MethodOffer, offerOf(cpd.SampleConcrete(), testNonce2))
	e.srv.Expect(t, wire.MethodProcessing)
	a = e.srv.Expect(t, wire.MethodAccept)
	e.answer(a, wire.MethodAck, func(m *wire.Message) { m.CPD = &offered })
	r = e.finish(run, 0)
	mustContain(t, "update", r.stdout, "UpdateSent", "Updated", "agreement reached")
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCLIFailuresAndCancel: a FAIL ends the order (exit 2, naming the
// code); cancel and decline are acknowledged; a request for more time
// stops the wait and is answered with extend.
// Reference: RFC 8921 §9.2.10 Table 4, §9.2.7, §9.2.2 Figures 11/12.
func TestCLIFailuresAndCancel(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)

	run := e.start("quote", "-f", e.orderFile("fail-1", ""))
	q := e.srv.Expect(t, wire.MethodQuotation)
	e.answer(q, wire.MethodFail, func(m *wire.Message) { m.StatusCode = wire.StatusOutOfResources })
	r := e.finish(run, 2)
	mustContain(t, "FAIL output", r.stdout, "Cancelled", "Failed (FAIL 5 Out of Resources)")
	mustContain(t, "FAIL stderr", r.stderr, "order fail-1 ended Cancelled (Failed: FAIL 5 Out of Resources)")

	// Without --wait, quote returns when the server answered.
	run = e.start("quote", "-f", e.orderFile("cancel-1", ""))
	q = e.srv.Expect(t, wire.MethodQuotation)
	e.answer(q, wire.MethodProcessing, nil)
	r = e.finish(run, 0)
	mustContain(t, "quote without --wait", r.stdout, "ServerProcessing", "the server is processing it", "cpnpctl wait cancel-1")
	// wait resumes the order in a new process, on a new association.
	before := e.srv.Accepted()
	run = e.start("wait", "cancel-1")
	deadline := time.Now().Add(clienttest.Wait)
	for e.srv.Accepted() == before {
		if time.Now().After(deadline) {
			t.Fatal("wait did not open an association")
		}
		time.Sleep(5 * time.Millisecond) // polling, not an assertion
	}
	e.answer(clienttest.Received{Msg: q.Msg, Conn: e.srv.Latest().Conn}, wire.MethodOffer, offerOf(cpd.SampleConcrete(), testNonce))
	e.srv.Expect(t, wire.MethodProcessing)
	r = e.finish(run, 0)
	mustContain(t, "wait", r.stdout, "OfferProcessing", "Offer for cancel-1", "cpnpctl accept cancel-1")
	run = e.start("cancel", "cancel-1")
	c := e.srv.Expect(t, wire.MethodCancel)
	e.answer(c, wire.MethodAck, nil)
	r = e.finish(run, 0)
	mustContain(t, "cancel", r.stdout, "Order cancel-1 cancelled", "CancelAcknowledged")

	// A request for more time beyond the granted time, with no extensionLimit.
	run = e.start("quote", "-f", e.orderFile("ext-1", ""), "--wait")
	q = e.srv.Expect(t, wire.MethodQuotation)
	later := time.Now().Add(time.Hour)
	e.answer(q, wire.MethodProcessing, func(m *wire.Message) { m.ExpectedOfferTime = &later })
	r = e.finish(run, 0)
	mustContain(t, "extension request", r.stdout, "ExtensionRequested", "cpnpctl extend ext-1 --grant")
	if r := e.run("extend", "ext-1"); r.code != 1 || !strings.Contains(r.stderr, "exactly one of --grant and --refuse") {
		t.Errorf("extend without a decision: exit %d %s", r.code, r.stderr)
	}
	run = e.start("extend", "ext-1", "--refuse")
	f := e.srv.Expect(t, wire.MethodFail)
	if f.Msg.StatusCode != wire.StatusMoreTimeRejected {
		t.Errorf("FAIL status %d, want 7", f.Msg.StatusCode)
	}
	r = e.finish(run, 0)
	mustContain(t, "extend --refuse", r.stdout, "MoreTimeRejected", "more time refused")

	// Decline with a reason of Table 3.
	run = e.start("quote", "-f", e.orderFile("decl-1", ""), "--wait")
	q = e.srv.Expect(t, wire.MethodQuotation)
	e.answer(q, wire.MethodOffer, offerOf(cpd.SampleConcrete(), testNonce))
	e.srv.Expect(t, wire.MethodProcessing)
	e.finish(run, 0)
	if r := e.run("decline", "decl-1", "--reason", "9"); r.code != 1 || !strings.Contains(r.stderr, "flag --reason") {
		t.Errorf("decline --reason 9: exit %d %s", r.code, r.stderr)
	}
	run = e.start("decline", "decl-1", "--reason", "2")
	d := e.srv.Expect(t, wire.MethodDecline)
	if len(d.Msg.Reasons) != 1 || d.Msg.Reasons[0] != wire.ReasonConflictWithOtherOffer {
		t.Errorf("DECLINE reasons %v, want [2]", d.Msg.Reasons)
	}
	empty := cpd.Empty()
	e.answer(d, wire.MethodAck, func(m *wire.Message) { m.CPD = &empty })
	r = e.finish(run, 0)
	mustContain(t, "decline", r.stdout, "Declined", "Order decl-1 declined")

	// Without the ACK, a cancelled order stays cancelled: a warning, status 0.
	run = e.start("quote", "-f", e.orderFile("soft-1", ""))
	q = e.srv.Expect(t, wire.MethodQuotation)
	e.answer(q, wire.MethodProcessing, nil)
	e.finish(run, 0)
	r = runCLI(t, nil, append([]string{"cancel", "soft-1"}, append(e.flags, "--timeout", "500ms")...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: no ACK from the server to the CANCEL after 500ms; order soft-1 is Cancelled") {
		t.Errorf("cancel without ACK: exit %d, stderr %q", r.code, r.stderr)
	}
	e.srv.Expect(t, wire.MethodCancel)

	st := e.run("status", "-o", "json")
	mustContain(t, "status json", st.stdout, `"customerOrderID": "fail-1"`, `"statusCode": 5`, `"status": "Out of Resources"`)
	if strings.Contains(st.stdout, testNonce) {
		t.Errorf("status -o json shows a nonce")
	}
}

// TestCLIErrors: bad flags, unknown orders, unreachable servers and
// rejected certificates fail with exit status 1 and a message naming the
// flag, file or order.
// Reference: RFC 8921 §13 (mutual authentication).
func TestCLIErrors(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	order := e.orderFile("err-1", "")
	rogue := filepath.Join(e.dir, "rogue")
	if r := runCLI(t, nil, "certs", "init", rogue); r.code != 0 {
		t.Fatal(r.stderr)
	}
	without := func(flag string) []string {
		var out []string
		for i := 0; i < len(e.flags); i += 2 {
			if e.flags[i] != flag {
				out = append(out, e.flags[i], e.flags[i+1])
			}
		}
		return out
	}
	tests := map[string]struct {
		args []string
		want string
	}{
		"no cert":          {append([]string{"quote", "-f", order}, without("--cert")...), "flags --cert and --key are required"},
		"no server":        {append([]string{"quote", "-f", order}, without("--server")...), "flag --server is required"},
		"bad transport":    {append([]string{"quote", "-f", order, "--transport", "quic"}, e.flags...), "flag --transport"},
		"missing key file": {append([]string{"quote", "-f", order}, append(without("--key"), "--key", "/nonexistent.key")...), "/nonexistent.key"},
		"rogue CA": {
			append([]string{"quote", "-f", order}, append(without("--ca"), "--ca", filepath.Join(rogue, "ca.crt"))...),
			"certificate signed by unknown authority",
		},
		"unknown order":  {append([]string{"accept", "nope"}, e.flags...), "order nope not found in"},
		"no order file":  {append([]string{"quote"}, e.flags...), "flag -f is required"},
		"bad accept":     {append([]string{"quote", "-f", order, "--accept", "maybe"}, e.flags...), `flag --accept "maybe"`},
		"bad output":     {append([]string{"status", "-o", "xml"}, e.flags...), `flag -o/--output "xml"`},
		"activate both":  {append([]string{"activate", "x", "--at", "2026-01-01T00:00:00Z", "--deactivate"}, e.flags...), "flags --at and --deactivate are exclusive"},
		"extend neither": {append([]string{"extend", "x"}, e.flags...), "exactly one of --grant and --refuse"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
	if n := e.srv.Pending(); n != 0 {
		t.Errorf("the server received %d messages from failed commands", n)
	}
}
