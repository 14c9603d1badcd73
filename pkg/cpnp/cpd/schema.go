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

// The member tables below are the JSON schema of DESIGN §3 ("CPD" block),
// one table per object; docs/cpd.md documents every member. Decoding checks
// JSON types only; Validate checks domains and cross-member rules.

var cpdFields = fields[CPD]{
	"components": func(d *decoder, p string, c *CPD) error {
		c.Components = []Component{} // present: [] is the Empty CPD, not absent
		return d.array(p, func(_ int, ep string) error {
			var comp Component
			if err := decodeObject(d, ep, componentFields, &comp); err != nil {
				return err
			}
			c.Components = append(c.Components, comp)
			return nil
		})
	},
}

var componentFields = fields[Component]{
	"customer_nodes": func(d *decoder, p string, c *Component) error {
		return d.array(p, func(_ int, ep string) error {
			var n CustomerNode
			if err := decodeObject(d, ep, customerNodeFields, &n); err != nil {
				return err
			}
			c.CustomerNodes = append(c.CustomerNodes, n)
			return nil
		})
	},
	"scope":             objField(scopeFields, func(c *Component) **Scope { return &c.Scope }),
	"qos":               objField(qosFields, func(c *Component) **QoS { return &c.QoS }),
	"availability":      objField(availabilityFields, func(c *Component) **Availability { return &c.Availability }),
	"capacity":          objField(capacityFields, func(c *Component) **Capacity { return &c.Capacity }),
	"traffic_isolation": objField(isolationFields, func(c *Component) **TrafficIsolation { return &c.TrafficIsolation }),
	"conformance":       objField(conformanceFields, func(c *Component) **Conformance { return &c.Conformance }),
	"flow_identification": func(d *decoder, p string, c *Component) error {
		return d.array(p, func(_ int, ep string) error {
			var f FlowIdentifier
			if err := decodeObject(d, ep, flowFields, &f); err != nil {
				return err
			}
			c.FlowIdentification = append(c.FlowIdentification, f)
			return nil
		})
	},
	"overall_guarantees": objField(overallFields, func(c *Component) **OverallGuarantees { return &c.OverallGuarantees }),
	"routing":            objField(routingFields, func(c *Component) **Routing { return &c.Routing }),
	"activation_means":   stringsField(func(c *Component) *[]string { return &c.ActivationMeans }),
	"invocation_means":   strField(func(c *Component) *InvocationMeans { return &c.InvocationMeans }),
	"notifications":      objField(notificationFields, func(c *Component) **Notifications { return &c.Notifications }),
}

var customerNodeFields = fields[CustomerNode]{
	"identifier":      strField(func(n *CustomerNode) *string { return &n.Identifier }),
	"link_identifier": strField(func(n *CustomerNode) *string { return &n.LinkIdentifier }),
	"localization":    strField(func(n *CustomerNode) *string { return &n.Localization }),
	"site_identifier": strField(func(n *CustomerNode) *string { return &n.SiteIdentifier }),
}

var scopeFields = fields[Scope]{
	"model":    strField(func(s *Scope) *ScopeModel { return &s.Model }),
	"ingress":  stringsField(func(s *Scope) *[]string { return &s.Ingress }),
	"egress":   stringsField(func(s *Scope) *[]string { return &s.Egress }),
	"incoming": objField(reachabilityFields, func(s *Scope) **Reachability { return &s.Incoming }),
	"outgoing": objField(reachabilityFields, func(s *Scope) **Reachability { return &s.Outgoing }),
}

var reachabilityFields = fields[Reachability]{
	"global":   boolField(func(r *Reachability) *bool { return &r.Global }),
	"prefixes": stringsField(func(r *Reachability) *[]string { return &r.Prefixes }),
}

var qosFields = fields[QoS]{
	"class":              strField(func(q *QoS) *string { return &q.Class }),
	"one_way_delay_ms":   valueField(func(q *QoS) *Value { return &q.OneWayDelayMs }),
	"delay_variation_ms": valueField(func(q *QoS) *Value { return &q.DelayVariationMs }),
	"loss_ratio":         valueField(func(q *QoS) *Value { return &q.LossRatio }),
	"bound":              strField(func(q *QoS) *Bound { return &q.Bound }),
	"percentile": func(d *decoder, p string, q *QoS) (err error) {
		q.Percentile, err = d.number(p)
		return err
	},
}

var availabilityFields = fields[Availability]{
	"percent": valueField(func(a *Availability) *Value { return &a.Percent }),
	"bound":   strField(func(a *Availability) *Bound { return &a.Bound }),
}

