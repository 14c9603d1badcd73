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

package cpd

// The functions below are the JSON schema of DESIGN §3 ("CPD" block), one
// function per object, each with the list of its known member names in
// canonical order; docs/cpd.md documents every member. Decoding checks JSON
// types only; Validate checks domains and cross-member rules.
//
// Each function reads one object: d.member yields the index of the next
// known member (unknown members are skipped, repeated ones refused) with the
// member on the path, the switch reads its value, and popPath leaves it.

var cpdNames = newMemberNames("components")

func (d *decoder) cpd(c *CPD) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(cpdNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		// "components" is the only member: [] is the Empty CPD, not absent.
		if err := d.openArray(); err != nil {
			return err
		}
		var comps smallSlice[Component]
		for i := 0; ; i++ {
			ok, err := d.element(i)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			var comp Component
			if err := d.component(&comp); err != nil {
				return err
			}
			comps.add(comp)
			d.popPath()
		}
		elems := comps.elems()
		c.Components = make([]Component, len(elems)) // [] is not nil
		copy(c.Components, elems)
		d.popPath()
	}
}

// Member indexes of componentNames.
const (
	mCustomerNodes = iota
	mScope
	mQoS
	mAvailability
	mCapacity
	mTrafficIsolation
	mConformance
	mFlowIdentification
	mOverallGuarantees
	mRouting
	mActivationMeans
	mInvocationMeans
	mNotifications
)

var componentNames = newMemberNames([]string{
	mCustomerNodes:      "customer_nodes",
	mScope:              "scope",
	mQoS:                "qos",
	mAvailability:       "availability",
	mCapacity:           "capacity",
	mTrafficIsolation:   "traffic_isolation",
	mConformance:        "conformance",
	mFlowIdentification: "flow_identification",
	mOverallGuarantees:  "overall_guarantees",
	mRouting:            "routing",
	mActivationMeans:    "activation_means",
	mInvocationMeans:    "invocation_means",
	mNotifications:      "notifications",
}...)

// clauses holds the clause objects of one component, so that they cost one
// allocation together rather than one each. The component's pointers are
// its only references into it (a clause member appears at most once), and
// DeepCopy copies clause by clause.
type clauses struct {
	scope            Scope
	reachability     [2]Reachability
	qos              QoS
	availability     Availability
	capacity         Capacity
	trafficIsolation TrafficIsolation
	conformance      Conformance
	overall          OverallGuarantees
	routing          Routing
	notifications    Notifications
}

