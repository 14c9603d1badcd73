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

package wire

import (
	"math"
	"strconv"
)

// Information Elements (RFC 8921 §9.1.10): decoding, validation and
// canonical encoding. Every sub-member is optional; unknown sub-members are
// ignored like unknown top-level members (§1: new IEs may be added). An
// object that ends up with no known, non-empty sub-member is treated as
// absent, so that Decode and Encode agree on one canonical form.

// JSON member names inside information_elements (DESIGN §3).
const (
	ieCustomerDescription = "customer_description"
	ieProviderDescription = "provider_description"
	ieNegotiationOptions  = "negotiation_options"
	ieName                = "name"
	ieContact             = "contact"
	ieASNumber            = "as_number"
	ieEmail               = "email"
	iePostalAddress       = "postal_address"
	ieTelephoneNumbers    = "telephone_numbers"
	iePurpose             = "purpose"
	ieActivationType      = "activation_type"
	ieScope               = "scope"
)

// Valid reports whether p is a purpose of §9.1.10.3 (DESIGN §3); empty means absent.
func (p Purpose) Valid() bool { return p == "" || p == PurposePermanent || p == PurposeTest }

// Valid reports whether a is an activation type of DESIGN §3; empty means absent (immediate).
func (a ActivationType) Valid() bool {
	return a == "" || a == ActivationImmediate || a == ActivationScheduled || a == ActivationExplicit
}

// Valid reports whether s is a scope of DESIGN §3; empty means absent (recursive).
func (s Scope) Valid() bool { return s == "" || s == ScopeRecursive || s == ScopeLocal }

func (c *Contact) empty() bool {
	return c == nil || c.Email == "" && c.PostalAddress == "" && len(c.TelephoneNumbers) == 0
}

func (d *CustomerDescription) empty() bool { return d == nil || d.Name == "" && d.Contact.empty() }

func (d *ProviderDescription) empty() bool {
	return d == nil || d.Name == "" && d.Contact.empty() && d.ASNumber == 0
}

func (o *NegotiationOptions) empty() bool {
	return o == nil || o.Purpose == "" && o.ActivationType == "" && o.Scope == ""
}

func (ie *InformationElements) empty() bool {
	return ie == nil || ie.CustomerDescription.empty() && ie.ProviderDescription.empty() && ie.NegotiationOptions.empty()
}

// decodeObject walks the object v at path and calls set for each member
// whose name is in names (by index). Other members are ignored; a known
// member that appears twice is CodeSyntax.
func decodeObject(path memberPath, v []byte, names []string, set func(i int, path memberPath, v []byte) *ValidationError) *ValidationError {
	if v[0] != '{' {
		return wrongType(path.String(), "an object", v)
	}
	var (
		seen uint32
		verr *ValidationError
	)
	err := forEachMember(v, func(name, value []byte) error {
		key, err := memberName(name)
		if err != nil {
			return err
		}
		for i, n := range names {
			if string(key) != n {
				continue
			}
			sub := path.member(n)
			if seen&(1<<i) != 0 {
				verr = newError(sub.String(), CodeSyntax, "member appears more than once")
				return verr
			}
			seen |= 1 << i
			if verr = set(i, sub, value); verr != nil {
				return verr
			}
			return nil
		}
		return nil
	})
	if verr != nil {
		return verr
	}
	if err != nil {
		return newError(path.String(), CodeSyntax, "invalid JSON: "+err.Error())
	}
	return nil
}

// decodeText decodes a free-text string member.
func decodeText(path memberPath, v []byte) (string, *ValidationError) {
	s, err := decodeStringAt(path, v)
	if err != nil {
		return "", err
	}
	if code, detail := checkText(s); code != 0 {
		return "", newError(path.String(), code, detail)
	}
	return s, nil
}

func decodeIEs(v []byte) (*InformationElements, *ValidationError) {
	var ie InformationElements
	err := decodeObject(pathOf(MemberInformationElements), v,
		[]string{ieCustomerDescription, ieProviderDescription, ieNegotiationOptions},
		func(i int, path memberPath, v []byte) *ValidationError {
			var err *ValidationError
			switch i {
			case 0:
				ie.CustomerDescription, err = decodeCustomerDescription(path, v)
			case 1:
				ie.ProviderDescription, err = decodeProviderDescription(path, v)
			default:
				ie.NegotiationOptions, err = decodeNegotiationOptions(path, v)
			}
			return err
		})
	if err != nil || ie.empty() {
		return nil, err
	}
	return &ie, nil
}

// decodeCustomerDescription decodes §9.1.10.1: [NAME] [Contact Information].
func decodeCustomerDescription(path memberPath, v []byte) (*CustomerDescription, *ValidationError) {
	var d CustomerDescription
	err := decodeObject(path, v, []string{ieName, ieContact},
		func(i int, path memberPath, v []byte) *ValidationError {
			var err *ValidationError
			if i == 0 {
				d.Name, err = decodeText(path, v)
			} else {
				d.Contact, err = decodeContact(path, v)
			}
			return err
		})
	if err != nil || d.empty() {
		return nil, err
	}
	return &d, nil
}