var capacityFields = fields[Capacity]{
	"incoming_bps": valueField(func(k *Capacity) *Value { return &k.IncomingBps }),
	"outgoing_bps": valueField(func(k *Capacity) *Value { return &k.OutgoingBps }),
}

var isolationFields = fields[TrafficIsolation]{
	"required": boolField(func(t *TrafficIsolation) *bool { return &t.Required }),
	"means":    strField(func(t *TrafficIsolation) *string { return &t.Means }),
}

var conformanceFields = fields[Conformance]{
	"out_of_profile": strField(func(f *Conformance) *OutOfProfile { return &f.OutOfProfile }),
	"remark_class":   strField(func(f *Conformance) *string { return &f.RemarkClass }),
	"mtu":            valueField(func(f *Conformance) *Value { return &f.MTU }),
}

var flowFields = fields[FlowIdentifier]{
	"source_prefix":      strField(func(f *FlowIdentifier) *string { return &f.SourcePrefix }),
	"source_port":        intField(func(f *FlowIdentifier) **int { return &f.SourcePort }),
	"destination_prefix": strField(func(f *FlowIdentifier) *string { return &f.DestinationPrefix }),
	"destination_port":   intField(func(f *FlowIdentifier) **int { return &f.DestinationPort }),
	"protocol":           intField(func(f *FlowIdentifier) **int { return &f.Protocol }),
	"dscp":               intField(func(f *FlowIdentifier) **int { return &f.DSCP }),
	"tunnel_endpoint":    strField(func(f *FlowIdentifier) *string { return &f.TunnelEndpoint }),
	"link_identifier":    strField(func(f *FlowIdentifier) *string { return &f.LinkIdentifier }),
	"remark_dscp":        intField(func(f *FlowIdentifier) **int { return &f.RemarkDSCP }),
}

var overallFields = fields[OverallGuarantees]{
	"delay":      strField(func(o *OverallGuarantees) *string { return &o.Delay }),
	"loss":       strField(func(o *OverallGuarantees) *string { return &o.Loss }),
	"throughput": strField(func(o *OverallGuarantees) *string { return &o.Throughput }),
}

var routingFields = fields[Routing]{
	"avoid":                   stringsField(func(r *Routing) *[]string { return &r.Avoid }),
	"via":                     stringsField(func(r *Routing) *[]string { return &r.Via }),
	"geographic_restrictions": stringsField(func(r *Routing) *[]string { return &r.GeographicRestrictions }),
	"topology":                strField(func(r *Routing) *string { return &r.Topology }),
	"forwarding_behavior":     strField(func(r *Routing) *string { return &r.ForwardingBehavior }),
	"backup_paths":            boolField(func(r *Routing) *bool { return &r.BackupPaths }),
}

var notificationFields = fields[Notifications]{
	"means":       stringsField(func(n *Notifications) *[]string { return &n.Means }),
	"events":      stringsField(func(n *Notifications) *[]string { return &n.Events }),
	"interval_s":  valueField(func(n *Notifications) *Value { return &n.IntervalS }),
	"data_model":  strField(func(n *Notifications) *string { return &n.DataModel }),
	"destination": strField(func(n *Notifications) *string { return &n.Destination }),
}

// objField decodes a nested clause object into a freshly allocated *U.
func objField[T, U any](fs fields[U], get func(*T) **U) field[T] {
	return func(d *decoder, p string, dst *T) error {
		u := new(U)
		if err := decodeObject(d, p, fs, u); err != nil {
			return err
		}
		*get(dst) = u
		return nil
	}
}

func strField[T any, S ~string](get func(*T) *S) field[T] {
	return func(d *decoder, p string, dst *T) error {
		s, err := d.str(p)
		*get(dst) = S(s)
		return err
	}
}

func stringsField[T any](get func(*T) *[]string) field[T] {
	return func(d *decoder, p string, dst *T) (err error) {
		*get(dst), err = d.strings(p)
		return err
	}
}

func boolField[T any](get func(*T) *bool) field[T] {
	return func(d *decoder, p string, dst *T) (err error) {
		*get(dst), err = d.boolean(p)
		return err
	}
}

func intField[T any](get func(*T) **int) field[T] {
	return func(d *decoder, p string, dst *T) (err error) {
		*get(dst), err = d.integer(p)
		return err
	}
}

func valueField[T any](get func(*T) *Value) field[T] {
	return func(d *decoder, p string, dst *T) (err error) {
		*get(dst), err = d.value(p)
		return err
	}
}
