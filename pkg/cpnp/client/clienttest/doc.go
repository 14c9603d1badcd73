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

// Package clienttest holds test doubles for the CPNP client shell and its
// users (package client, cmd/cpnpctl): a scripted CPNP server over real
// DTLS or TLS on loopback, whose test decides message by message what the
// server answers (RFC 8921 §9.2), and a test PKI (mutual authentication,
// §13). The goroutine-leak check is cpnptest.CheckGoroutines. It is not
// imported by production code.
//
// The scripted server is deliberately dumb: it decodes what arrives, hands
// it to the test in arrival order (Expect, Next) and writes whatever the
// test builds (Answer, Send, SendRaw), so that tests exercise the client
// against exact message sequences — including wrong ones — without the
// real server engine.
package clienttest
