package console

import (
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/roster-dev/roster/internal/i18n"
	"github.com/roster-dev/roster/internal/roster"
)

var updateCatalogue = flag.Bool("update-en", false, "add the message IDs the console uses and en.json lacks to en.json")

// usedMessages are the message IDs the console's templates and handlers
// use: plain messages and messages with plural forms.
type usedMessages struct {
	plain, plural map[string]string // id -> where it is used
}

// templateMessages walks every template's parse tree for the translate
// calls (t, thtml, tn) and the labels and hints of field.
func templateMessages(t *testing.T, used *usedMessages) {
	// The parser only needs the functions' names: those loadPages defines.
	funcs := map[string]any{}
	for _, n := range []string{"static", "field", "datetime", "date", "isotime", "ago", "t", "tn", "thtml", "num", "status", "join", "has", "hasID", "add", "atoi", "dict", "idsafe", "brand", "enabledProfiles", "langname",
		"and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "index", "print", "printf", "println", "html", "js", "urlquery", "call", "slice"} {
		funcs[n] = func() {}
	}
	err := fs.WalkDir(templateFiles, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(templateFiles, path)
		if err != nil {
			return err
		}
		trees, err := parse.Parse(path, string(src), "{{", "}}", funcs)
		if err != nil {
			return err
		}
		for _, tree := range trees {
			walkNode(tree.Root, path, used)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func walkNode(n parse.Node, where string, used *usedMessages) {
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return
		}
		for _, c := range x.Nodes {
			walkNode(c, where, used)
		}
	case *parse.ActionNode:
		walkNode(x.Pipe, where, used)
	case *parse.PipeNode:
		if x == nil {
			return
		}
		for _, c := range x.Cmds {
			walkNode(c, where, used)
		}
	case *parse.CommandNode:
		if len(x.Args) > 1 {
			if id, ok := x.Args[0].(*parse.IdentifierNode); ok {
				str, isStr := x.Args[1].(*parse.StringNode)
				switch id.Ident {
				case "t", "thtml":
					if isStr {
						used.plain[str.Text] = where
					}
				case "tn":
					if isStr {
						used.plural[str.Text] = where
					}
				case "field":
					if len(x.Args) > 2 {
						if label, ok := x.Args[2].(*parse.StringNode); ok {
							used.plain[label.Text] = where
						}
					}
					for _, a := range x.Args[3:] {
						if s, ok := a.(*parse.StringNode); ok && strings.HasPrefix(s.Text, "hint=") && !strings.Contains(s.Text, "%") {
							used.plain[strings.TrimPrefix(s.Text, "hint=")] = where
						}
					}
				}
			}
		}
		for _, a := range x.Args {
			walkNode(a, where, used)
		}
	case *parse.IfNode:
		walkBranch(&x.BranchNode, where, used)
	case *parse.RangeNode:
		walkBranch(&x.BranchNode, where, used)
	case *parse.WithNode:
		walkBranch(&x.BranchNode, where, used)
	case *parse.TemplateNode:
		walkNode(x.Pipe, where, used)
	}
}

func walkBranch(b *parse.BranchNode, where string, used *usedMessages) {
	walkNode(b.Pipe, where, used)
	walkNode(b.List, where, used)
	walkNode(b.ElseList, where, used)
}

var (
	goPlain  = regexp.MustCompile(`(?:\.T\(|\bmsg\(|roster\.Errorf\(roster\.\w+, |, Key: )("(?:[^"\\]|\\.)*")`)
	goPlural = regexp.MustCompile(`\.N\(("(?:[^"\\]|\\.)*")`)
)

// goMessages finds the messages the handlers translate (p.T, p.N, .T of a
// localizer) and the IDs kept in tables (msg).
func goMessages(t *testing.T, used *usedMessages) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goPlain.FindAllSubmatch(src, -1) {
			id, err := strconv.Unquote(string(m[1]))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			used.plain[id] = f
		}
		for _, m := range goPlural.FindAllSubmatch(src, -1) {
			id, err := strconv.Unquote(string(m[1]))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			used.plural[id] = f
		}
	}
}

