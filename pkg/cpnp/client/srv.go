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

package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// The DNS SRV names of CPNP servers (RFC 8921 §8.1: a Provider may
// advertise CPNP_PORT with SRV, RFC 2782): DTLS over UDP, or TLS over TCP.
const (
	SRVPrefixDTLS = "_cpnp._udp."
	SRVPrefixTLS  = "_cpnp._tcp."
)

// IsSRVName reports whether address is a CPNP DNS SRV name rather than
// host:port.
func IsSRVName(address string) bool {
	return strings.HasPrefix(address, SRVPrefixDTLS) || strings.HasPrefix(address, SRVPrefixTLS)
}

// LookupSRVFunc resolves a DNS SRV name as net.Resolver.LookupSRV does
// (called with empty service and proto: name is the whole SRV name).
type LookupSRVFunc func(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)

// ErrSRVNotAvailable is returned when an SRV name has no usable target.
var ErrSRVNotAvailable = errors.New("no CPNP server at this SRV name")

// ResolveSRV turns the SRV name of a CPNP server into the host:port of its
// preferred target (the first answer: lowest priority, weighted at random
// within it, as net.Resolver.LookupSRV orders them), the SRV's source
// domain, and the transport the name implies. The domain is the server's
// reference identity when no server name is configured (RFC 8921 §8.1:
// DNS-ID or SRV-ID of the domain; RFC 6125 §6.2.1): never the target, which
// unsigned DNS supplied. A name without answers, without targets, or whose
// target is "." (RFC 2782: the service is decidedly not available) is an
// error matching ErrSRVNotAvailable, or the lookup's own error.
func ResolveSRV(ctx context.Context, lookup LookupSRVFunc, name string) (addr, domain string, t Transport, err error) {
	t = TransportDTLS
	rest, ok := strings.CutPrefix(name, SRVPrefixDTLS)
	if !ok {
		if rest, ok = strings.CutPrefix(name, SRVPrefixTLS); !ok {
			return "", "", "", fmt.Errorf("address %s: not a CPNP SRV name (%s<domain> or %s<domain>)", name, SRVPrefixDTLS, SRVPrefixTLS)
		}
		t = TransportTLS
	}
	domain = strings.TrimSuffix(rest, ".")
	_, srvs, err := lookup(ctx, "", "", name)
	if err != nil {
		return "", "", "", fmt.Errorf("address %s: resolve the SRV name: %w", name, err)
	}
	if len(srvs) == 0 {
		return "", "", "", fmt.Errorf("address %s: %w: the SRV name has no target", name, ErrSRVNotAvailable)
	}
	target := strings.TrimSuffix(srvs[0].Target, ".")
	if target == "" {
		return "", "", "", fmt.Errorf("address %s: %w: the domain says the service is not available (SRV target \".\")", name, ErrSRVNotAvailable)
	}
	return net.JoinHostPort(target, strconv.Itoa(int(srvs[0].Port))), domain, t, nil
}
