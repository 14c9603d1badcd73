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

package benchoperator

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Request is one kind of API request: an HTTP verb and the resource path
// it addresses (resource, or resource/subresource), e.g. "PATCH
// quotationorders/status". Watches are "WATCH", not "GET".
type Request struct {
	Verb     string
	Resource string
}

// String renders r as "VERB resource[/subresource]".
func (r Request) String() string { return r.Verb + " " + r.Resource }

// Mutating reports whether r writes: POST, PUT, PATCH or DELETE.
func (r Request) Mutating() bool {
	switch r.Verb {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// Event reports whether r addresses Events (core/v1 or events.k8s.io/v1).
func (r Request) Event() bool {
	return r.Resource == "events" || strings.HasPrefix(r.Resource, "events/")
}

// Counts is a snapshot of a Counter: requests per kind.
type Counts map[Request]int

// Sub returns c minus base, kind by kind, without the kinds that did not
// change.
func (c Counts) Sub(base Counts) Counts {
	d := Counts{}
	for k, n := range c {
		if n -= base[k]; n != 0 {
			d[k] = n
		}
	}
	return d
}

// Writes returns the mutating requests of c, without Events (objects) and
// of Events alone.
func (c Counts) Writes() (objects, events int) {
	for k, n := range c {
		switch {
		case !k.Mutating():
		case k.Event():
			events += n
		default:
			objects += n
		}
	}
	return objects, events
}

// Sorted returns the kinds of c, the most frequent first, then by name.
func (c Counts) Sorted() []Request {
	ks := make([]Request, 0, len(c))
	for k := range c {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b Request) int {
		if d := cmp.Compare(c[b], c[a]); d != 0 {
			return d
		}
		return cmp.Compare(a.String(), b.String())
	})
	return ks
}

// Counter counts the API requests that pass through the transports it
// wraps (rest.Config.WrapTransport = counter.Wrap). It is safe for
// concurrent use.
type Counter struct {
	mu sync.Mutex
	n  Counts
}

// Wrap returns rt counting every request it sends; it has the signature of
// rest.Config.WrapTransport (transport.WrapperFunc).
func (c *Counter) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper{c: c, next: rt}
}

// Snapshot returns a copy of the counts so far.
func (c *Counter) Snapshot() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := make(Counts, len(c.n))
	for k, v := range c.n {
		s[k] = v
	}
	return s
}

func (c *Counter) add(r Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = Counts{}
	}
	c.n[r]++
}

type roundTripper struct {
	c    *Counter
	next http.RoundTripper
}

// RoundTrip counts req, then sends it: a request that fails is counted too,
// as the API server may have received it.
func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	t.c.add(Classify(req.Method, req.URL.Path, req.URL.Query().Get("watch")))
	return t.next.RoundTrip(req)
}

// Classify returns the Request of an API call from its HTTP method, its URL
// path (/api/v1/... or /apis/group/version/...) and its watch query
// parameter. A path outside the resource API (discovery, /version,
// /openapi) is reported as its first path segment in brackets.
func Classify(method, path, watch string) Request {
	verb := method
	if method == http.MethodGet && (watch == "true" || watch == "1") {
		verb = "WATCH"
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(segs) >= 3 && segs[0] == "api":
		segs = segs[2:]
	case len(segs) >= 4 && segs[0] == "apis":
		segs = segs[3:]
	default:
		return Request{Verb: verb, Resource: fmt.Sprintf("[%s]", segs[0])}
	}
	if len(segs) >= 3 && segs[0] == "namespaces" {
		segs = segs[2:]
	}
	if len(segs) >= 3 {
		return Request{Verb: verb, Resource: segs[0] + "/" + segs[2]}
	}
	return Request{Verb: verb, Resource: segs[0]}
}
