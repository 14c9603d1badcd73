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

package policy

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Reference: DESIGN §6 (policy.yaml), RFC 8921 §8.2.
func TestLoadDesignExample(t *testing.T) {
	t.Parallel()
	got, err := Load("testdata/policy.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(designConfig(), got); diff != "" {
		t.Errorf("Load(testdata/policy.yaml) mismatch (-want +got):\n%s", diff)
	}
	if _, err := New(got); err != nil {
		t.Errorf("New(design example): got %v, want nil", err)
	}
}

func TestLoadFullExample(t *testing.T) {
	t.Parallel()
	got, err := Load("testdata/policy-full.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// Spot checks of what the design example does not show.
	checks := map[string]struct{ got, want any }{
		"lab capacity written 1e8":   {got.Pools[2].Capacity, Capacity{IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps}},
		"lab validity defaults":      {got.Pools[2].Validity(), DefaultOfferValidity},
		"wan validity":               {got.Pools[0].Validity(), 10 * time.Minute},
		"threshold":                  {got.Pools[0].Approval, Approval{Mode: ApprovalThreshold, AboveBps: 400 * mbps}},
		"class by name only":         {got.Pools[1].QoSClasses, []QoSClass{{Name: "bronze"}}},
		"wildcard tenant":            {got.Tenants[2], Tenant{Identity: Wildcard, Pools: []string{"lab"}, MaxOutgoingBps: i64(10 * mbps)}},
		"tenant with incoming limit": {got.Tenants[0].MaxIncomingBps, i64(800 * mbps)},
		"upstream": {got.Upstreams, []Upstream{{Name: "transit", Address: "cpnp.transit.example:8921",
			ServerName: "cpnp.transit.example", CAFile: "/etc/cpnp/upstream-ca.crt",
			CertFile: "/etc/cpnp/upstream.crt", KeyFile: "/etc/cpnp/upstream.key"}}},
	}
	for name, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", name, diff)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing): got %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func TestLoadInvalidFileNamesPath(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("pools: [{name: x}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load(invalid): got %v, want an error naming %s", err, path)
	}
	if fes := fieldErrors(err); len(fes) != 2 {
		t.Errorf("Load(invalid): got field errors %v, want the two capacities", fes)
	}
}

func TestParseEmptyIsValid(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "# nothing\n", "{}", "pools: []\ntenants: []\nupstreams: []\n"} {
		got, err := Parse([]byte(in))
		if err != nil {
			t.Errorf("Parse(%q): got error %v, want nil", in, err)
			continue
		}
		if len(got.Pools)+len(got.Tenants)+len(got.Upstreams) != 0 {
			t.Errorf("Parse(%q): got %+v, want an empty configuration", in, got)
		}
	}
}