// decodeProviderDescription decodes §9.1.10.2: [NAME] [Contact Information] [AS_NUMBER].
func decodeProviderDescription(path memberPath, v []byte) (*ProviderDescription, *ValidationError) {
	var d ProviderDescription
	err := decodeObject(path, v, []string{ieName, ieContact, ieASNumber},
		func(i int, path memberPath, v []byte) *ValidationError {
			var err *ValidationError
			switch i {
			case 0:
				d.Name, err = decodeText(path, v)
			case 1:
				d.Contact, err = decodeContact(path, v)
			default:
				n, code, detail := parseUint(v, math.MaxUint32)
				switch {
				case code != 0:
					err = newError(path.String(), code, detail+" (a 4-octet AS number, RFC 6793)")
				case n == 0:
					err = newError(path.String(), CodeOutOfRange, "AS number 0 is reserved (RFC 7607)")
				default:
					d.ASNumber = uint32(n)
				}
			}
			return err
		})
	if err != nil || d.empty() {
		return nil, err
	}
	return &d, nil
}

// decodeContact decodes the Contact Information of §9.1.10.1:
// [EMAIL_ADDRESS] [POSTAL_ADDRESS] [TELEPHONE_NUMBER...].
func decodeContact(path memberPath, v []byte) (*Contact, *ValidationError) {
	var c Contact
	err := decodeObject(path, v, []string{ieEmail, iePostalAddress, ieTelephoneNumbers},
		func(i int, path memberPath, v []byte) *ValidationError {
			var err *ValidationError
			switch i {
			case 0:
				c.Email, err = decodeText(path, v)
			case 1:
				c.PostalAddress, err = decodeText(path, v)
			default:
				c.TelephoneNumbers, err = decodeTexts(path, v)
			}
			return err
		})
	if err != nil || c.empty() {
		return nil, err
	}
	return &c, nil
}

// decodeTexts decodes an array of strings; an empty array is absent (nil).
func decodeTexts(path memberPath, v []byte) ([]string, *ValidationError) {
	if v[0] != '[' {
		return nil, wrongType(path.String(), "an array of strings", v)
	}
	var (
		out  []string
		verr *ValidationError
	)
	err := forEachElement(v, func(i int, e []byte) error {
		s, err := decodeText(path.at(i), e)
		if err != nil {
			verr = err
			return err
		}
		out = append(out, s)
		return nil
	})
	if verr != nil {
		return nil, verr
	}
	if err != nil {
		return nil, newError(path.String(), CodeSyntax, "invalid JSON: "+err.Error())
	}
	return out, nil
}

// decodeNegotiationOptions decodes §9.1.10.3 with the members of DESIGN §3.
func decodeNegotiationOptions(path memberPath, v []byte) (*NegotiationOptions, *ValidationError) {
	var o NegotiationOptions
	err := decodeObject(path, v, []string{iePurpose, ieActivationType, ieScope},
		func(i int, path memberPath, v []byte) *ValidationError {
			s, err := decodeStringAt(path, v)
			if err != nil {
				return err
			}
			switch i {
			case 0:
				o.Purpose = Purpose(s)
				if s == "" || !o.Purpose.Valid() {
					return enumError(path.String(), s, `"permanent" or "test"`)
				}
			case 1:
				o.ActivationType = ActivationType(s)
				if s == "" || !o.ActivationType.Valid() {
					return enumError(path.String(), s, `"immediate", "scheduled" or "explicit"`)
				}
			default:
				o.Scope = Scope(s)
				if s == "" || !o.Scope.Valid() {
					return enumError(path.String(), s, `"recursive" or "local"`)
				}
			}
			return nil
		})
	if err != nil || o.empty() {
		return nil, err
	}
	return &o, nil
}

func enumError(path, got, want string) *ValidationError {
	return newError(path, CodeOutOfRange, "must be "+want+" (RFC 8921 §9.1.10.3), got "+strconv.Quote(truncate(got)))
}

// validateIEs checks the Information Elements of a struct.
func validateIEs(ie *InformationElements) *ValidationError {
	const p = MemberInformationElements
	if d := ie.CustomerDescription; d != nil {
		if err := validateTexts(p+"."+ieCustomerDescription+"."+ieName, d.Name); err != nil {
			return err
		}
		if err := validateContact(p+"."+ieCustomerDescription+"."+ieContact, d.Contact); err != nil {
			return err
		}
	}
	if d := ie.ProviderDescription; d != nil {
		if err := validateTexts(p+"."+ieProviderDescription+"."+ieName, d.Name); err != nil {
			return err
		}
		if err := validateContact(p+"."+ieProviderDescription+"."+ieContact, d.Contact); err != nil {
			return err
		}
	}
	if o := ie.NegotiationOptions; o != nil {
		const q = p + "." + ieNegotiationOptions + "."
		switch {
		case !o.Purpose.Valid():
			return enumError(q+iePurpose, string(o.Purpose), `"permanent" or "test"`)
		case !o.ActivationType.Valid():
			return enumError(q+ieActivationType, string(o.ActivationType), `"immediate", "scheduled" or "explicit"`)
		case !o.Scope.Valid():
			return enumError(q+ieScope, string(o.Scope), `"recursive" or "local"`)
		}
	}
	return nil
}

