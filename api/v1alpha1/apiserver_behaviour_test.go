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

package v1alpha1_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// minimalCPD is the smallest valid requested CPD.
func minimalCPD() v1alpha1.CPD {
	return v1alpha1.CPD{Components: []v1alpha1.Component{{
		CustomerNodes: []v1alpha1.CustomerNode{{Identifier: "ce-1"}},
		Capacity:      &v1alpha1.Capacity{OutgoingBps: &v1alpha1.Value{Min: ptr.To(1e6)}},
	}}}
}

// TestDefaults creates minimal objects with the typed client and reads back
// the defaults the API server applied (DESIGN §3, §5, §6).
func TestDefaults(t *testing.T) {
	c := apiServer(t)
	ns := testNamespace

	t.Run("QuotationOrder", func(t *testing.T) {
		qo := &v1alpha1.QuotationOrder{
			ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: ns},
			Spec: v1alpha1.QuotationOrderSpec{
				ProviderRefs: []v1alpha1.ProviderReference{{Name: "transit"}},
				CPD:          minimalCPD(),
			},
		}
		if err := c.Create(ctx(t), qo); err != nil {
			t.Fatal(err)
		}
		want := v1alpha1.QuotationOrderSpec{
			ProviderRefs: []v1alpha1.ProviderReference{{Kind: v1alpha1.ProviderKindProvider, Name: "transit"}},
			CPD:          minimalCPD(),
			Acceptance:   v1alpha1.AcceptanceManual,
			Approval:     v1alpha1.ApprovalApproved,
		}
		if diff := cmp.Diff(want, qo.Spec); diff != "" {
			t.Errorf("defaulted spec (-want +got):\n%s", diff)
		}
	})

	t.Run("Provider", func(t *testing.T) {
		p := &v1alpha1.Provider{
			ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: ns},
			Spec: v1alpha1.ProviderSpec{
				Address:                    "cpnp.example.net:8921",
				ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "client"},
			},
		}
		if err := c.Create(ctx(t), p); err != nil {
			t.Fatal(err)
		}
		// Reference: DESIGN §3 defaults: RETRANS_TIMER 1 s doubling, 3
		// retries; DTLS handshake timeout 10 s; 1200-byte datagrams;
		// RFC 8921 §11.1.2 withdrawal cycle every 300 s.
		want := v1alpha1.ProviderSpec{
			Address:                    "cpnp.example.net:8921",
			ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "client"},
			Transport:                  v1alpha1.TransportDTLS,
			Retransmission: &v1alpha1.Retransmission{
				Timer:                 &metav1.Duration{Duration: time.Second},
				Backoff:               ptr.To[int32](2),
				MaxRetries:            ptr.To[int32](3),
				WithdrawRetryInterval: &metav1.Duration{Duration: 5 * time.Minute},
			},
			HandshakeTimeout: &metav1.Duration{Duration: 10 * time.Second},
			DatagramLimit:    ptr.To[int32](1200),
		}
		if diff := cmp.Diff(want, p.Spec); diff != "" {
			t.Errorf("defaulted spec (-want +got):\n%s", diff)
		}
	})

	t.Run("CapacityPool", func(t *testing.T) {
		p := &v1alpha1.CapacityPool{
			ObjectMeta: metav1.ObjectMeta{Name: "defaults"},
			Spec: v1alpha1.CapacityPoolSpec{
				Capacity: v1alpha1.PoolCapacity{IncomingBps: 1e9, OutgoingBps: 1e9},
				Tenants:  []v1alpha1.TenantEntitlement{{Name: "acme"}},
			},
		}
		if err := c.Create(ctx(t), p); err != nil {
			t.Fatal(err)
		}
		// Reference: DESIGN §6 and policy.DefaultOfferValidity (5m).
		want := v1alpha1.CapacityPoolSpec{
			Capacity:      v1alpha1.PoolCapacity{IncomingBps: 1e9, OutgoingBps: 1e9},
			Approval:      &v1alpha1.PoolApproval{Mode: v1alpha1.PoolApprovalAutomatic},
			OfferValidity: &metav1.Duration{Duration: 5 * time.Minute},
			Tenants:       []v1alpha1.TenantEntitlement{{Kind: v1alpha1.TenantIdentity, Name: "acme"}},
		}
		if diff := cmp.Diff(want, p.Spec); diff != "" {
			t.Errorf("defaulted spec (-want +got):\n%s", diff)
		}
	})

	t.Run("Agreement", func(t *testing.T) {
		a := &v1alpha1.Agreement{
			ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: ns},
			Spec: v1alpha1.AgreementSpec{
				QuotationOrderRef: v1alpha1.LocalObjectReference{Name: "defaults"},
				ProviderRef:       v1alpha1.ProviderReference{Name: "transit"},
				CPD:               minimalCPD(),
				Activation:        &v1alpha1.ActivationSchedule{},
			},
		}
		if err := c.Create(ctx(t), a); err != nil {
			t.Fatal(err)
		}
		want := v1alpha1.AgreementSpec{
			QuotationOrderRef:    v1alpha1.LocalObjectReference{Name: "defaults"},
			ProviderRef:          v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindProvider, Name: "transit"},
			CPD:                  minimalCPD(),
			ExpectedResponseTime: &metav1.Duration{Duration: 10 * time.Minute},
			Acceptance:           v1alpha1.AcceptanceManual,
			Activation:           &v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionActivate},
		}
		if diff := cmp.Diff(want, a.Spec); diff != "" {
			t.Errorf("defaulted spec (-want +got):\n%s", diff)
		}
	})
}

