// Package i18n holds the console's and the messages' words in every shipped
// language: one JSON message file per language (locales/xx.json, go-i18n's
// format), embedded. Adding a language is adding a file.
//
// A message's ID is its English text ("Invite users", "{{.Count}} users"),
// so templates stay readable and en.json is the English as shipped. Plurals
// follow CLDR's rules through go-i18n; numbers are formatted with
// golang.org/x/text/message; dates with the layouts each file names.
package i18n

import (
	"embed"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.json
var localeFiles embed.FS

// Default is the language used when nothing else matches, and the one whose
// file defines every message.
const Default = "en"

// Catalogue is every shipped language's messages, loaded once at start and
// passed to the front doors that render words.
type Catalogue struct {
	bundle  *goi18n.Bundle
	langs   []string // base codes, Default first
	tags    []language.Tag
	matcher language.Matcher
	byLang  map[string]*Localizer
	files   map[string]map[string]*goi18n.Message
}

// Load reads the embedded message files.
func Load() (*Catalogue, error) {
	return load(localeFiles, "locales")
}

func load(fsys fs.FS, dir string) (*Catalogue, error) {
	c := &Catalogue{bundle: goi18n.NewBundle(language.English), byLang: map[string]*Localizer{}, files: map[string]map[string]*goi18n.Message{}}
	names, err := fs.Glob(fsys, dir+"/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		mf, err := c.bundle.ParseMessageFileBytes(b, path.Base(name))
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		code := strings.TrimSuffix(path.Base(name), ".json")
		msgs := map[string]*goi18n.Message{}
		for _, m := range mf.Messages {
			msgs[m.ID] = m
		}
		c.files[code] = msgs
		c.langs = append(c.langs, code)
	}
	if c.files[Default] == nil {
		return nil, fmt.Errorf("i18n: no %s.json", Default)
	}
	slices.SortFunc(c.langs, func(a, b string) int {
		switch {
		case a == Default:
			return -1
		case b == Default:
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, code := range c.langs {
		tag := language.Make(code)
		c.tags = append(c.tags, tag)
		c.byLang[code] = c.newLocalizer(code, tag)
	}
	c.matcher = language.NewMatcher(c.tags)
	return c, nil
}

// MustLoad is Load for program start: the files are embedded, so a failure
// is a bug in a shipped file.
func MustLoad() *Catalogue {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Languages are the shipped languages' codes, English first.
func (c *Catalogue) Languages() []string { return slices.Clone(c.langs) }

// Messages returns the IDs of one language's file and, for each, its
// texts (one per plural form), for the tests that compare the files.
func (c *Catalogue) Messages(lang string) map[string][]string {
	out := map[string][]string{}
	for id, m := range c.files[lang] {
		var texts []string
		for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
			if s != "" {
				texts = append(texts, s)
			}
		}
		out[id] = texts
	}
	return out
}

// Match picks the shipped language for a person: each preference in turn
// (a user's or an invitation's language code, then Accept-Language
// headers); the first that matches a shipped language with at least high
// confidence wins, else the best guess of the last, else Default.
func (c *Catalogue) Match(prefs ...string) string {
	best := Default
	for _, p := range prefs {
		if p == "" {
			continue
		}
		tags, _, err := language.ParseAcceptLanguage(p)
		if err != nil || len(tags) == 0 {
			continue
		}
		_, i, conf := c.matcher.Match(tags...)
		if conf >= language.High {
			return c.langs[i]
		}
		if conf > language.No {
			best = c.langs[i]
		}
	}
	return best
}

// For returns the localizer of a shipped language (Match's answer), or
// Default's for any other code.
func (c *Catalogue) For(lang string) *Localizer {
	if l := c.byLang[lang]; l != nil {
		return l
	}
	return c.byLang[Default]
}

func (c *Catalogue) newLocalizer(code string, tag language.Tag) *Localizer {
	l := &Localizer{lang: code, loc: goi18n.NewLocalizer(c.bundle, code, Default), printer: message.NewPrinter(tag)}
	l.dateLayout = l.T("layout:date")
	l.dateTimeLayout = l.T("layout:datetime")
	return l
}

// Localizer renders the words of one language. It is safe for concurrent
// use: a request takes the one of its person's language.
type Localizer struct {
	lang           string
	loc            *goi18n.Localizer
	printer        *message.Printer
	dateLayout     string
	dateTimeLayout string
}

// Lang is the language's code, for the html lang attribute.
func (l *Localizer) Lang() string { return l.lang }

// T translates the message id. args are name/value pairs for the message's
// placeholders ({{.Name}}). A message missing from every file shows its ID,
// which is its English text; the catalogue tests keep that from shipping.
func (l *Localizer) T(id string, args ...any) string {
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: pairs(args)})
	if err != nil || s == "" {
		return id
	}
	return s
}

// N translates a message with plural forms for the count n, which the
// message shows as {{.Count}}, formatted for the language.
func (l *Localizer) N(id string, n int, args ...any) string {
	data := pairs(args)
	data["Count"] = l.Number(n)
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: n, TemplateData: data})
	if err != nil || s == "" {
		return strings.ReplaceAll(id, "{{.Count}}", l.Number(n))
	}
	return s
}

// HTML translates a message whose text holds markup (a link in a
// sentence). The markup comes from the shipped files; the arguments are
// escaped.
func (l *Localizer) HTML(id string, args ...any) template.HTML {
	for i := 1; i < len(args); i += 2 {
		args[i] = html.EscapeString(fmt.Sprint(args[i]))
	}
	return template.HTML(l.T(id, args...)) //nolint:gosec // markup from the embedded catalogue only
}

// Number writes a number with the language's digit grouping (1,234 / 1.234).
func (l *Localizer) Number(n any) string { return l.printer.Sprint(n) }

// Date writes a day in the language's layout.
func (l *Localizer) Date(t time.Time) string { return t.UTC().Format(l.dateLayout) }

// DateTime writes a moment in the language's layout, in UTC.
func (l *Localizer) DateTime(t time.Time) string { return t.UTC().Format(l.dateTimeLayout) }

// Ago says roughly how long ago t was, as of now.
func (l *Localizer) Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return l.T("just now")
	case d < time.Hour:
		return l.N("{{.Count}} minutes ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return l.N("{{.Count}} hours ago", int(d/time.Hour))
	case d < 60*24*time.Hour:
		return l.N("{{.Count}} days ago", int(d/(24*time.Hour)))
	}
	return l.Date(t)
}

// Printf translates a message given as a printf format (the core's errors
// name their message by its format: roster.Error.Key) and fills in args.
// A format without a translation is filled in as it is, in English.
func (l *Localizer) Printf(format string, args ...any) string {
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: format})
	if err != nil || s == "" {
		s = format
	}
	return fmt.Sprintf(s, args...)
}

func pairs(args []any) map[string]any {
	m := make(map[string]any, len(args)/2+1)
	for i := 0; i+1 < len(args); i += 2 {
		m[fmt.Sprint(args[i])] = args[i+1]
	}
	return m
}
