package scim

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// PATCH (RFC 7644 §3.5.2) works on the resource's document: the operations
// change a copy of what GET answers, and the difference between the two is
// what the core is asked to change.

// patchOp is one operation; op is lower-cased ("Replace" from Entra ID).
type patchOp struct {
	op    string
	path  string
	value any
}

// maxPatchOps bounds the operations of one request.
const maxPatchOps = 100

func parsePatch(body map[string]any) ([]patchOp, error) {
	schemas, _ := body["schemas"].([]any)
	okSchema := false
	for _, s := range schemas {
		if str, _ := s.(string); strings.EqualFold(str, schemaPatch) {
			okSchema = true
		}
	}
	if !okSchema {
		return nil, errInvalidSyntax("a PATCH body names the schema " + schemaPatch)
	}
	list, ok := lookup(body, "Operations").([]any)
	if !ok || len(list) == 0 {
		return nil, errInvalidSyntax("Operations must be a non-empty list")
	}
	if len(list) > maxPatchOps {
		return nil, &scimError{status: 413, scimType: "tooMany", detail: "at most 100 operations per request"}
	}
	var ops []patchOp
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, errInvalidSyntax("Operations must be objects")
		}
		op, _ := lookup(m, "op").(string)
		op = strings.ToLower(op)
		if op != "add" && op != "remove" && op != "replace" {
			return nil, errInvalidValue("Operations[%d].op must be add, remove or replace", i)
		}
		path, _ := lookup(m, "path").(string)
		value := lookup(m, "value")
		if op == "remove" && path == "" {
			return nil, errNoTarget("Operations[%d]: remove needs a path", i)
		}
		if op != "remove" && value == nil {
			return nil, errInvalidValue("Operations[%d]: %s needs a value", i, op)
		}
		ops = append(ops, patchOp{op: op, path: strings.TrimSpace(path), value: value})
	}
	return ops, nil
}

// applyPatch applies ops to doc, a resource document of the given schema.
func applyPatch(doc map[string]any, ops []patchOp, schema map[string][]attr) error {
	for _, o := range ops {
		if err := applyOp(doc, o.op, o.path, o.value, schema); err != nil {
			return err
		}
	}
	return nil
}

func applyOp(doc map[string]any, op, path string, value any, schema map[string][]attr) error {
	if path == "" {
		m, ok := value.(map[string]any)
		if !ok {
			return errInvalidValue("an %s without a path needs an object as its value", op)
		}
		for k, v := range m {
			if urn, ok := knownURN(k, schema); ok {
				ext, isObj := v.(map[string]any)
				if !isObj {
					return errInvalidValue("%s must be an object", urn)
				}
				for sk, sv := range ext {
					if err := applyOp(doc, op, urn+":"+sk, sv, schema); err != nil {
						return err
					}
				}
				continue
			}
			// Keys may be paths themselves: "name.givenName" (Entra ID).
			if err := applyOp(doc, op, k, v, schema); err != nil {
				return err
			}
		}
		return nil
	}
	p, err := filter.ParsePath([]byte(path))
	if err != nil {
		return errInvalidPath("the path %q cannot be parsed", path)
	}
	container, attrs, err := pathContainer(doc, p.AttributePath.URI(), schema)
	if err != nil {
		return err
	}
	a, ok := findAttr(attrs, p.AttributePath.AttributeName)
	if !ok {
		if attrs == nil || p.AttributePath.URI() == "" || strings.EqualFold(p.AttributePath.URI(), SchemaUser) || strings.EqualFold(p.AttributePath.URI(), SchemaEnterprise) {
			return nil // an attribute Roster does not keep: ignored, as in POST and PUT
		}
		return errInvalidPath("no attribute %q in %s", p.AttributePath.AttributeName, p.AttributePath.URI())
	}
	if a.readOnly() {
		switch {
		case sameJSON(container[a.name], value):
			return nil // the value it has (Okta sends the id with a rename)
		case strings.EqualFold(p.AttributePath.URI(), SchemaEnterprise):
			return nil // derived (department is the home group): Entra's default mappings send it
		}
		return errMutability("%s is read-only", a.name)
	}
	if a.mutability == "writeOnly" {
		return nil // the password: taken on create only
	}
	sub := p.AttributePath.SubAttributeName()
	if sub == "" {
		sub = p.SubAttributeName()
	}
	if sub != "" {
		sa, ok := findAttr(a.sub, sub)
		if !ok {
			if a.sub == nil {
				return errInvalidPath("%s has no sub-attributes", a.name)
			}
			return nil // a sub-attribute Roster does not keep
		}
		if sa.readOnly() {
			return errMutability("%s.%s is read-only", a.name, sa.name)
		}
		sub = sa.name
	}
	if p.ValueExpression != nil {
		if !a.multi || a.sub == nil {
			return errInvalidPath("%s is not a multi-valued complex attribute; a value filter does not apply", a.name)
		}
		return applyFiltered(container, a, p.ValueExpression, sub, op, value)
	}
	if sub != "" {
		return applySub(container, a, sub, op, value)
	}
	if op == "remove" {
		delete(container, a.name)
		return nil
	}
	cv, err := canonicalValue(a, value)
	if err != nil {
		return err
	}
	switch {
	case a.multi && op == "add":
		list, _ := container[a.name].([]any)
		for _, el := range elements(cv) {
			if !containsJSON(list, el) {
				list = append(list, el)
			}
		}
		container[a.name] = list
	case a.multi:
		container[a.name] = elements(cv)
	case a.sub != nil:
		m, _ := container[a.name].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		nv, ok := cv.(map[string]any)
		if !ok {
			return errInvalidValue("%s must be an object", a.name)
		}
		for k, v := range nv {
			m[k] = v
		}
		container[a.name] = m
	default:
		container[a.name] = cv
	}
	return nil
}

