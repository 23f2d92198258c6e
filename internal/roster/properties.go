package roster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Property types.
const (
	PropInteger  = "integer"  // a whole number
	PropDuration = "duration" // whole seconds
	PropText     = "text"
	PropBoolean  = "boolean"
	PropChoice   = "choice" // one of the property's choices
)

// PropertyTypes are the types a property may have.
var PropertyTypes = []string{PropInteger, PropDuration, PropText, PropBoolean, PropChoice}

// Property is a tenant-defined setting with a type and a default. Values are
// set on groups (inherited by subgroups and users) and overridden on users.
// Values are JSON: numbers for integer and duration (seconds), strings for
// text and choice, true/false for boolean.
type Property struct {
	ID        int64           `json:"id"`
	TenantID  int64           `json:"-"`
	Key       string          `json:"key"`
	Label     string          `json:"label"`
	Type      string          `json:"type"`
	Default   json.RawMessage `json:"default"`
	Choices   []string        `json:"choices"`
	Builtin   bool            `json:"builtin"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// PropertyInput defines or changes a property. Key and type are fixed once
// created.
type PropertyInput struct {
	Key     Opt[string]          `json:"key"`
	Label   Opt[string]          `json:"label"`
	Type    Opt[string]          `json:"type"`
	Default Opt[json.RawMessage] `json:"default"`
	Choices Opt[[]string]        `json:"choices"`
}

// builtinProperties are seeded into every tenant (migration 0004 seeds the
// tenants that existed before).
var builtinProperties = []Property{
	{Key: "wrapup_timeout_phone", Label: "Wrap-up timeout, phone", Type: PropDuration, Default: json.RawMessage(`60`)},
	{Key: "wrapup_timeout_chat", Label: "Wrap-up timeout, chat", Type: PropDuration, Default: json.RawMessage(`30`)},
	{Key: "resource_filter", Label: "Resource filter", Type: PropText, Default: json.RawMessage(`""`)},
}

// seedProperties creates the built-in properties of a new tenant.
func (s *Service) seedProperties(ctx context.Context, tx Tx, tenantID int64, at time.Time) error {
	for _, bp := range builtinProperties {
		p := bp
		p.TenantID, p.Builtin, p.Choices, p.CreatedAt, p.UpdatedAt = tenantID, true, []string{}, at, at
		if err := tx.CreateProperty(ctx, &p); err != nil {
			return err
		}
	}
	return nil
}

var propertyKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// Limits of property values.
const (
	maxTextValue    = 1000
	maxDurationSecs = 366 * 24 * 3600
	maxIntegerValue = 1<<53 - 1 // exact in every JSON client
)

// normalizeValue checks raw against the property's type and returns it in its
// canonical JSON form, or a message for the caller.
func (p *Property) normalizeValue(raw json.RawMessage) (json.RawMessage, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "is required (to remove a value, delete it)"
	}
	switch p.Type {
	case PropInteger:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n > maxIntegerValue || n < -maxIntegerValue {
			return nil, "must be a whole number"
		}
		return json.RawMessage(strconv.FormatInt(n, 10)), ""
	case PropDuration:
		secs, ok := parseDurationValue(raw)
		if !ok {
			return nil, fmt.Sprintf("must be a duration: whole seconds from 0 to %d, or a text such as \"90s\", \"2m\" or \"1h30m\"", maxDurationSecs)
		}
		return json.RawMessage(strconv.FormatInt(secs, 10)), ""
	case PropText:
		var str string
		if raw[0] != '"' || json.Unmarshal(raw, &str) != nil {
			return nil, "must be a string"
		}
		if utf8.RuneCountInString(str) > maxTextValue {
			return nil, fmt.Sprintf("must be at most %d characters", maxTextValue)
		}
		return mustJSON(str), ""
	case PropBoolean:
		if string(raw) != "true" && string(raw) != "false" {
			return nil, "must be true or false"
		}
		return raw, ""
	case PropChoice:
		var str string
		if raw[0] != '"' || json.Unmarshal(raw, &str) != nil || !slices.Contains(p.Choices, str) {
			return nil, "must be one of " + quoteList(p.Choices)
		}
		return mustJSON(str), ""
	}
	return nil, "has an unknown type"
}

// parseDurationValue reads whole seconds as a number, or a Go duration text.
func parseDurationValue(raw json.RawMessage) (int64, bool) {
	var secs int64
	if raw[0] == '"' {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return 0, false
		}
		str = strings.TrimSpace(str)
		if n, err := strconv.ParseInt(str, 10, 64); err == nil {
			secs = n
		} else {
			d, err := time.ParseDuration(str)
			if err != nil || d%time.Second != 0 {
				return 0, false
			}
			secs = int64(d / time.Second)
		}
	} else {
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return 0, false
		}
		secs = n
	}
	return secs, secs >= 0 && secs <= maxDurationSecs
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// zeroValue is the default of a property defined without one.
func zeroValue(typ string, choices []string) json.RawMessage {
	switch typ {
	case PropInteger, PropDuration:
		return json.RawMessage(`0`)
	case PropBoolean:
		return json.RawMessage(`false`)
	case PropChoice:
		if len(choices) > 0 {
			return mustJSON(choices[0])
		}
	}
	return json.RawMessage(`""`)
}

// ListProperties returns the tenant's property definitions by key.
func (s *Service) ListProperties(ctx context.Context, a *Actor) ([]Property, error) {
	if err := a.require(PermUsersView, PermUsersManage, PermGroupsManage); err != nil {
		return nil, err
	}
	return s.store.Read().ListProperties(ctx, a.TenantID)
}

// Property returns one property definition by key.
func (s *Service) Property(ctx context.Context, a *Actor, key string) (*Property, error) {
	if err := a.require(PermUsersView, PermUsersManage, PermGroupsManage); err != nil {
		return nil, err
	}
	return propertyByKey(ctx, s.store.Read(), a.TenantID, key)
}

func propertyByKey(ctx context.Context, tx Reader, tenantID int64, key string) (*Property, error) {
	props, err := tx.ListProperties(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for i := range props {
		if props[i].Key == key {
			return &props[i], nil
		}
	}
	return nil, Errorf(ENotFound, "no property with the key %q", key)
}

// propertyForValue finds the property a value is set for: an unknown key is
// bad input (the field "key"), not a missing resource, so the caller learns
// to define it first.
func propertyForValue(ctx context.Context, tx Tx, tenantID int64, key string) (*Property, error) {
	p, err := propertyByKey(ctx, tx, tenantID, key)
	if ErrorCode(err) == ENotFound {
		var v Validation
		v.Add("key", "no property with the key %q; define it first (POST /api/v1/properties)", key)
		return nil, v.Err()
	}
	return p, err
}

// CreateProperty defines a new property of the tenant.
func (s *Service) CreateProperty(ctx context.Context, a *Actor, in PropertyInput) (*Property, error) {
	if err := s.requireCatalogueWrite(ctx, a, "defining properties"); err != nil {
		return nil, err
	}
	now := s.Now()
	p := &Property{TenantID: a.TenantID, Choices: []string{}, CreatedAt: now, UpdatedAt: now}
	var v Validation
	p.Key = strings.TrimSpace(in.Key.V)
	if len(p.Key) > 40 || !propertyKeyPattern.MatchString(p.Key) {
		v.Add("key", "must be 2 to 40 characters of a-z, 0-9 and _, starting with a letter")
	}
	p.Type = in.Type.V
	if !slices.Contains(PropertyTypes, p.Type) {
		v.Add("type", "must be one of %s", strings.Join(PropertyTypes, ", "))
	}
	if !in.Label.Set {
		in.Label = Some(p.Key)
	}
	p.Label = checkLabel(&v, in.Label.V)
	if choices := checkChoiceList(&v, in.Choices); p.Type == PropChoice {
		p.Choices = choices
	}
	checkChoicesForType(&v, p.Type, in.Choices)
	checkRawValue(&v, "default", in.Default.V)
	p.Default = zeroValue(p.Type, p.Choices)
	if in.Default.Set && v.OK() {
		p.Default = checkDefault(&v, p, in.Default)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(tx Tx) error {
		if _, err := propertyByKey(ctx, tx, a.TenantID, p.Key); err == nil {
			return conflictField(ReasonPropertyKeyTaken, "key", "a property with the key %q exists already", p.Key)
		} else if ErrorCode(err) != ENotFound {
			return err
		}
		if err := tx.CreateProperty(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "property.create", "property", p.ID, nil, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func checkLabel(v *Validation, label string) string {
	label = strings.TrimSpace(label)
	if label == "" || tooLong(label, MaxPropertyLabelLen) {
		v.Add("label", "must be 1 to %d characters", MaxPropertyLabelLen)
	}
	return label
}

// checkChoiceList bounds, trims and de-duplicates (in one pass) the choices
// of a property; whether the property may have choices depends on its type
// (checkChoicesForType).
func checkChoiceList(v *Validation, in Opt[[]string]) []string {
	out := []string{}
	if !in.Set || tooMany(v, "choices", len(in.V), MaxChoices, "choices") {
		return out
	}
	seen := make(map[string]bool, len(in.V))
	for i, c := range in.V {
		c = strings.TrimSpace(c)
		switch {
		case c == "" || tooLong(c, MaxChoiceLen):
			v.Add("choices", "item %d: must be 1 to %d characters", i, MaxChoiceLen)
		case seen[c]:
			v.Add("choices", "item %d: %q is listed twice", i, c)
		default:
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// checkChoicesForType: a choice property needs choices, the others have none.
func checkChoicesForType(v *Validation, typ string, in Opt[[]string]) {
	switch {
	case typ != PropChoice && in.Set && len(in.V) > 0:
		v.Add("choices", "only properties of type choice have choices")
	case typ == PropChoice && len(in.V) == 0:
		v.Add("choices", "a choice property needs at least one choice")
	}
}

// checkRawValue bounds a value before it is parsed.
func checkRawValue(v *Validation, field string, raw json.RawMessage) {
	if len(raw) > MaxValueBytes {
		v.Add(field, "must be at most %d bytes of JSON", MaxValueBytes)
	}
}

func checkDefault(v *Validation, p *Property, in Opt[json.RawMessage]) json.RawMessage {
	if in.Null {
		v.Add("default", "must not be null")
		return p.Default
	}
	val, msg := p.normalizeValue(in.V)
	if msg != "" {
		v.Add("default", "%s", msg)
		return p.Default
	}
	return val
}

// UpdateProperty changes the label, default or choices of a property. Choices
// still used by a group or user value cannot be taken away.
func (s *Service) UpdateProperty(ctx context.Context, a *Actor, key string, in PropertyInput) (*Property, error) {
	if err := s.requireCatalogueWrite(ctx, a, "changing properties"); err != nil {
		return nil, err
	}
	// Everything that needs no stored definition is checked first.
	var pre Validation
	var label string
	if in.Label.Set {
		label = checkLabel(&pre, in.Label.V)
	}
	choices := checkChoiceList(&pre, in.Choices)
	checkRawValue(&pre, "default", in.Default.V)
	if err := pre.Err(); err != nil {
		return nil, s.reachableFirst(err, func(r Reader) error { _, err := propertyByKey(ctx, r, a.TenantID, key); return err })
	}
	var p *Property
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindProperty, a.TenantID, key); err != nil {
			return err
		}
		before, err := propertyByKey(ctx, tx, a.TenantID, key)
		if err != nil {
			return err
		}
		p = new(Property)
		*p = *before
		var v Validation
		if in.Key.Set && in.Key.V != before.Key {
			v.Add("key", "cannot be changed; define a new property instead")
		}
		if in.Type.Set && in.Type.V != before.Type {
			v.Add("type", "cannot be changed; define a new property instead")
		}
		if in.Label.Set {
			p.Label = label
		}
		if in.Choices.Set {
			checkChoicesForType(&v, p.Type, in.Choices)
			if p.Type == PropChoice {
				p.Choices = choices
			}
			if v.OK() && p.Type == PropChoice {
				values, err := tx.PropertyValuesOf(ctx, a.TenantID, p.ID)
				if err != nil {
					return err
				}
				for _, val := range values {
					if _, msg := p.normalizeValue(val.Value); msg != "" {
						where := SourceGroup(val.GroupID)
						if val.UserID != 0 {
							where = fmt.Sprintf("user %d", val.UserID)
						}
						v.Add("choices", "the value %s set on %s is not among the choices; change it first", val.Value, where)
					}
				}
			}
		}
		if in.Default.Set {
			p.Default = checkDefault(&v, p, in.Default)
		} else if _, msg := p.normalizeValue(p.Default); msg != "" && v.OK() {
			v.Add("default", "the current default %s is not among the choices; give a new default", p.Default)
		}
		if err := v.Err(); err != nil {
			return err
		}
		p.UpdatedAt = s.nextUpdate(p.UpdatedAt)
		if err := tx.UpdateProperty(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "property.update", "property", p.ID, before, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DeleteProperty removes a tenant-defined property and every value set for
// it. The built-in ones stay (their label and default can be changed).
func (s *Service) DeleteProperty(ctx context.Context, a *Actor, key string) error {
	if err := s.requireCatalogueWrite(ctx, a, "deleting properties"); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindProperty, a.TenantID, key); err != nil {
			return err
		}
		p, err := propertyByKey(ctx, tx, a.TenantID, key)
		if err != nil {
			return err
		}
		if p.Builtin {
			return conflict(ReasonBuiltin, "the property %q is built in and cannot be deleted", key)
		}
		if err := tx.DeleteProperty(ctx, a.TenantID, p.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "property.delete", "property", p.ID, p, nil)
	})
}

// requireCatalogueWrite guards the tenant-wide catalogues (properties,
// skills): groups.manage through a role with the tenant scope, since a
// definition reaches every group.
func (s *Service) requireCatalogueWrite(ctx context.Context, a *Actor, what string) error {
	if err := a.requireWrite(PermGroupsManage); err != nil {
		return err
	}
	return s.requireTenantWide(ctx, a, what, PermGroupsManage)
}
