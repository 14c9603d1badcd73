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

import "encoding/json"

// CPD is a Connectivity Provisioning Document (RFC 8921 §8.7, §9.1.9.1;
// RFC 7297 §3-4). PLACEHOLDER: the full model is being written.
type CPD struct {
	Components []Component `json:"components"`
}

// Component is one Connectivity Provisioning Component. PLACEHOLDER.
type Component struct{}

// Parse decodes one CPD from JSON strictly. PLACEHOLDER until the model lands:
// the final version returns *Error naming the offending member.
func Parse(data []byte) (CPD, error) {
	var c CPD
	err := json.Unmarshal(data, &c)
	return c, err
}