func validateContact(path string, c *Contact) *ValidationError {
	if c == nil {
		return nil
	}
	if err := validateTexts(path+"."+ieEmail, c.Email); err != nil {
		return err
	}
	if err := validateTexts(path+"."+iePostalAddress, c.PostalAddress); err != nil {
		return err
	}
	return validateTexts(path+"."+ieTelephoneNumbers, c.TelephoneNumbers...)
}

func validateTexts(path string, ss ...string) *ValidationError {
	for _, s := range ss {
		if code, detail := checkText(s); code != 0 {
			return newError(path, code, detail)
		}
	}
	return nil
}

// appendIEs appends the canonical encoding of a non-empty ie.
func appendIEs(b []byte, ie *InformationElements) []byte {
	b = append(b, '{')
	first := true
	sep := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, name)
		b = append(b, ':')
	}
	if d := ie.CustomerDescription; !d.empty() {
		sep(ieCustomerDescription)
		b = appendDescription(b, d.Name, d.Contact, 0)
	}
	if d := ie.ProviderDescription; !d.empty() {
		sep(ieProviderDescription)
		b = appendDescription(b, d.Name, d.Contact, d.ASNumber)
	}
	if o := ie.NegotiationOptions; !o.empty() {
		sep(ieNegotiationOptions)
		b = append(b, '{')
		n := 0
		for _, kv := range [...][2]string{
			{iePurpose, string(o.Purpose)}, {ieActivationType, string(o.ActivationType)}, {ieScope, string(o.Scope)},
		} {
			if kv[1] == "" {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = appendString(b, kv[0])
			b = append(b, ':')
			b = appendString(b, kv[1])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendDescription appends a Customer or Provider Description (asn 0 = absent).
func appendDescription(b []byte, name string, c *Contact, asn uint32) []byte {
	b = append(b, '{')
	n := 0
	sep := func(key string) {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendString(b, key)
		b = append(b, ':')
	}
	if name != "" {
		sep(ieName)
		b = appendString(b, name)
	}
	if !c.empty() {
		sep(ieContact)
		b = append(b, '{')
		m := 0
		csep := func(key string) {
			if m > 0 {
				b = append(b, ',')
			}
			m++
			b = appendString(b, key)
			b = append(b, ':')
		}
		if c.Email != "" {
			csep(ieEmail)
			b = appendString(b, c.Email)
		}
		if c.PostalAddress != "" {
			csep(iePostalAddress)
			b = appendString(b, c.PostalAddress)
		}
		if len(c.TelephoneNumbers) > 0 {
			csep(ieTelephoneNumbers)
			b = append(b, '[')
			for i, t := range c.TelephoneNumbers {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, t)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	if asn != 0 {
		sep(ieASNumber)
		b = strconv.AppendUint(b, uint64(asn), 10)
	}
	return append(b, '}')
}

// decodeStringAt is decodeString for a member inside information_elements:
// the path is spelled out only when decodeString reports an error.
func decodeStringAt(path memberPath, v []byte) (string, *ValidationError) {
	if v[0] == '"' {
		if s, err := unquote(v); err == nil {
			return s, nil
		}
	}
	return decodeString(path.String(), v)
}

// memberPath is the path of a member inside information_elements
// ("information_elements.customer_description.contact.telephone_numbers[1]"),
// spelled out only when an error reports it, so that decoding a valid
// message builds no path strings. It holds up to four names, the depth of
// the Information Elements of §9.1.10, and is a plain value (no pointers to
// its callers' frames) so that it never makes them escape.
type memberPath struct {
	names [4]string
	n     int
	index int // the array index of the last name, or -1
}

func pathOf(name string) memberPath { return memberPath{names: [4]string{name}, n: 1, index: -1} }

// member returns the path of the member name of p.
func (p memberPath) member(name string) memberPath {
	if p.n < len(p.names) {
		p.names[p.n] = name
		p.n++
	}
	p.index = -1
	return p
}

// at returns the path of the element i of the array at p.
func (p memberPath) at(i int) memberPath {
	p.index = i
	return p
}

// String spells the path out: names joined by dots, then "[index]".
func (p memberPath) String() string {
	b := make([]byte, 0, 64)
	for i, name := range p.names[:p.n] {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, name...)
	}
	if p.index >= 0 {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.index), 10)
		b = append(b, ']')
	}
	return string(b)
}