func consoleMessages(t *testing.T) *usedMessages {
	used := &usedMessages{plain: map[string]string{}, plural: map[string]string{}}
	templateMessages(t, used)
	goMessages(t, used)
	return used
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}|%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?[a-zA-Z]`)

// placeholders are a text's {{.Name}} and printf verbs, sorted. A plural
// form may leave out its count ("one user", "ein Benutzer"), so with plural
// the count is not compared.
func placeholders(s string, plural bool) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !plural || m[0] != "{{.Count}}" {
			out = append(out, m[0])
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// TestCatalogueComplete fails when a message the console uses is missing
// from a shipped language, or a language's text differs from English in
// its placeholders, or the files differ in their IDs.
func TestCatalogueComplete(t *testing.T) {
	cat := i18n.MustLoad()
	used := consoleMessages(t)
	if *updateCatalogue {
		writeMissingEnglish(t, cat, used)
		cat = i18n.MustLoad()
	}
	en := cat.Messages(i18n.Default)
	for _, lang := range cat.Languages() {
		msgs := cat.Messages(lang)
		for id, where := range used.plain {
			texts, ok := msgs[id]
			if !ok {
				t.Errorf("%s.json: no message %q (used in %s)", lang, id, where)
			} else if len(texts) != 1 {
				t.Errorf("%s.json: %q has plural forms but %s translates it as a plain message", lang, id, where)
			}
		}
		for id, where := range used.plural {
			if _, ok := msgs[id]; !ok {
				t.Errorf("%s.json: no plural message %q (used in %s)", lang, id, where)
			}
		}
		for id, texts := range msgs {
			if _, ok := en[id]; !ok {
				t.Errorf("%s.json: %q is not in en.json", lang, id)
			}
			if strings.HasPrefix(id, "layout:") {
				continue
			}
			_, plural := used.plural[id]
			want := placeholders(strings.Join(en[id], " "), plural)
			for _, text := range texts {
				if got := placeholders(text, plural); !slices.Equal(got, want) {
					t.Errorf("%s.json: %q has placeholders %v in %q; English has %v", lang, id, got, text, want)
				}
			}
		}
		for id := range en {
			if _, ok := msgs[id]; !ok {
				t.Errorf("%s.json: no message %q (en.json has it)", lang, id)
			}
		}
	}
}

// writeMissingEnglish adds what the console uses and en.json lacks, the
// English being the ID (plurals get one and other forms to edit).
func writeMissingEnglish(t *testing.T, cat *i18n.Catalogue, used *usedMessages) {
	path := filepath.Join("..", "i18n", "locales", "en.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	file := map[string]any{}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	for id := range used.plain {
		if _, ok := file[id]; !ok {
			file[id] = id
			if reservedID(id) {
				file[id] = map[string]string{"other": id}
			}
		}
	}
	for id := range used.plural {
		if _, ok := file[id]; !ok {
			file[id] = map[string]string{"one": id, "other": id}
		}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(file); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// reservedID reports whether go-i18n reads id as one of its own keys when
// its value is a plain string; such messages are written {"other": text}.
func reservedID(id string) bool {
	switch strings.ToLower(id) {
	case "id", "description", "hash", "leftdelim", "rightdelim", "zero", "one", "two", "few", "many", "other", "translation":
		return true
	}
	return false
}

// TestCatalogueCoreTexts: the permission catalogue's and the built-in
// roles' descriptions, which the console shows translated by their English
// text, are in every language.
func TestCatalogueCoreTexts(t *testing.T) {
	cat := i18n.MustLoad()
	var texts []string
	for _, p := range roster.PermissionCatalogue() {
		texts = append(texts, p.Description)
	}
	for _, r := range roster.BuiltinRoles() {
		texts = append(texts, r.Description)
	}
	for _, lang := range cat.Languages() {
		msgs := cat.Messages(lang)
		for _, text := range texts {
			if _, ok := msgs[text]; !ok {
				t.Errorf("%s.json: no message %q", lang, text)
			}
		}
	}
}
