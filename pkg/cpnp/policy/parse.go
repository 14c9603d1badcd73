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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Parse decodes a policy (YAML, or JSON which is YAML) and validates it.
//
// Decoding is strict, because the file is written by a person: an unknown
// field, a repeated key or a value of the wrong type is an error naming
// the field path, e.g. `pools[0].capacity.incomingBpz: unknown field`.
// (Wire messages are the opposite: unknown members are ignored, RFC 8921 §1.)
// Numbers for bits per second must be integers (1e9 is accepted, 1.5 is
// not). Then Validate runs. Errors are *FieldError values joined with
// errors.Join, or a YAML syntax error.
func Parse(data []byte) (Config, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return Config{}, fmt.Errorf("parse policy: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return Config{}, fmt.Errorf("parse policy: %w", err)
	}
	var s schemaChecker
	tree = s.check("", tree, reflect.TypeFor[Config]())
	if len(s.errs) > 0 {
		return Config{}, fmt.Errorf("parse policy: %w", errors.Join(s.errs...))
	}
	norm, err := json.Marshal(tree)
	if err != nil {
		return Config{}, fmt.Errorf("parse policy: %w", err)
	}
	var c Config
	dec = json.NewDecoder(bytes.NewReader(norm))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// Unreachable after the schema check; kept so that nothing slips by.
		return Config{}, fmt.Errorf("parse policy: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid policy: %w", err)
	}
	return c, nil
}

// schemaChecker walks a decoded JSON tree against the Go type it is about to
// be decoded into, so that every schema error names its field path with list
// indices (encoding/json names neither the path of an unknown field nor the
// index of a list element). It returns the tree with integral numbers
// normalized (1e9 -> 1000000000) so that encoding/json decodes them into
// int64.
type schemaChecker struct{ errs []error }

var durationType = reflect.TypeFor[Duration]()

func (s *schemaChecker) fail(path, rule string) {
	if path == "" {
		path = "(document)"
	}
	s.errs = append(s.errs, &FieldError{Field: path, Rule: rule})
}

func (s *schemaChecker) check(path string, v any, t reflect.Type) any {
	if v == nil { // null: the field is absent
		return nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		str, ok := v.(string)
		if !ok {
			s.fail(path, `must be a Go duration string such as "5m"`)
			return v
		}
		if _, err := time.ParseDuration(str); err != nil {
			s.fail(path, fmt.Sprintf(`must be a Go duration string such as "5m", got %q`, str))
		}
		return v
	case t.Kind() == reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			s.fail(path, "must be a mapping, got "+describe(v))
			return v
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fp := join(path, k)
			f, ok := fields[k]
			if !ok {
				rule := "unknown field"
				for name := range fields {
					if strings.EqualFold(name, k) {
						rule += " (did you mean " + name + "?)"
					}
				}
				s.fail(fp, rule)
				continue
			}
			m[k] = s.check(fp, m[k], f)
		}
		return m
	case t.Kind() == reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			s.fail(path, "must be a list, got "+describe(v))
			return v
		}
		for i := range l {
			l[i] = s.check(path+"["+strconv.Itoa(i)+"]", l[i], t.Elem())
		}
		return l
	case t.Kind() == reflect.String:
		if _, ok := v.(string); !ok {
			s.fail(path, "must be a string, got "+describe(v))
		}
		return v
	case t.Kind() == reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			s.fail(path, "must be an integer, got "+describe(v))
			return v
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return v
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			s.fail(path, "must be an integer, got "+string(n))
			return v
		}
		return json.Number(strconv.FormatInt(int64(f), 10))
	case t.Kind() == reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			s.fail(path, "must be a number, got "+describe(v))
			return v
		}
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			s.fail(path, "must be a finite number, got "+string(n))
		}
		return v
	}
	s.fail(path, "has an unsupported type "+t.String()) // a schema bug
	return v
}

// jsonFields maps the JSON names of t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return "the string " + strconv.Quote(x)
	case json.Number:
		return "the number " + string(x)
	case bool:
		return "the boolean " + strconv.FormatBool(x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}
