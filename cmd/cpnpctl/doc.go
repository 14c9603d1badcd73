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

// Command cpnpctl is the command-line client of the Connectivity
// Provisioning Negotiation Protocol (CPNP, RFC 8921). It is also installable
// as the kubectl plugin kubectl-cpnp.
//
// Verbs are grouped under the root command built in root.go; each group
// lives in its own file and is registered there:
//
//	cpnpctl quote -f order.yaml [--accept manual|auto] [--wait]   QUOTATION (§9.2.1)
//	cpnpctl accept|decline|cancel|withdraw ORDER                  §9.2.4, §9.2.5, §9.2.7, §9.2.8
//	cpnpctl update ORDER -f order.yaml                            UPDATE (§9.2.9)
//	cpnpctl activate ORDER [--at T | --deactivate]                ACTIVATE (§9.2.11)
//	cpnpctl extend ORDER --grant|--refuse                         more time (§9.2.2)
//	cpnpctl wait ORDER                                            resume an order
//	cpnpctl status [ORDER] [-o table|json|yaml]                   the local orders
//	cpnpctl admin list|approve ID|reject ID                       cpnp-server's admin API
//	cpnpctl certs init DIR                                        a trial PKI
//	cpnpctl wire decode [FILE|-]   validate a message and print its canonical form
//	cpnpctl wire example METHOD    print a valid example message of a method
//
// The verbs that talk to a server (global flags --server, --server-name,
// --ca, --cert, --key, --transport) run the client engine of
// pkg/cpnp/client for one order, just long enough for the verb, and keep
// the orders in a local bbolt file (--state, default $CPNP_STATE or
// ./.cpnp/orders.db). docs/cpnpctl.md documents every verb, flag and the
// order file.
//
// Exit status: 0 on success; 1 on an error (a bad flag or file, an
// unreachable server, a refused certificate, a timeout); 2 when the order
// ended Cancelled or its transaction failed while the verb waited for its
// outcome. Errors go to standard error.
package main
