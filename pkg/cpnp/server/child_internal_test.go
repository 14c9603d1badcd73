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

package server

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

func comp(node string, in, out cpd.Value) cpd.Component {
	return cpd.Component{
		CustomerNodes: []cpd.CustomerNode{{Identifier: node}},
		Capacity:      &cpd.Capacity{IncomingBps: in, OutgoingBps: out},
	}
}

// caps returns the capacities of c's components as strings, for cmp.
func caps(c cpd.CPD) [][2]string {
	var out [][2]string
	for _, k := range c.Components {
		if k.Capacity == nil {
			out = append(out, [2]string{"-", "-"})
			continue
		}
		out = append(out, [2]string{k.Capacity.IncomingBps.String(), k.Capacity.OutgoingBps.String()})
	}
	return out
}

// TestRemainderAndCombine: the local part of a request served partly by a
// child order is the request minus the child's agreed capacity, matched by
// customer nodes; the parent's offer adds the child's capacity back.
// Reference: RFC 8921 §8.8 (the parent associates its child PQOs), RFC
// 7297 §3.2, §3.5.
func TestRemainderAndCombine(t *testing.T) {
	t.Parallel()
	f := cpd.Fixed
	tests := []struct {
		name         string
		req, child   cpd.CPD
		wantRest     bool
		wantLocal    [][2]string
		localOffer   cpd.CPD
		wantCombined [][2]string
	}{
		{
			name:         "shortfall of one component",
			req:          cpd.CPD{Components: []cpd.Component{comp("a", f(300), f(300))}},
			child:        cpd.CPD{Components: []cpd.Component{comp("a", f(200), f(200))}},
			wantRest:     true,
			wantLocal:    [][2]string{{"100", "100"}},
			localOffer:   cpd.CPD{Components: []cpd.Component{comp("a", f(100), f(100))}},
			wantCombined: [][2]string{{"300", "300"}},
		},
		{
			name:         "whole request upstream",
			req:          cpd.CPD{Components: []cpd.Component{comp("a", f(50), f(50))}},
			child:        cpd.CPD{Components: []cpd.Component{comp("a", f(50), f(50))}},
			wantRest:     false,
			wantLocal:    [][2]string{{"absent", "absent"}},
			localOffer:   cpd.CPD{Components: []cpd.Component{comp("a", cpd.Value{}, cpd.Value{})}},
			wantCombined: [][2]string{{"50", "50"}},
		},
		{
			name: "only the matching component is reduced",
			req: cpd.CPD{Components: []cpd.Component{
				comp("a", f(10), f(10)), comp("b", cpd.Between(100, 300), f(40)),
			}},
			child:        cpd.CPD{Components: []cpd.Component{comp("b", f(150), f(0))}},
			wantRest:     true,
			wantLocal:    [][2]string{{"10", "10"}, {"0..150", "40"}},
			localOffer:   cpd.CPD{Components: []cpd.Component{comp("a", f(10), f(10)), comp("b", f(150), f(40))}},
			wantCombined: [][2]string{{"10", "10"}, {"300", "40"}},
		},
		{
			name:         "a child for another node changes nothing",
			req:          cpd.CPD{Components: []cpd.Component{comp("a", f(30), cpd.AtLeast(20))}},
			child:        cpd.CPD{Components: []cpd.Component{comp("z", f(30), f(30))}},
			wantRest:     true,
			wantLocal:    [][2]string{{"30", ">=20"}},
			localOffer:   cpd.CPD{Components: []cpd.Component{comp("a", f(30), f(20))}},
			wantCombined: [][2]string{{"30", "20"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			local, rest := remainder(tt.req, tt.child)
			if rest != tt.wantRest {
				t.Errorf("remainder: got rest %v, want %v", rest, tt.wantRest)
			}
			if diff := cmp.Diff(tt.wantLocal, caps(local)); diff != "" {
				t.Errorf("remainder (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCombined, caps(combine(tt.localOffer, tt.child))); diff != "" {
				t.Errorf("combine (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLocalCapacity: the holding of an order with a completed child is its
// agreement minus the child's (the upstream holds that part), so a restart
// restores what the pool really gave.
// Reference: RFC 8921 §8.8, §8.11; DESIGN §3.
func TestLocalCapacity(t *testing.T) {
	t.Parallel()
	parent := cpd.CPD{Components: []cpd.Component{comp("a", cpd.Fixed(300), cpd.Fixed(300))}}
	child := cpd.CPD{Components: []cpd.Component{comp("a", cpd.Fixed(200), cpd.Fixed(250))}}
	completed := fsm.ClientOrder{State: fsm.ClientCompleted, Agreement: &fsm.Agreement{CPD: child, Since: time.Unix(0, 0)}}
	cancelled := completed
	cancelled.State = fsm.ClientCancelled
	tests := []struct {
		name  string
		child *fsm.ChildOrder
		want  [2]int64
	}{
		{"no child", nil, [2]int64{300, 300}},
		{"completed child", &fsm.ChildOrder{Order: completed}, [2]int64{100, 50}},
		{"ended child", &fsm.ChildOrder{Order: cancelled}, [2]int64{300, 300}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := &fsm.ServerOrder{Child: tt.child}
			in, out := localCapacity(o, parent)
			if got := [2]int64{in, out}; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