// Strict decoding: every schema error names its field path.
func TestParseSchemaErrors(t *testing.T) {
	t.Parallel()
	const pool = "pools:\n- name: p\n  capacity: {incomingBps: 10, outgoingBps: 10}\n"
	tests := map[string]struct {
		in   string
		want []FieldError
	}{
		"unknown top-level field": {
			in:   "pool: []\n",
			want: []FieldError{{Field: "pool", Rule: "unknown field"}},
		},
		"unknown nested field": {
			in:   "pools:\n- name: p\n  capacity: {incomingBpz: 10, outgoingBps: 10}\n",
			want: []FieldError{{Field: "pools[0].capacity.incomingBpz", Rule: "unknown field"}},
		},
		"wrong case is unknown, with a hint": {
			in:   "pools:\n- name: p\n  capacity: {IncomingBps: 10, outgoingBps: 10}\n",
			want: []FieldError{{Field: "pools[0].capacity.IncomingBps", Rule: "unknown field (did you mean incomingBps?)"}},
		},
		"unknown field in a class": {
			in:   pool + "  qosClasses: [{name: g, delayMs: 3}]\n",
			want: []FieldError{{Field: "pools[0].qosClasses[0].delayMs", Rule: "unknown field"}},
		},
		"unknown field in a tenant": {
			in:   pool + "tenants: [{identity: a, pools: [p], maxBps: 3}]\n",
			want: []FieldError{{Field: "tenants[0].maxBps", Rule: "unknown field"}},
		},
		"unknown field in an upstream": {
			in:   "upstreams: [{name: u, address: 'h:1', port: 3}]\n",
			want: []FieldError{{Field: "upstreams[0].port", Rule: "unknown field"}},
		},
		"unknown field in approval": {
			in:   pool + "  approval: {mode: Manual, above: 3}\n",
			want: []FieldError{{Field: "pools[0].approval.above", Rule: "unknown field"}},
		},
		"string for an integer": {
			in:   "pools:\n- name: p\n  capacity: {incomingBps: lots, outgoingBps: 10}\n",
			want: []FieldError{{Field: "pools[0].capacity.incomingBps", Rule: `must be an integer, got the string "lots"`}},
		},
		"fraction for an integer": {
			in:   "pools:\n- name: p\n  capacity: {incomingBps: 1.5, outgoingBps: 10}\n",
			want: []FieldError{{Field: "pools[0].capacity.incomingBps", Rule: "must be an integer, got 1.5"}},
		},
		"integer out of range": {
			in:   "pools:\n- name: p\n  capacity: {incomingBps: 1e30, outgoingBps: 10}\n",
			want: []FieldError{{Field: "pools[0].capacity.incomingBps", Rule: "must be an integer, got 1e+30"}},
		},
		"string for a number": {
			in:   pool + "  availabilityPercent: high\n",
			want: []FieldError{{Field: "pools[0].availabilityPercent", Rule: `must be a number, got the string "high"`}},
		},
		"number for a string": {
			in:   pool + "tenants: [{identity: 42, pools: [p]}]\n",
			want: []FieldError{{Field: "tenants[0].identity", Rule: "must be a string, got the number 42"}},
		},
		"bool for a string in a list": {
			in:   pool + "tenants: [{identity: a, pools: [p, true]}]\n",
			want: []FieldError{{Field: "tenants[0].pools[1]", Rule: "must be a string, got the boolean true"}},
		},
		"number for a duration": {
			in:   pool + "  offerValidity: 300\n",
			want: []FieldError{{Field: "pools[0].offerValidity", Rule: `must be a Go duration string such as "5m"`}},
		},
		"bad duration": {
			in:   pool + "  offerValidity: 5 minutes\n",
			want: []FieldError{{Field: "pools[0].offerValidity", Rule: `must be a Go duration string such as "5m", got "5 minutes"`}},
		},
		"mapping for a list": {
			in:   "pools: {name: p}\n",
			want: []FieldError{{Field: "pools", Rule: "must be a list, got a mapping"}},
		},
		"list for a mapping": {
			in:   "pools:\n- name: p\n  capacity: [10, 10]\n",
			want: []FieldError{{Field: "pools[0].capacity", Rule: "must be a mapping, got a list"}},
		},
		"document not a mapping": {
			in:   "- a\n",
			want: []FieldError{{Field: "(document)", Rule: "must be a mapping, got a list"}},
		},
		"several errors, in path order": {
			in: "zzz: 1\npools:\n- name: p\n  capacity: {incomingBps: x, outgoingBps: 10, extra: 1}\n",
			want: []FieldError{
				{Field: "pools[0].capacity.extra", Rule: "unknown field"},
				{Field: "pools[0].capacity.incomingBps", Rule: `must be an integer, got the string "x"`},
				{Field: "zzz", Rule: "unknown field"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse: got nil error, want %v", tc.want)
			}
			if diff := cmp.Diff(tc.want, fieldErrors(err)); diff != "" {
				t.Errorf("Parse field errors mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"duplicate key": "pools: []\npools: []\n",
		"bad indent":    "pools:\n- name: p\n capacity: 3\n",
		"unclosed flow": "pools: [\n",
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: Parse(%q): got nil error, want a syntax error", name, in)
		}
	}
}

// Each rule of Validate, with the field path it names.
// Reference: docs/policy.md "Schema"; RFC 7297 §3.3-§3.5.
func TestValidateRules(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		mutate func(c *Config)
		want   []FieldError
	}{
		"valid": {mutate: func(*Config) {}},
		"pool name required": {
			mutate: func(c *Config) { c.Pools[0].Name = "" },
			want: []FieldError{
				{Field: "pools[0].name", Rule: "is required"},
				{Field: "tenants[0].pools[0]", Rule: `no pool named "wan"`},
			},
		},
		"duplicate pool name": {
			mutate: func(c *Config) { c.Pools = append(c.Pools, wanPool()) },
			want:   []FieldError{{Field: "pools[1].name", Rule: `duplicate pool name "wan"`}},
		},
		"capacity must be positive": {
			mutate: func(c *Config) { c.Pools[0].Capacity = Capacity{IncomingBps: 0, OutgoingBps: -1} },
			want: []FieldError{
				{Field: "pools[0].capacity.incomingBps", Rule: "must be positive, got 0"},
				{Field: "pools[0].capacity.outgoingBps", Rule: "must be positive, got -1"},
			},
		},
		"capacity too large": {
			mutate: func(c *Config) { c.Pools[0].Capacity.IncomingBps = MaxBps + 1 },
			want:   []FieldError{{Field: "pools[0].capacity.incomingBps", Rule: "must be at most 9007199254740992"}},
		},
		"class name required": {
			mutate: func(c *Config) { c.Pools[0].QoSClasses[1].Name = "" },
			want:   []FieldError{{Field: "pools[0].qosClasses[1].name", Rule: "is required"}},
		},
		"duplicate class name": {
			mutate: func(c *Config) { c.Pools[0].QoSClasses[1].Name = "gold" },
			want:   []FieldError{{Field: "pools[0].qosClasses[1].name", Rule: `duplicate class name "gold" in the pool`}},
		},
		"loss ratio between 0 and 1": {
			mutate: func(c *Config) {
				c.Pools = append(c.Pools, wanPool())
				c.Pools[1].Name = "second"
				c.Pools[1].QoSClasses[0].LossRatio = f64(1.5)
			},
			want: []FieldError{{Field: "pools[1].qosClasses[0].lossRatio", Rule: "must be between 0 and 1"}},
		},
		"negative delay and jitter": {
			mutate: func(c *Config) {
				c.Pools[0].QoSClasses[0].OneWayDelayMs = f64(-1)
				c.Pools[0].QoSClasses[0].DelayVariationMs = f64(-2)
			},
			want: []FieldError{
				{Field: "pools[0].qosClasses[0].oneWayDelayMs", Rule: "must be a finite number >= 0"},
				{Field: "pools[0].qosClasses[0].delayVariationMs", Rule: "must be a finite number >= 0"},
			},
		},
		"availability above 100": {
			mutate: func(c *Config) { c.Pools[0].AvailabilityPercent = 100.5 },
			want:   []FieldError{{Field: "pools[0].availabilityPercent", Rule: "must be between 0 and 100"}},
		},
		"unknown approval mode": {
			mutate: func(c *Config) { c.Pools[0].Approval.Mode = "automatic" },
			want:   []FieldError{{Field: "pools[0].approval.mode", Rule: `must be Automatic, Manual or Threshold, got "automatic"`}},
		},
		"threshold needs aboveBps": {
			mutate: func(c *Config) { c.Pools[0].Approval = Approval{Mode: ApprovalThreshold} },
			want:   []FieldError{{Field: "pools[0].approval.aboveBps", Rule: "must be positive, got 0"}},
		},
		"aboveBps only with threshold": {
			mutate: func(c *Config) { c.Pools[0].Approval = Approval{Mode: ApprovalManual, AboveBps: 5} },
			want:   []FieldError{{Field: "pools[0].approval.aboveBps", Rule: "is only allowed with mode Threshold"}},
		},
		"offer validity must be positive": {
			mutate: func(c *Config) { c.Pools[0].OfferValidity = &Duration{} },
			want:   []FieldError{{Field: "pools[0].offerValidity", Rule: "must be a positive duration, got 0s"}},
		},
		"tenant identity required": {
			mutate: func(c *Config) { c.Tenants[0].Identity = "" },
			want:   []FieldError{{Field: "tenants[0].identity", Rule: "is required"}},
		},
		"duplicate tenant": {
			mutate: func(c *Config) { c.Tenants = append(c.Tenants, c.Tenants[0]) },
			want:   []FieldError{{Field: "tenants[1].identity", Rule: `duplicate identity "acme"`}},
		},
		"tenant needs a pool": {
			mutate: func(c *Config) { c.Tenants[0].Pools = nil },
			want:   []FieldError{{Field: "tenants[0].pools", Rule: "must name at least one pool"}},
		},
		"tenant references a missing pool": {
			mutate: func(c *Config) { c.Tenants[0].Pools = []string{"wan", "lan"} },
			want:   []FieldError{{Field: "tenants[0].pools[1]", Rule: `no pool named "lan"`}},
		},
		"tenant lists a pool twice": {
			mutate: func(c *Config) { c.Tenants[0].Pools = []string{"wan", "wan"} },
			want:   []FieldError{{Field: "tenants[0].pools[1]", Rule: `pool "wan" listed twice`}},
		},
		"tenant limits": {
			mutate: func(c *Config) {
				c.Tenants[0].MaxIncomingBps = i64(-1)
				c.Tenants[0].MaxOutgoingBps = i64(MaxBps + 1)
			},
			want: []FieldError{
				{Field: "tenants[0].maxIncomingBps", Rule: "must not be negative, got -1"},
				{Field: "tenants[0].maxOutgoingBps", Rule: "must be at most 9007199254740992"},
			},
		},
		"upstream name and address required": {
			mutate: func(c *Config) { c.Upstreams = []Upstream{{}} },
			want: []FieldError{
				{Field: "upstreams[0].name", Rule: "is required"},
				{Field: "upstreams[0].address", Rule: "is required"},
			},
		},
		"duplicate upstream": {
			mutate: func(c *Config) {
				c.Upstreams = []Upstream{{Name: "u", Address: "h:1"}, {Name: "u", Address: "_cpnp._udp.example.org"}}
			},
			want: []FieldError{{Field: "upstreams[1].name", Rule: `duplicate upstream name "u"`}},
		},
		"upstream address forms": {
			mutate: func(c *Config) {
				c.Upstreams = []Upstream{
					{Name: "a", Address: "no-port"},
					{Name: "b", Address: "h:0"},
					{Name: "c", Address: "_cpnp._udp."},
					{Name: "d", Address: "[::1]:8921"},
					{Name: "e", Address: "_cpnp._tcp.example.org"},
				}
			},
			want: []FieldError{
				{Field: "upstreams[0].address", Rule: `must be host:port or a DNS SRV name _cpnp._udp.<domain>, got "no-port"`},
				{Field: "upstreams[1].address", Rule: `port must be 1..65535, got "0"`},
				{Field: "upstreams[2].address", Rule: "the DNS SRV name has no domain"},
			},
		},
		"certificate without key": {
			mutate: func(c *Config) { c.Upstreams = []Upstream{{Name: "u", Address: "h:1", CertFile: "c.crt"}} },
			want:   []FieldError{{Field: "upstreams[0].keyFile", Rule: "certFile and keyFile must be set together"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := designConfig()
			tc.mutate(&c)
			err := c.Validate()
			if diff := cmp.Diff(tc.want, fieldErrors(err)); diff != "" {
				t.Errorf("Validate mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			if (err == nil) != (len(tc.want) == 0) {
				t.Errorf("Validate: got %v, want error %v", err, len(tc.want) > 0)
			}
			var fe *FieldError
			if len(tc.want) > 0 && !errors.As(err, &fe) {
				t.Errorf("Validate: errors.As(*FieldError) failed on %v", err)
			}
		})
	}
}

func TestParseRunsValidate(t *testing.T) {
	t.Parallel()
	in := "pools:\n- name: p\n  capacity: {incomingBps: 10, outgoingBps: 10}\n  qosClasses: [{name: g, lossRatio: 2}]\n"
	_, err := Parse([]byte(in))
	want := []FieldError{{Field: "pools[0].qosClasses[0].lossRatio", Rule: "must be between 0 and 1"}}
	if diff := cmp.Diff(want, fieldErrors(err)); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
	if got := err.Error(); got != "invalid policy: pools[0].qosClasses[0].lossRatio: must be between 0 and 1" {
		t.Errorf("Parse error text: got %q", got)
	}
}

func TestDurationJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Duration{90 * time.Second})
	if err != nil || string(b) != `"1m30s"` {
		t.Errorf("Marshal: got %s, %v, want \"1m30s\"", b, err)
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"5m"`), &d); err != nil || d.Duration != 5*time.Minute {
		t.Errorf("Unmarshal(\"5m\"): got %v, %v, want 5m", d, err)
	}
	for _, bad := range []string{`300`, `"soon"`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("Unmarshal(%s): got nil error, want one", bad)
		}
	}
}

// The configuration round-trips through JSON with the DESIGN §6 names, so
// the CapacityPool CRD can mirror it.
func TestConfigJSONNames(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(designConfig())
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"pools":[{"name":"wan","capacity":{"incomingBps":1000000000,"outgoingBps":1000000000},` +
		`"qosClasses":[{"name":"gold","oneWayDelayMs":10,"delayVariationMs":2,"lossRatio":0.0001},` +
		`{"name":"silver","oneWayDelayMs":40,"delayVariationMs":10,"lossRatio":0.001}],` +
		`"availabilityPercent":99.95,"approval":{"mode":"Automatic"},"offerValidity":"5m0s"}],` +
		`"tenants":[{"identity":"acme","pools":["wan"],"maxOutgoingBps":500000000}]}`
	if string(b) != want {
		t.Errorf("Marshal:\n got %s\nwant %s", b, want)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse(Marshal): %v", err)
	}
	wantCfg := designConfig()
	wantCfg.Upstreams = nil
	if diff := cmp.Diff(wantCfg, back); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}
