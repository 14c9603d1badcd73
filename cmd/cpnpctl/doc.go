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
// lives in its own file and is registered there. Available now:
//
//	cpnpctl wire decode [FILE|-]   validate a message and print its canonical form
//	cpnpctl wire example METHOD    print a valid example message of a method
//
// Exit status: 0 on success, 1 on any error (an invalid message, an
// unreadable file, a usage error). Errors go to standard error.
package main