// TestStatusSubresource checks that status is written only through the
// status subresource, does not bump metadata.generation, and keeps the
// opaque protocol state (x-kubernetes-preserve-unknown-fields) as written.
func TestStatusSubresource(t *testing.T) {
	c := apiServer(t)
	qo := &v1alpha1.QuotationOrder{
		ObjectMeta: metav1.ObjectMeta{Name: "status", Namespace: testNamespace},
		Spec: v1alpha1.QuotationOrderSpec{
			ProviderRefs: []v1alpha1.ProviderReference{{Name: "transit"}},
			CPD:          minimalCPD(),
		},
	}
	if err := c.Create(ctx(t), qo); err != nil {
		t.Fatal(err)
	}
	gen := qo.Generation

	// A status sent with the main resource is ignored.
	qo.Status.State = v1alpha1.StateCompleted
	if err := c.Update(ctx(t), qo); err != nil {
		t.Fatal(err)
	}
	if qo.Status.State != "" {
		t.Errorf("status.state after a main-resource update: got %q, want it ignored", qo.Status.State)
	}

	order := clientOrderAfterAccept(t, cpd.Sample())
	raw, _, err := v1alpha1.EncodeProtocol(order)
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.NewTime(time.Date(2026, 11, 21, 22, 24, 25, 0, time.UTC))
	qo.Status = v1alpha1.QuotationOrderStatus{
		ObservedGeneration: gen,
		State:              v1alpha1.StateAcceptSent,
		CustomerOrderID:    order.CustomerOrderID,
		Providers: []v1alpha1.ProviderNegotiation{{
			ProviderReference: v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindProvider, Name: "transit"},
			State:             v1alpha1.StateAcceptSent,
			TransactionID:     order.Txn.ID,
			ProviderOrderID:   order.ProviderOrderID,
			Protocol:          raw,
		}},
		Conditions: []metav1.Condition{{
			Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "AcceptSent",
			Message: "ACCEPT sent", LastTransitionTime: now, ObservedGeneration: gen,
		}},
		History: []v1alpha1.Transition{{Time: now, From: "OfferReceived", To: "AcceptSent", Cause: "AcceptOffer"}},
	}
	want := qo.Status.DeepCopy()
	if err := c.Status().Update(ctx(t), qo); err != nil {
		t.Fatalf("status update: %v", err)
	}
	got := &v1alpha1.QuotationOrder{}
	if err := c.Get(ctx(t), client.ObjectKeyFromObject(qo), got); err != nil {
		t.Fatal(err)
	}
	if got.Generation != gen {
		t.Errorf("generation after a status update: got %d, want %d", got.Generation, gen)
	}
	// The API server re-encodes the object; compare the protocol state as JSON values.
	if diff := cmp.Diff(jsonValue(t, want.Providers[0].Protocol.Raw), jsonValue(t, got.Status.Providers[0].Protocol.Raw)); diff != "" {
		t.Errorf("status.providers[0].protocol (-want +got):\n%s", diff)
	}
	want.Providers[0].Protocol, got.Status.Providers[0].Protocol = nil, nil
	if diff := cmp.Diff(*want, got.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func jsonValue(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// TestPrinterColumnsAndDiscovery checks what `kubectl get` shows: the
// printer columns (from the server-side Table) and, through discovery, the
// short names and the cpnp category (`kubectl get cpnp`).
func TestPrinterColumnsAndDiscovery(t *testing.T) {
	c := apiServer(t)
	qo := &v1alpha1.QuotationOrder{
		ObjectMeta: metav1.ObjectMeta{Name: "columns", Namespace: testNamespace},
		Spec: v1alpha1.QuotationOrderSpec{
			ProviderRefs: []v1alpha1.ProviderReference{{Name: "transit"}},
			CPD:          minimalCPD(),
		},
	}
	if err := c.Create(ctx(t), qo); err != nil {
		t.Fatal(err)
	}
	qo.Status = v1alpha1.QuotationOrderStatus{
		State:           v1alpha1.StateServerProcessing,
		CustomerOrderID: "acme-wan-0001",
		Conditions: []metav1.Condition{{
			Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "ServerProcessing",
			LastTransitionTime: metav1.Now(),
		}},
	}
	if err := c.Status().Update(ctx(t), qo); err != nil {
		t.Fatal(err)
	}

	table := getTable(t, "/apis/negotiation.cpnp.dev/v1alpha1/namespaces/"+testNamespace+"/quotationorders/columns")
	var names []string
	for _, col := range table.ColumnDefinitions {
		names = append(names, col.Name)
	}
	wantNames := []string{"Name", "State", "Provider", "Acceptance", "Ready", "Reason", "Agreement", "Order-ID", "Age"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(table.Rows))
	}
	cells := table.Rows[0].Cells[:8] // Age varies
	wantCells := []any{"columns", "ServerProcessing", "transit", "Manual", "False", "ServerProcessing", nil, "acme-wan-0001"}
	if diff := cmp.Diff(wantCells, cells); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}

	dc, err := discovery.NewDiscoveryClientForConfig(apiCfg)
	if err != nil {
		t.Fatal(err)
	}
	list, err := dc.ServerResourcesForGroupVersion(v1alpha1.GroupVersion.String())
	if err != nil {
		t.Fatal(err)
	}
	type info struct {
		Namespaced bool
		ShortNames []string
		Categories []string
		Status     bool
	}
	got := map[string]info{}
	for _, r := range list.APIResources {
		if r.Kind == "" || slices.Contains([]string{"status"}, r.Name) {
			continue
		}
		if sub, ok := cutStatus(r.Name); ok {
			i := got[sub]
			i.Status = true
			got[sub] = i
			continue
		}
		i := got[r.Name]
		i.Namespaced, i.ShortNames, i.Categories = r.Namespaced, r.ShortNames, r.Categories
		got[r.Name] = i
	}
	tenant, admin := []string{"cpnp"}, []string{"cpnp-admin"}
	want := map[string]info{
		"quotationorders":  {true, []string{"qo"}, tenant, true},
		"offers":           {true, []string{"ofr"}, tenant, true},
		"agreements":       {true, []string{"agr"}, tenant, true},
		"providers":        {true, []string{"cprov"}, tenant, true},
		"clusterproviders": {false, []string{"ccprov"}, admin, true},
		"capacitypools":    {false, []string{"cpool"}, admin, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("discovery (-want +got):\n%s", diff)
	}
}

func cutStatus(name string) (string, bool) {
	const suffix = "/status"
	if len(name) > len(suffix) && name[len(name)-len(suffix):] == suffix {
		return name[:len(name)-len(suffix)], true
	}
	return "", false
}

// getTable asks the API server for path as a meta.k8s.io Table, what
// kubectl get prints.
func getTable(t *testing.T, path string) *metav1.Table {
	t.Helper()
	hc, err := rest.HTTPClientFor(apiCfg)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx(t), http.MethodGet, strings.TrimSuffix(apiCfg.Host, "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s%s: %s: %s", apiCfg.Host, path, resp.Status, body)
	}
	var table metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&table); err != nil {
		t.Fatal(err)
	}
	return &table
}