func (d *decoder) component(c *Component) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var cl *clauses // allocated with the first clause object
	var seen uint32
	for {
		id, err := d.member(componentNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		if cl == nil && id != mCustomerNodes && id != mFlowIdentification && id != mActivationMeans && id != mInvocationMeans {
			cl = new(clauses)
		}
		switch id {
		case mCustomerNodes:
			c.CustomerNodes, err = d.customerNodes()
		case mScope:
			c.Scope = &cl.scope
			err = d.scope(c.Scope, &cl.reachability)
		case mQoS:
			c.QoS = &cl.qos
			err = d.qos(c.QoS)
		case mAvailability:
			c.Availability = &cl.availability
			err = d.availability(c.Availability)
		case mCapacity:
			c.Capacity = &cl.capacity
			err = d.capacity(c.Capacity)
		case mTrafficIsolation:
			c.TrafficIsolation = &cl.trafficIsolation
			err = d.trafficIsolation(c.TrafficIsolation)
		case mConformance:
			c.Conformance = &cl.conformance
			err = d.conformance(c.Conformance)
		case mFlowIdentification:
			c.FlowIdentification, err = d.flowIdentification()
		case mOverallGuarantees:
			c.OverallGuarantees = &cl.overall
			err = d.overallGuarantees(c.OverallGuarantees)
		case mRouting:
			c.Routing = &cl.routing
			err = d.routing(c.Routing)
		case mActivationMeans:
			c.ActivationMeans, err = d.strings()
		case mInvocationMeans:
			var s string
			s, err = d.str()
			c.InvocationMeans = InvocationMeans(s)
		case mNotifications:
			c.Notifications = &cl.notifications
			err = d.notifications(c.Notifications)
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}

func (d *decoder) customerNodes() ([]CustomerNode, *Error) {
	if err := d.openArray(); err != nil {
		return nil, err
	}
	var nodes smallSlice[CustomerNode]
	for i := 0; ; i++ {
		ok, err := d.element(i)
		if err != nil {
			return nil, err
		}
		if !ok {
			return d.nodes.take(nodes.elems(), 4), nil
		}
		var n CustomerNode
		if err := d.customerNode(&n); err != nil {
			return nil, err
		}
		nodes.add(n)
		d.popPath()
	}
}

var customerNodeNames = newMemberNames("identifier", "link_identifier", "localization", "site_identifier")

func (d *decoder) customerNode(n *CustomerNode) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(customerNodeNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		var s string
		if s, err = d.str(); err != nil {
			return err
		}
		switch id {
		case 0:
			n.Identifier = s
		case 1:
			n.LinkIdentifier = s
		case 2:
			n.Localization = s
		case 3:
			n.SiteIdentifier = s
		}
		d.popPath()
	}
}

var scopeNames = newMemberNames("model", "ingress", "egress", "incoming", "outgoing")

// scope decodes a Scope; reach holds its incoming and outgoing Reachability.
func (d *decoder) scope(s *Scope, reach *[2]Reachability) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(scopeNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		switch id {
		case 0:
			var m string
			m, err = d.str()
			s.Model = ScopeModel(m)
		case 1:
			s.Ingress, err = d.strings()
		case 2:
			s.Egress, err = d.strings()
		case 3:
			s.Incoming = &reach[0]
			err = d.reachability(s.Incoming)
		case 4:
			s.Outgoing = &reach[1]
			err = d.reachability(s.Outgoing)
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}

var reachabilityNames = newMemberNames("global", "prefixes")

func (d *decoder) reachability(r *Reachability) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(reachabilityNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		if id == 0 {
			r.Global, err = d.boolean()
		} else {
			r.Prefixes, err = d.strings()
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}

var qosNames = newMemberNames("class", "one_way_delay_ms", "delay_variation_ms", "loss_ratio", "bound", "percentile")

func (d *decoder) qos(q *QoS) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(qosNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		var s string
		switch id {
		case 0:
			s, err = d.str()
			q.Class = s
		case 1:
			q.OneWayDelayMs, err = d.readValue()
		case 2:
			q.DelayVariationMs, err = d.readValue()
		case 3:
			q.LossRatio, err = d.readValue()
		case 4:
			s, err = d.str()
			q.Bound = Bound(s)
		case 5:
			q.Percentile, err = d.number()
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}

var availabilityNames = newMemberNames("percent", "bound")

func (d *decoder) availability(a *Availability) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(availabilityNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		if id == 0 {
			a.Percent, err = d.readValue()
		} else {
			var s string
			s, err = d.str()
			a.Bound = Bound(s)
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}

var capacityNames = newMemberNames("incoming_bps", "outgoing_bps")

func (d *decoder) capacity(k *Capacity) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(capacityNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		if id == 0 {
			k.IncomingBps, err = d.readValue()
		} else {
			k.OutgoingBps, err = d.readValue()
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}

var trafficIsolationNames = newMemberNames("required", "means")

func (d *decoder) trafficIsolation(t *TrafficIsolation) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(trafficIsolationNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		if id == 0 {
			t.Required, err = d.boolean()
		} else {
			t.Means, err = d.str()
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}

var conformanceNames = newMemberNames("out_of_profile", "remark_class", "mtu")

func (d *decoder) conformance(f *Conformance) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(conformanceNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		switch id {
		case 0:
			var s string
			s, err = d.str()
			f.OutOfProfile = OutOfProfile(s)
		case 1:
			f.RemarkClass, err = d.str()
		case 2:
			f.MTU, err = d.readValue()
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}

func (d *decoder) flowIdentification() ([]FlowIdentifier, *Error) {
	if err := d.openArray(); err != nil {
		return nil, err
	}
	var flows smallSlice[FlowIdentifier]
	for i := 0; ; i++ {
		ok, err := d.element(i)
		if err != nil {
			return nil, err
		}
		if !ok {
			return d.flows.take(flows.elems(), 2), nil
		}
		var f FlowIdentifier
		if err := d.flowIdentifier(&f); err != nil {
			return nil, err
		}
		flows.add(f)
		d.popPath()
	}
}

var flowNames = newMemberNames(
	"source_prefix", "source_port", "destination_prefix", "destination_port", "protocol",
	"dscp", "tunnel_endpoint", "link_identifier", "remark_dscp",
)

func (d *decoder) flowIdentifier(f *FlowIdentifier) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(flowNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		switch id {
		case 0:
			f.SourcePrefix, err = d.str()
		case 1:
			f.SourcePort, err = d.integer()
		case 2:
			f.DestinationPrefix, err = d.str()
		case 3:
			f.DestinationPort, err = d.integer()
		case 4:
			f.Protocol, err = d.integer()
		case 5:
			f.DSCP, err = d.integer()
		case 6:
			f.TunnelEndpoint, err = d.str()
		case 7:
			f.LinkIdentifier, err = d.str()
		case 8:
			f.RemarkDSCP, err = d.integer()
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}

var overallNames = newMemberNames("delay", "loss", "throughput")

func (d *decoder) overallGuarantees(o *OverallGuarantees) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(overallNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		var s string
		if s, err = d.str(); err != nil {
			return err
		}
		switch id {
		case 0:
			o.Delay = s
		case 1:
			o.Loss = s
		case 2:
			o.Throughput = s
		}
		d.popPath()
	}
}

var routingNames = newMemberNames("avoid", "via", "geographic_restrictions", "topology", "forwarding_behavior", "backup_paths")

func (d *decoder) routing(r *Routing) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(routingNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		switch id {
		case 0:
			r.Avoid, err = d.strings()
		case 1:
			r.Via, err = d.strings()
		case 2:
			r.GeographicRestrictions, err = d.strings()
		case 3:
			r.Topology, err = d.str()
		case 4:
			r.ForwardingBehavior, err = d.str()
		case 5:
			r.BackupPaths, err = d.boolean()
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}

var notificationNames = newMemberNames("means", "events", "interval_s", "data_model", "destination")

func (d *decoder) notifications(n *Notifications) *Error {
	if err := d.openObject(); err != nil {
		return err
	}
	var seen uint32
	for {
		id, err := d.member(notificationNames, &seen)
		if err != nil || id < 0 {
			return err
		}
		switch id {
		case 0:
			n.Means, err = d.strings()
		case 1:
			n.Events, err = d.strings()
		case 2:
			n.IntervalS, err = d.readValue()
		case 3:
			n.DataModel, err = d.str()
		case 4:
			n.Destination, err = d.str()
		}
		if err != nil {
			return err
		}
		d.popPath()
	}
}
