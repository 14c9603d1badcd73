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
	"crypto/tls"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// TestTLSTransport negotiates an order with a Provider whose transport is
// TLS (DESIGN §5: DTLS by default, TLS as the alternative; the framing of
// docs/wire.md): the server listens on TLS over TCP only, so the Agreement
// can only come from the TLS association.
// Reference: RFC 8921 §8.1, §9.2.1-§9.2.6.
func TestTLSTransport(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "tls")
	p := cpnptest.NewPKI(t)
	srv := startServerOpts(t, p, serverOpts{wrap: func(l transport.Listener) transport.Listener {
		_ = l.Close()
		tl, err := transport.ListenTLS("127.0.0.1:0", transport.Config{Certificates: []tls.Certificate{p.Server}, ClientCAs: p.Pool})
		if err != nil {
			t.Fatal(err)
		}
		return tl
	}})
	provider(t, c, ns, "wan", p, srv)
	var prov v1alpha1.Provider
	if err := c.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: "wan"}, &prov); err != nil {
		t.Fatal(err)
	}
	prov.Spec.Transport = v1alpha1.TransportTLS
	if err := c.Update(ctxFor(t), &prov); err != nil {
		t.Fatal(err)
	}
	manager(t)

	qo := order(ns, "over-tls", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Ready=True", ready)
	waitAgreement(t, c, qo)
	if got := srv.srv.List(); len(got) != 1 || got[0].CustomerOrderID != qo.Status.CustomerOrderID {
		t.Errorf("server orders: got %+v, want the order %s", got, qo.Status.CustomerOrderID)
	}
}
