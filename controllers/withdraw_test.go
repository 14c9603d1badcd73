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

package controllers_test

import (
	"encoding/json"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// TestDeleteAgreementWithdraws deletes an Agreement: the finalizer added
// at its creation keeps it until the server acknowledged the WITHDRAW; the
// server then holds the order as withdrawn (Cancelled) and released its
// capacity, and the Agreement is gone.
// Reference: RFC 8921 §9.2.8 (WITHDRAW), §11.1.2; DESIGN §4, §5.
func TestDeleteAgreementWithdraws(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "withdraw")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	qo := order(ns, "gone", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "an agreement", func(o *v1alpha1.QuotationOrder) bool { return o.Status.AgreementRef != nil })
	agr := waitAgreement(t, c, qo)
	if !controllerutil.ContainsFinalizer(agr, controllers.WithdrawFinalizer) {
		t.Fatalf("agreement finalizers: got %v, want %s", agr.Finalizers, controllers.WithdrawFinalizer)
	}
	if len(srv.pol.Holdings()) == 0 {
		t.Fatal("server holdings with an agreement: got none, want the committed capacity")
	}
	coid := agr.Status.CustomerOrderID

	if err := c.Delete(ctxFor(t), agr); err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	waitFor(t, c, qo, "the agreement to be gone", func(*v1alpha1.QuotationOrder) bool {
		err := c.Get(ctx, client.ObjectKeyFromObject(agr), &v1alpha1.Agreement{})
		return apierrors.IsNotFound(err)
	})
	var state string
	for _, o := range srv.srv.List() {
		if o.CustomerOrderID == coid {
			state = o.State
		}
	}
	if state != "Cancelled" {
		t.Errorf("server order %s: got state %q, want Cancelled (withdrawn)", coid, state)
	}
	if h := srv.pol.Holdings(); len(h) != 0 {
		t.Errorf("server holdings after the WITHDRAW: got %+v, want none", h)
	}
	waitEvent(t, c, ns, agr.Name, corev1.EventTypeNormal, controllers.ReasonWithdrawing)
}

