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
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// metricFamily gathers g and returns the family named name, or nil.
func metricFamily(t *testing.T, g prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// labelled returns the metric of mf whose label name has value, or nil.
func labelled(mf *dto.MetricFamily, name, value string) *dto.Metric {
	if mf == nil {
		return nil
	}
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == name && l.GetValue() == value {
				return m
			}
		}
	}
	return nil
}

// TestMetricsAfterNegotiation runs one automatic negotiation with the
// in-process server over DTLS and checks the operator's metrics on the
// controller-runtime registry: the round trips of the QUOTATION (to the
// first PROCESSING or OFFER) and of the ACCEPT (to its ACK) are observed
// for the provider, and the state gauges, computed at scrape time from a
// reader, count the Completed order and the Established agreement.
// Reference: RFC 8921 §8.4 (transactions), §9.2.1-§9.2.4, §8.11.1.
func TestMetricsAfterNegotiation(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "metrics")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	qo := order(ns, "measured", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, qo, "Ready=True", func(o *v1alpha1.QuotationOrder) bool {
		r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Status == metav1.ConditionTrue
	})
	waitFor(t, c, &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: qo.Status.AgreementRef.Name}}, "state Established",
		func(a *v1alpha1.Agreement) bool { return a.Status.State == v1alpha1.AgreementEstablished })

	label := "Provider/" + ns + "/wan"
	m := labelled(metricFamily(t, metrics.Registry, controllers.MetricRoundTrip), "provider", label)
	if m == nil || m.GetHistogram().GetSampleCount() < 2 {
		t.Errorf("%s{provider=%q}: got %v, want at least 2 round trips (QUOTATION, ACCEPT)", controllers.MetricRoundTrip, label, m)
	} else if s := m.GetHistogram().GetSampleSum(); s <= 0 || s > 60 {
		t.Errorf("%s{provider=%q}: got a sum of %vs, want a positive time under a minute", controllers.MetricRoundTrip, label, s)
	}

	// Scrape-time gauges, from a reader (the manager passes its cache).
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(controllers.NewStateCollector(c)); err != nil {
		t.Fatal(err)
	}
	for name, state := range map[string]string{
		controllers.MetricQuotationOrders: string(v1alpha1.StateCompleted),
		controllers.MetricAgreements:      string(v1alpha1.AgreementEstablished),
	} {
		g := labelled(metricFamily(t, reg, name), "state", state)
		if g == nil || g.GetGauge().GetValue() < 1 {
			t.Errorf("%s{state=%q}: got %v, want at least 1", name, state, g)
		}
	}
}
