package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
)

// skillSetup is a tenant with two skills, a group profile on the top group
// and a personal profile of anna.
type skillSetup struct {
	*app
	chat, voice      *roster.Skill
	groupProf        *roster.Profile
	personal         *roster.Profile
	anna, ben, admin *roster.User
}

func newSkillSetup(t *testing.T) *skillSetup {
	t.Helper()
	a := newApp(t)
	ctx := context.Background()
	s := &skillSetup{app: a}
	s.admin = a.user("admin", roster.RoleAdmin)
	s.anna = a.user("anna", roster.RoleAgent)
	s.ben = a.user("ben", roster.RoleAgent)
	var err error
	if s.chat, err = a.svc.CreateSkill(ctx, a.sys, roster.SkillInput{Name: roster.Some("Chat")}); err != nil {
		t.Fatal(err)
	}
	if s.voice, err = a.svc.CreateSkill(ctx, a.sys, roster.SkillInput{Name: roster.Some("Voice")}); err != nil {
		t.Fatal(err)
	}
	if s.groupProf, err = a.svc.CreateGroupProfile(ctx, a.sys, a.group, roster.ProfileInput{Name: roster.Some("Frontline"),
		Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: s.chat.ID, Level: 40}})}); err != nil {
		t.Fatal(err)
	}
	if s.personal, err = a.svc.CreateUserProfile(ctx, a.sys, s.anna.ID, roster.ProfileInput{Name: roster.Some("Anna's evenings"),
		Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: s.voice.ID, Level: 70}})}); err != nil {
		t.Fatal(err)
	}
	// ben switches the group profile off; anna keeps it on.
	if _, err := a.svc.SetUserGroupProfiles(ctx, a.sys, s.ben.ID, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *skillSetup) profile(id int64) *roster.Profile {
	s.t.Helper()
	p, err := s.svc.Profile(context.Background(), s.sys, id)
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

func (s *skillSetup) skills() string {
	s.t.Helper()
	list, err := s.svc.ListSkills(context.Background(), s.sys)
	if err != nil {
		s.t.Fatal(err)
	}
	var names []string
	for _, sk := range list {
		names = append(names, sk.Name)
	}
	return strings.Join(names, ",")
}

// skillLevels renders a profile's skills as "Chat 40,Voice 70".
func skillLevels(p *roster.Profile) string {
	var out []string
	for _, ps := range p.Skills {
		out = append(out, fmt.Sprintf("%s %d", ps.Name, ps.Level))
	}
	return p.Name + ": " + strings.Join(out, ",")
}

// TestConsoleSkillEditAndDelete: rename a skill (an empty name is a field
// error and changes nothing); a skill a profile uses cannot be deleted and
// both the confirmation and the refusal say so; an unused one can.
func TestConsoleSkillEditAndDelete(t *testing.T) {
	s := newSkillSetup(t)
	c := s.client()
	c.signIn("admin")
	_, body := c.get("/properties")
	for _, link := range []string{fmt.Sprintf("/skills/%d/edit", s.chat.ID), fmt.Sprintf("/skills/%d/delete", s.chat.ID), "/properties/resource_filter/edit"} {
		if !strings.Contains(body, link) {
			t.Errorf("the properties page offers no %s", link)
		}
	}
	tok := c.csrf("/properties")
	edit := fmt.Sprintf("/skills/%d/edit", s.chat.ID)
	resp, body := c.post(edit, url.Values{"csrf": {tok}, "name": {"  "}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-name-error"`) {
		t.Errorf("an empty name: %d, field error shown: %v", resp.StatusCode, strings.Contains(body, `id="f-name-error"`))
	}
	resp, body = c.post(edit, url.Values{"csrf": {tok}, "name": {"voice"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `id="f-name-error"`) || !strings.Contains(body, "exists already") {
		t.Errorf("a taken name: %d", resp.StatusCode)
	}
	if got := s.skills(); got != "Chat,Voice" {
		t.Fatalf("refused renames changed the catalogue: %s", got)
	}
	resp, _ = c.post(edit, url.Values{"csrf": {tok}, "name": {"Live chat"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", resp.StatusCode)
	}
	if got := s.skills(); got != "Live chat,Voice" {
		t.Errorf("after the rename: %s", got)
	}
	if got := skillLevels(s.profile(s.groupProf.ID)); got != "Frontline: Live chat 40" {
		t.Errorf("the profile using the skill: %s", got)
	}

	// Used by the group profile: the confirmation says it will be refused.
	del := fmt.Sprintf("/skills/%d/delete", s.chat.ID)
	if _, body := c.get(del); !strings.Contains(body, "used in 1 profile") || !strings.Contains(body, "cannot be deleted") {
		t.Errorf("the confirmation of a used skill does not say it is used:\n%s", body)
	}
	resp, body = c.post(del, url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "take it out of them first") || !strings.Contains(body, `id="form-error"`) {
		t.Errorf("deleting a used skill: %d", resp.StatusCode)
	}
	if got := s.skills(); got != "Live chat,Voice" {
		t.Errorf("a refused delete changed the catalogue: %s", got)
	}

	// Unused: deleted.
	if _, err := s.svc.UpdateProfile(context.Background(), s.sys, s.groupProf.ID, roster.ProfileInput{Skills: roster.Some([]roster.ProfileSkillInput{})}); err != nil {
		t.Fatal(err)
	}
	if _, body := c.get(del); !strings.Contains(body, "No profile uses it") {
		t.Error("the confirmation of an unused skill does not say so")
	}
	resp, _ = c.post(del, url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if got := s.skills(); got != "Voice" {
		t.Errorf("after the delete: %s", got)
	}
	if resp, _ := c.get(del); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the deleted skill's page: %d", resp.StatusCode)
	}
}

// TestConsoleGroupProfileEditAndDelete: change a level, add a skill, remove
// one; bad levels and an empty name come back next to their fields and
// change nothing; the delete confirmation names who loses the profile.
func TestConsoleGroupProfileEditAndDelete(t *testing.T) {
	s := newSkillSetup(t)
	c := s.client()
	c.signIn("admin")
	if _, body := c.get(fmt.Sprintf("/groups/%d", s.group)); !strings.Contains(body, fmt.Sprintf("/profiles/%d/edit", s.groupProf.ID)) ||
		!strings.Contains(body, fmt.Sprintf("/profiles/%d/delete", s.groupProf.ID)) {
		t.Error("the group page offers no edit or delete of its profile")
	}
	edit := fmt.Sprintf("/profiles/%d/edit", s.groupProf.ID)
	_, body := c.get(edit)
	if !strings.Contains(body, `value="40"`) || !strings.Contains(body, `id="f-remove-0"`) {
		t.Error("the editor does not show the profile's skill and level")
	}
	tok := c.csrf(edit)
	chat, voice := fmt.Sprint(s.chat.ID), fmt.Sprint(s.voice.ID)
	before := skillLevels(s.profile(s.groupProf.ID))

	// Rows: 0 = Chat (existing), 1 = Voice (added), 2 = empty.
	for _, bad := range []struct {
		name, level0, level1 string
		field                string
	}{
		{"Frontline", "0", "50", "f-level-0-error"},
		{"Frontline", "40", "101", "f-level-1-error"},
		{"Frontline", "forty", "50", "f-level-0-error"},
		{"", "40", "50", "f-name-error"},
	} {
		resp, body := c.post(edit, url.Values{"csrf": {tok}, "name": {bad.name}, "skill_id": {chat, voice, ""}, "level": {bad.level0, bad.level1, ""}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="`+bad.field+`"`) {
			t.Errorf("%+v: %d, want 400 with %s", bad, resp.StatusCode, bad.field)
		}
		if bad.level1 == "101" && !strings.Contains(body, `value="101"`) {
			t.Error("the refused form lost what was typed")
		}
		if got := skillLevels(s.profile(s.groupProf.ID)); got != before {
			t.Errorf("%+v changed the profile to %s", bad, got)
		}
	}

	// Change the level and add a skill.
	resp, _ := c.post(edit, url.Values{"csrf": {tok}, "name": {"Frontline"}, "skill_id": {chat, voice, ""}, "level": {"55", "20", ""}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/groups/%d#profiles-h", s.group) {
		t.Fatalf("save: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := skillLevels(s.profile(s.groupProf.ID)); got != "Frontline: Chat 55,Voice 20" {
		t.Errorf("after the save: %s", got)
	}
	// Rename and remove Chat (row 0); a bad level in a removed row does not count.
	resp, _ = c.post(edit, url.Values{"csrf": {tok}, "name": {"Front line"}, "skill_id": {chat, voice, ""}, "level": {"0", "20", ""}, "remove": {"0"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if got := skillLevels(s.profile(s.groupProf.ID)); got != "Front line: Voice 20" {
		t.Errorf("after the removal: %s", got)
	}

	// Delete: anna had it on and is named; ben had switched it off.
	del := fmt.Sprintf("/profiles/%d/delete", s.groupProf.ID)
	_, body = c.get(del)
	losers := body[strings.Index(body, `id="profile-losers"`):]
	losers = losers[:strings.Index(losers, "</ul>\n")]
	if !strings.Contains(losers, "Anna") || strings.Contains(losers, "Ben") || !strings.Contains(losers, "every user of Acme Ltd") {
		t.Errorf("the confirmation does not say who loses the profile:\n%s", losers)
	}
	resp, _ = c.post(del, url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, err := s.svc.Profile(context.Background(), s.sys, s.groupProf.ID); roster.ErrorCode(err) != roster.ENotFound {
		t.Errorf("the profile is still there: %v", err)
	}
	_, body = c.get(fmt.Sprintf("/users/%d", s.anna.ID))
	list := body[strings.Index(body, `id="user-profiles"`):]
	list = list[:strings.Index(list, "</ul>")]
	if strings.Contains(list, "Front line") || !strings.Contains(list, "Anna&#39;s evenings") {
		t.Errorf("anna's profiles after the delete:\n%s", list)
	}
}

// TestConsolePersonalProfileEditAndDelete: the user pages offer edit and
// delete of personal profiles; the confirmation names the user.
func TestConsolePersonalProfileEditAndDelete(t *testing.T) {
	s := newSkillSetup(t)
	c := s.client()
	c.signIn("admin")
	for _, pg := range []string{fmt.Sprintf("/users/%d", s.anna.ID), fmt.Sprintf("/users/%d/edit", s.anna.ID)} {
		if _, body := c.get(pg); !strings.Contains(body, fmt.Sprintf("/profiles/%d/edit", s.personal.ID)) {
			t.Errorf("%s offers no edit of the personal profile", pg)
		}
	}
	edit := fmt.Sprintf("/profiles/%d/edit", s.personal.ID)
	tok := c.csrf(edit)
	voice := fmt.Sprint(s.voice.ID)
	resp, body := c.post(edit, url.Values{"csrf": {tok}, "name": {"Evenings"}, "skill_id": {voice}, "level": {"101"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-level-0-error"`) {
		t.Errorf("level 101: %d", resp.StatusCode)
	}
	if got := skillLevels(s.profile(s.personal.ID)); got != "Anna's evenings: Voice 70" {
		t.Errorf("a refused save changed the profile: %s", got)
	}
	resp, _ = c.post(edit, url.Values{"csrf": {tok}, "name": {"Evenings"}, "skill_id": {voice, fmt.Sprint(s.chat.ID)}, "level": {"100", "1"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/users/%d/edit#profiles-h", s.anna.ID) {
		t.Fatalf("save: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := skillLevels(s.profile(s.personal.ID)); got != "Evenings: Chat 1,Voice 100" {
		t.Errorf("after the save: %s", got)
	}
	del := fmt.Sprintf("/profiles/%d/delete", s.personal.ID)
	if _, body := c.get(del); !strings.Contains(body, "Anna (anna) loses it") {
		t.Error("the confirmation does not name the user")
	}
	resp, _ = c.post(del, url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	u, err := s.svc.User(context.Background(), s.sys, s.anna.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range u.Profiles {
		if p.Kind == roster.ProfilePersonal {
			t.Errorf("anna still has the personal profile %s", p.Name)
		}
	}
}

// TestConsolePropertyEdit: label and default change; key and type do not;
// bad input comes back next to its field and changes nothing.
func TestConsolePropertyEdit(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	ctx := context.Background()
	if _, err := a.svc.CreateProperty(ctx, a.sys, roster.PropertyInput{Key: roster.Some("queue_tier"), Label: roster.Some("Queue tier"),
		Type: roster.Some(roster.PropChoice), Choices: roster.Some([]string{"gold", "silver"})}); err != nil {
		t.Fatal(err)
	}
	c := a.client()
	c.signIn("admin")
	edit := "/properties/wrapup_timeout_phone/edit"
	_, body := c.get(edit)
	if !strings.Contains(body, `value="60"`) || !strings.Contains(body, "cannot be changed") {
		t.Error("the editor does not show the default or say the key and type are fixed")
	}
	tok := c.csrf(edit)
	prop := func(key string) string {
		p, err := a.svc.Property(ctx, a.sys, key)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s|%s|%s|%s", p.Key, p.Type, p.Label, p.Default)
	}
	for _, bad := range []struct{ label, def, field string }{
		{"", "60", "f-label-error"},
		{"Wrap-up", "sixty", "f-default-error"},
	} {
		resp, body := c.post(edit, url.Values{"csrf": {tok}, "label": {bad.label}, "default": {bad.def}, "key": {"other"}, "type": {"text"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="`+bad.field+`"`) {
			t.Errorf("%+v: %d", bad, resp.StatusCode)
		}
	}
	if got := prop("wrapup_timeout_phone"); got != "wrapup_timeout_phone|duration|Wrap-up timeout, phone|60" {
		t.Errorf("refused edits changed the property: %s", got)
	}
	resp, _ := c.post(edit, url.Values{"csrf": {tok}, "label": {"Wrap-up, phone"}, "default": {"90"}, "key": {"other"}, "type": {"text"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	if got := prop("wrapup_timeout_phone"); got != "wrapup_timeout_phone|duration|Wrap-up, phone|90" {
		t.Errorf("after the save: %s", got)
	}
	// A choice property: choices and a default among them.
	resp, body = c.post("/properties/queue_tier/edit", url.Values{"csrf": {tok}, "label": {"Queue tier"}, "default": {"bronze"}, "choices": {"gold\nsilver"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-default-error"`) {
		t.Errorf("a default outside the choices: %d", resp.StatusCode)
	}
	resp, _ = c.post("/properties/queue_tier/edit", url.Values{"csrf": {tok}, "label": {"Queue tier"}, "default": {"bronze"}, "choices": {"gold\nsilver\nbronze"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save the choice property: %d", resp.StatusCode)
	}
	if got := prop("queue_tier"); got != `queue_tier|choice|Queue tier|"bronze"` {
		t.Errorf("the choice property: %s", got)
	}
	// Choices may hold commas (the API takes them); a label-only edit sends
	// the form back as shown and must leave choices and default alone.
	if _, err := a.svc.CreateProperty(ctx, a.sys, roster.PropertyInput{Key: roster.Some("region"), Label: roster.Some("Region"),
		Type: roster.Some(roster.PropChoice), Choices: roster.Some([]string{"Sales, EMEA", "Sales, APAC"}),
		Default: roster.Some(json.RawMessage(`"Sales, EMEA"`))}); err != nil {
		t.Fatal(err)
	}
	_, body = c.get("/properties/region/edit")
	if !strings.Contains(body, "Sales, EMEA\nSales, APAC") {
		t.Fatalf("the editor does not show the choices one per line")
	}
	resp, _ = c.post("/properties/region/edit", url.Values{"csrf": {tok}, "label": {"Sales region"}, "default": {"Sales, EMEA"}, "choices": {"Sales, EMEA\r\nSales, APAC"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("label-only edit: %d", resp.StatusCode)
	}
	p, err := a.svc.Property(ctx, a.sys, "region")
	if err != nil {
		t.Fatal(err)
	}
	if p.Label != "Sales region" || strings.Join(p.Choices, "|") != "Sales, EMEA|Sales, APAC" || string(p.Default) != `"Sales, EMEA"` {
		t.Errorf("after a label-only edit: %+v", p)
	}
	// An edited list keeps the commas inside each line.
	resp, _ = c.post("/properties/region/edit", url.Values{"csrf": {tok}, "label": {"Sales region"}, "default": {"Sales, EMEA"}, "choices": {"Sales, EMEA\nSales, APAC\nSales, Americas"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("choices edit: %d", resp.StatusCode)
	}
	if p, _ = a.svc.Property(ctx, a.sys, "region"); strings.Join(p.Choices, "|") != "Sales, EMEA|Sales, APAC|Sales, Americas" {
		t.Errorf("after editing the choices: %q", p.Choices)
	}
}

// TestConsoleSkillProfileChangesNeedPermission: a read-only user is offered
// no controls and the core refuses their posts; an admin viewing as another
// admin sees the forms disabled and cannot post either.
func TestConsoleSkillProfileChangesNeedPermission(t *testing.T) {
	s := newSkillSetup(t)
	s.user("rita", roster.RoleReadOnly)
	s.user("boss", roster.RoleAdmin)
	before := skillLevels(s.profile(s.groupProf.ID)) + skillLevels(s.profile(s.personal.ID)) + s.skills()
	posts := func(c *client, tok string, want int, who string) {
		t.Helper()
		for path, form := range map[string]url.Values{
			fmt.Sprintf("/skills/%d/edit", s.chat.ID):          {"name": {"Renamed"}},
			fmt.Sprintf("/skills/%d/delete", s.voice.ID):       {},
			fmt.Sprintf("/profiles/%d/edit", s.groupProf.ID):   {"name": {"X"}, "skill_id": {fmt.Sprint(s.chat.ID)}, "level": {"9"}},
			fmt.Sprintf("/profiles/%d/edit", s.personal.ID):    {"name": {"X"}},
			fmt.Sprintf("/profiles/%d/delete", s.groupProf.ID): {},
			fmt.Sprintf("/profiles/%d/delete", s.personal.ID):  {},
			"/properties/wrapup_timeout_phone/edit":            {"label": {"X"}, "default": {"5"}},
		} {
			form.Set("csrf", tok)
			if resp, _ := c.post(path, form); resp.StatusCode != want {
				t.Errorf("%s: POST %s answers %d, want %d", who, path, resp.StatusCode, want)
			}
		}
		if got := skillLevels(s.profile(s.groupProf.ID)) + skillLevels(s.profile(s.personal.ID)) + s.skills(); got != before {
			t.Errorf("%s changed something: %s", who, got)
		}
		if p, _ := s.svc.Property(context.Background(), s.sys, "wrapup_timeout_phone"); p.Label != "Wrap-up timeout, phone" {
			t.Errorf("%s changed the property: %s", who, p.Label)
		}
	}

	rita := s.client()
	rita.signIn("rita")
	_, body := rita.get(fmt.Sprintf("/users/%d", s.anna.ID))
	if strings.Contains(body, "/profiles/") {
		t.Error("a read-only user is offered profile edits")
	}
	posts(rita, rita.csrf("/users"), http.StatusForbidden, "read-only user")

	admin := s.client()
	admin.signIn("admin")
	tok := admin.csrf("/users")
	boss, _ := s.svc.ListUsers(context.Background(), s.sys, roster.UserQuery{Q: "boss"})
	if resp, _ := admin.post(fmt.Sprintf("/users/%d/view-as", boss.Items[0].ID), url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("view as: %d", resp.StatusCode)
	}
	for _, pg := range []string{fmt.Sprintf("/profiles/%d/edit", s.groupProf.ID), fmt.Sprintf("/profiles/%d/delete", s.personal.ID),
		fmt.Sprintf("/skills/%d/edit", s.chat.ID), fmt.Sprintf("/skills/%d/delete", s.chat.ID), "/properties/wrapup_timeout_phone/edit"} {
		resp, body := admin.get(pg)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<fieldset disabled>") {
			t.Errorf("viewing as: %s answers %d, its form enabled: %v", pg, resp.StatusCode, !strings.Contains(body, "<fieldset disabled>"))
		}
	}
	posts(admin, admin.csrf("/users"), http.StatusForbidden, "viewing as")
}