// pathContainer is the object a path's attribute lives in: the document, or
// an extension's object in it.
func pathContainer(doc map[string]any, uri string, schema map[string][]attr) (map[string]any, []attr, error) {
	if uri == "" || strings.EqualFold(uri, SchemaUser) || strings.EqualFold(uri, SchemaGroup) {
		return doc, schema[""], nil
	}
	urn, ok := knownURN(uri, schema)
	if !ok {
		return nil, nil, errInvalidPath("unknown schema %q", uri)
	}
	m, _ := doc[urn].(map[string]any)
	if m == nil {
		m = map[string]any{}
		doc[urn] = m
	}
	return m, schema[urn], nil
}

func containsJSON(list []any, el any) bool {
	for _, x := range list {
		if sameJSON(x, el) {
			return true
		}
	}
	return false
}

// applySub changes one sub-attribute: of the complex value (name.givenName)
// or of every value of a multi-valued attribute (emails.value).
func applySub(container map[string]any, a attr, sub, op string, value any) error {
	if !a.multi {
		m, _ := container[a.name].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		if op == "remove" {
			delete(m, sub)
		} else {
			m[sub] = value
		}
		container[a.name] = m
		return nil
	}
	list, _ := container[a.name].([]any)
	if len(list) == 0 && op != "remove" {
		container[a.name] = []any{map[string]any{sub: value}}
		return nil
	}
	for _, el := range list {
		if m, ok := el.(map[string]any); ok {
			if op == "remove" {
				delete(m, sub)
			} else {
				m[sub] = value
			}
		}
	}
	return nil
}

// applyFiltered changes the values a value filter selects
// (emails[type eq "work"].value). An add or replace that selects nothing
// adds a value when the filter is one equality (type eq "work"), as Entra
// ID expects for a user who had no such value yet.
func applyFiltered(container map[string]any, a attr, vf filter.Expression, sub, op string, value any) error {
	list, _ := container[a.name].([]any)
	var kept []any
	hit := false
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok || !matches(vf, m) {
			kept = append(kept, el)
			continue
		}
		hit = true
		switch {
		case op == "remove" && sub == "":
			continue // dropped
		case op == "remove":
			delete(m, sub)
		case sub != "":
			m[sub] = value
		default:
			nv, err := canonicalValue(attr{name: a.name, sub: a.sub}, value)
			if err != nil {
				return err
			}
			obj, ok := nv.(map[string]any)
			if !ok {
				return errInvalidValue("%s: the value must be an object", a.name)
			}
			if op == "replace" {
				m = map[string]any{}
			}
			for k, v := range obj {
				m[k] = v
			}
		}
		kept = append(kept, m)
	}
	if !hit && op != "remove" {
		eq, ok := vf.(*filter.AttributeExpression)
		if !ok || eq.Operator != filter.EQ || eq.AttributePath.SubAttribute != nil {
			return errNoTarget("no value of %s matches the filter", a.name)
		}
		sa, ok := findAttr(a.sub, eq.AttributePath.AttributeName)
		if !ok {
			return errNoTarget("no value of %s matches the filter", a.name)
		}
		m := map[string]any{sa.name: eq.CompareValue}
		if sub != "" {
			m[sub] = value
		} else if obj, ok := value.(map[string]any); ok {
			cv, err := canonicalAttrs(obj, a.sub)
			if err != nil {
				return err
			}
			for k, v := range cv {
				m[k] = v
			}
		}
		kept = append(kept, m)
	}
	if kept == nil {
		kept = []any{}
	}
	container[a.name] = kept
	return nil
}