// TestUnansweredWithdrawAlarms makes the server unresponsive (a UDP relay
// that drops every datagram) before the Agreement is deleted: the WITHDRAW
// goes unanswered through every retry, which raises the alarm (a Warning
// Event with the condition's reason, the cpnp_withdraw_alarms_total
// counter, Reconciling=True WithdrawUnanswered) and arms the next cycle no
// sooner than 300 s later; the finalizer stays. Once the server answers
// again and the (injected) clock passed the cycle, the next WITHDRAW is
// acknowledged and the Agreement goes.
// Reference: RFC 8921 §11.1.2 ("must not retry this Withdrawal cycle more
// frequently than every 300 seconds"), §11.4, §9.2.8.
func TestUnansweredWithdrawAlarms(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "wdalarm")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	relay := startRelay(t, srv.addr)
	provider(t, c, ns, "wan", p, &cpnpServer{addr: relay.addr()})
	var prov v1alpha1.Provider
	if err := c.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: "wan"}, &prov); err != nil {
		t.Fatal(err)
	}
	one := int32(1)
	prov.Spec.Retransmission = &v1alpha1.Retransmission{Timer: &metav1.Duration{Duration: 300 * time.Millisecond}, Backoff: &one, MaxRetries: &one}
	if err := c.Update(ctxFor(t), &prov); err != nil {
		t.Fatal(err)
	}
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	managerWith(t, clock)

	qo := order(ns, "deaf", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "an agreement", func(o *v1alpha1.QuotationOrder) bool { return o.Status.AgreementRef != nil })
	agr := waitAgreement(t, c, qo)
	alarmsBefore := alarmCount(t, controllers.ReasonWithdrawUnanswered)

	relay.drop.Store(true)
	deleted := clock()
	if err := c.Delete(ctxFor(t), agr); err != nil {
		t.Fatal(err)
	}
	agr = waitFor(t, c, agr, "Reconciling reason WithdrawUnanswered", func(a *v1alpha1.Agreement) bool {
		r := condition(a.Status.Conditions, v1alpha1.ConditionReconciling)
		return r != nil && r.Status == metav1.ConditionTrue && r.Reason == controllers.ReasonWithdrawUnanswered
	})
	if !controllerutil.ContainsFinalizer(agr, controllers.WithdrawFinalizer) {
		t.Errorf("finalizers of an unwithdrawn agreement: got %v, want %s", agr.Finalizers, controllers.WithdrawFinalizer)
	}
	if got, want := agr.Status.State, v1alpha1.AgreementWithdrawing; got != want {
		t.Errorf("agreement state: got %s, want %s", got, want)
	}
	waitEvent(t, c, ns, agr.Name, corev1.EventTypeWarning, controllers.ReasonWithdrawUnanswered)
	if got := alarmCount(t, controllers.ReasonWithdrawUnanswered); got <= alarmsBefore {
		t.Errorf("cpnp_withdraw_alarms_total{reason=%q}: got %v, want more than %v", controllers.ReasonWithdrawUnanswered, got, alarmsBefore)
	}
	var proto struct {
		Timers map[string]time.Time `json:"timers"`
	}
	if err := json.Unmarshal(agr.Status.Protocol.Raw, &proto); err != nil {
		t.Fatalf("decode status.protocol: %v", err)
	}
	next, ok := proto.Timers["WithdrawCycle"]
	if !ok || next.Before(deleted.Add(300*time.Second)) {
		t.Errorf("next withdrawal cycle: got %v (armed %v), want at least 300 s after %v", next, ok, deleted)
	}
	if len(srv.pol.Holdings()) == 0 {
		t.Errorf("server holdings while the WITHDRAW is unanswered: got none, want the agreement's")
	}

	// The server answers again; the clock passes the cycle (§11.1.2).
	relay.drop.Store(false)
	offset.Store(int64(301 * time.Second))
	base := agr.DeepCopy()
	agr.Annotations = map[string]string{"test.cpnp.dev/poke": "1"}
	if err := c.Patch(ctxFor(t), agr, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	waitFor(t, c, qo, "the agreement to be gone", func(*v1alpha1.QuotationOrder) bool {
		return apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(agr), &v1alpha1.Agreement{}))
	})
	if h := srv.pol.Holdings(); len(h) != 0 {
		t.Errorf("server holdings after the WITHDRAW: got %+v, want none", h)
	}
}

// alarmCount reads cpnp_withdraw_alarms_total{reason} from the
// controller-runtime metrics registry.
func alarmCount(t *testing.T, reason string) float64 {
	t.Helper()
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "cpnp_withdraw_alarms_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

// udpRelay forwards datagrams between the clients and a server, or drops
// them all while drop is set (an unresponsive server that keeps its state).
type udpRelay struct {
	conn *net.UDPConn
	drop atomic.Bool
}

func (r *udpRelay) addr() string { return r.conn.LocalAddr().String() }

// startRelay relays 127.0.0.1:random to upstream until the test ends.
func startRelay(t *testing.T, upstream string) *udpRelay {
	t.Helper()
	up, err := net.ResolveUDPAddr("udp", upstream)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRelay{conn: conn}
	var (
		mu    sync.Mutex
		peers = map[string]*net.UDPConn{}
		wg    sync.WaitGroup
	)
	t.Cleanup(func() {
		_ = conn.Close()
		mu.Lock()
		for _, p := range peers {
			_ = p.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			mu.Lock()
			p, ok := peers[from.String()]
			if !ok {
				p, err = net.DialUDP("udp", nil, up)
				if err != nil {
					mu.Unlock()
					continue
				}
				peers[from.String()] = p
				wg.Add(1)
				go func() {
					defer wg.Done()
					b := make([]byte, 65536)
					for {
						m, err := p.Read(b)
						if err != nil {
							return
						}
						if !r.drop.Load() {
							_, _ = conn.WriteToUDP(b[:m], from)
						}
					}
				}()
			}
			mu.Unlock()
			if !r.drop.Load() {
				_, _ = p.Write(buf[:n])
			}
		}
	}()
	return r
}
