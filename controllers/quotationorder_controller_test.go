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

package controllers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

// TestReconcileTerminalErrors runs the reconciler against the fake client:
// an order whose stored protocol state refers to nonces its Secret lacks is
// Stalled with a Warning Event and a terminal error (no retry loop), and
// nothing is sent.
// Reference: DESIGN §5 (nonces in a Secret); STYLE §3 (TerminalError, Stalled).
func TestReconcileTerminalErrors(t *testing.T) {
	t.Parallel()
	caPEM, certPEM, keyPEM := testCredentials(t)
	scheme := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	withOffer := fsm.NewClientOrder("co-1", fsm.Request{}, true)
	withOffer.State = fsm.ClientOfferProcessing
	withOffer.Offer = &fsm.Offer{Nonce: "0123456789abcdef0123456789abcdef", ValidUntil: at.Add(time.Hour)}
	raw, _, err := v1alpha1.EncodeProtocol(withOffer)
	if err != nil {
		t.Fatal(err)
	}
	qo := &v1alpha1.QuotationOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "lost", Generation: 1},
		Spec: v1alpha1.QuotationOrderSpec{
			ProviderRefs: []v1alpha1.ProviderReference{{Kind: v1alpha1.ProviderKindProvider, Name: "p"}},
			CPD:          v1alpha1.CPDFromProtocol(cpd.CPD{Components: []cpd.Component{{QoS: &cpd.QoS{Class: "gold"}}}}),
		},
		Status: v1alpha1.QuotationOrderStatus{
			CustomerOrderID: "co-1",
			State:           v1alpha1.StateOfferProcessing,
			Providers: []v1alpha1.ProviderNegotiation{{
				ProviderReference: v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindProvider, Name: "p"},
				State:             v1alpha1.StateOfferProcessing,
				Protocol:          raw,
			}},
		},
	}
	objs := []client.Object{
		qo,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "client"},
			Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "p"}, Spec: v1alpha1.ProviderSpec{
			Address: "127.0.0.1:9", CABundle: caPEM, ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "client"},
		}},
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithStatusSubresource(&v1alpha1.QuotationOrder{}).Build()
	engine, err := NewEngine(EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := engine.mux.Close(); err != nil {
			t.Error(err)
		}
	})
	rec := events.NewFakeRecorder(10)
	r := &QuotationOrderReconciler{Client: c, Engine: engine, Recorder: rec, Now: func() time.Time { return at }}
	key := types.NamespacedName{Namespace: "team", Name: "lost"}
	_, err = r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key})
	if !errors.Is(err, reconcile.TerminalError(nil)) || !errors.Is(err, v1alpha1.ErrNonceMissing) {
		t.Fatalf("got error %v, want a terminal error wrapping ErrNonceMissing", err)
	}
	var got v1alpha1.QuotationOrder
	if err := c.Get(context.Background(), key, &got); err != nil {
		t.Fatal(err)
	}
	if s := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionStalled); s == nil || s.Status != metav1.ConditionTrue || s.Reason != ReasonNegotiationEnded {
		t.Errorf("Stalled: got %+v, want True with reason %s", s, ReasonNegotiationEnded)
	}
	select {
	case e := <-rec.Events:
		if !strings.HasPrefix(e, corev1.EventTypeWarning+" "+ReasonNegotiationEnded) {
			t.Errorf("event: got %q, want a Warning %s", e, ReasonNegotiationEnded)
		}
	default:
		t.Error("no Event, want a Warning")
	}

	// A second pass changes nothing and emits no second Event.
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key}); !errors.Is(err, reconcile.TerminalError(nil)) {
		t.Fatalf("second pass: got %v, want a terminal error", err)
	}
	select {
	case e := <-rec.Events:
		t.Errorf("second pass: got Event %q, want none", e)
	default:
	}

	// A deleted order is forgotten without error.
	if err := c.Delete(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key}); err != nil {
		t.Errorf("deleted order: got %v, want nil", err)
	}
}
