package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
)

func (c *Console) settingsRoutes() {
	c.mux.Handle("GET /channels", c.page(nightjar.NeedRead, c.channelsPage))
	c.mux.Handle("GET /channels/new", c.page(nightjar.NeedWrite, c.newChannelPage))
	c.mux.Handle("POST /channels/new", c.page(nightjar.NeedWrite, c.createChannel))
	c.mux.Handle("GET /channels/{id}/edit", c.page(nightjar.NeedWrite, c.editChannelPage))
	c.mux.Handle("POST /channels/{id}/edit", c.page(nightjar.NeedWrite, c.updateChannel))
	c.mux.Handle("POST /channels/{id}/test", c.page(nightjar.NeedWrite, c.testChannel))
	c.mux.Handle("POST /channels/{id}/delete", c.page(nightjar.NeedWrite, c.deleteChannel))
	c.mux.Handle("GET /settings", c.page(nightjar.NeedManage, c.settingsPage))
	c.mux.Handle("POST /settings/project", c.page(nightjar.NeedManage, c.renameProject))
	c.mux.Handle("POST /settings/members", c.page(nightjar.NeedManage, c.inviteMember))
	c.mux.Handle("POST /settings/members/{user}/role", c.page(nightjar.NeedManage, c.setRole))
	c.mux.Handle("POST /settings/members/{user}/remove", c.page(nightjar.NeedManage, c.removeMember))
	c.mux.Handle("POST /settings/invitations/{id}/delete", c.page(nightjar.NeedManage, c.withdrawInvitation))
	c.mux.Handle("POST /settings/keys", c.page(nightjar.NeedManage, c.createKey))
	c.mux.Handle("POST /settings/keys/{id}/revoke", c.page(nightjar.NeedManage, c.revokeKey))
	c.mux.HandleFunc("GET /invite/{token}", c.invitePage)
	c.mux.HandleFunc("POST /invite/{token}", c.acceptInvite)
}

type channelsData struct {
	Channels      []nightjar.Channel
	Notifications []delivery
}

// delivery is one message of the project's outbox as the channels page
// lists it: the message and the name of where it went.
type delivery struct {
	*outbox.Item
	// Destination names where the message went: a channel's name, or
	// the destination's kind and id when it is no channel of the project.
	Destination string
}

func (c *Console) channelsPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.renderChannels(w, r, v, http.StatusOK)
}

// renderChannels lists the project's channels as the viewer may see them:
// members and up see a webhook's full URL, which they may change anyway;
// viewers see it with its tokens masked. Nobody sees a secret again.
func (c *Console) renderChannels(w http.ResponseWriter, r *http.Request, v *view, status int) {
	chs, err := c.channels.List(r.Context(), v.Project.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	items, err := c.outbox.ByProject(r.Context(), v.Project.ID, 20)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	names := make(map[outbox.Destination]string, len(chs))
	shown := make([]nightjar.Channel, len(chs))
	for i, ch := range chs {
		names[outbox.Destination{Kind: outbox.ToChannel, ID: ch.ID}] = ch.Name
		if v.CanWrite() {
			shown[i] = ch.WithoutSecrets()
		} else {
			shown[i] = ch.Redacted()
		}
	}
	notes := make([]delivery, len(items))
	for i, it := range items {
		notes[i] = delivery{Item: it, Destination: names[it.To]}
		if notes[i].Destination == "" {
			notes[i].Destination = it.To.String()
		}
	}
	v.Title, v.Data = "Channels", channelsData{Channels: shown, Notifications: notes}
	c.render(w, r, status, "channels", v)
}

// channelFormData is what the channel form shows: every kind's settings,
// from the domain's descriptions, of which the page shows the chosen
// kind's; the values entered; and, when editing, which secrets are stored.
type channelFormData struct {
	// Channel is the stored channel without its secrets, nil on the
	// create form.
	Channel *nightjar.Channel
	Kinds   []nightjar.ChannelKind
	// Form holds "kind", "name" and the settings' values, keyed
	// "<kind>.<setting>"; secrets are never put back in a form.
	Form map[string]string
	// Stored says which secrets are set, keyed like Form, so the form can
	// say "leave empty to keep it".
	Stored map[string]bool
}

// newChannelForm returns the form for ch (nil: a new channel) holding
// form's values.
func newChannelForm(ch *nightjar.Channel, form map[string]string) channelFormData {
	d := channelFormData{Kinds: nightjar.ChannelKinds(), Form: form, Stored: map[string]bool{}}
	if ch != nil {
		shown := ch.WithoutSecrets()
		d.Channel = &shown
		if k, ok := nightjar.LookupChannelKind(ch.Kind); ok {
			for _, s := range k.Settings {
				if s.Secret && ch.Config.Text(s.Name) != "" {
					d.Stored[k.Name+"."+s.Name] = true
				}
			}
		}
	}
	return d
}

// storedForm is the form of a stored channel: its kind, name and
// settings, without secrets.
func storedForm(ch *nightjar.Channel) map[string]string {
	form := map[string]string{"kind": ch.Kind, "name": ch.Name}
	if k, ok := nightjar.LookupChannelKind(ch.Kind); ok {
		for _, s := range k.Settings {
			if !s.Secret {
				form[k.Name+"."+s.Name] = ch.Config.Text(s.Name)
			}
		}
	}
	return form
}

// channelForm reads the channel form as a patch, through the chosen
// kind's settings as the domain describes them. Each kind's fields are
// named "<kind>.<setting>", so the form can hold every kind's at once and
// work without JavaScript; a plain "<setting>" is read when the prefixed
// one is absent, for forms that hold one kind. An empty secret field keeps
// the stored secret, unless its box "remove_<setting>" asks to remove it.
// Stored headers (set through the API or a configuration file) are kept,
// or removed by their box; the form cannot show or enter them. Whether a
// kept secret may stay is nightjar.Channel.Apply's decision.
func channelForm(r *http.Request) (nightjar.ChannelPatch, map[string]string, error) {
	_ = r.ParseForm()
	kind := strings.TrimSpace(r.PostFormValue("kind"))
	value := func(name string) (string, bool) {
		if v, ok := r.PostForm[kind+"."+name]; ok {
			return v[0], true
		}
		v, ok := r.PostForm[name]
		if !ok {
			return "", false
		}
		return v[0], true
	}
	form := map[string]string{"kind": kind, "name": strings.TrimSpace(r.PostFormValue("name"))}
	u := nightjar.ChannelPatch{Kind: ptr(kind), Name: ptr(form["name"])}
	k, _ := nightjar.LookupChannelKind(kind)
	for _, s := range k.Settings {
		v, _ := value(s.Name)
		if s.Secret {
			if v == "" {
				if remove, _ := value("remove_" + s.Name); remove != "" {
					if err := u.Config.SetText(s.Name, ""); err != nil {
						return u, form, err
					}
				}
				continue
			}
		} else {
			v = strings.TrimSpace(v)
			form[kind+"."+s.Name] = v
		}
		if err := u.Config.SetText(s.Name, v); err != nil {
			return u, form, err
		}
	}
	if remove, _ := value("remove_headers"); kind == nightjar.ChannelWebhook && remove != "" {
		u.Config.Headers = &map[string]string{}
	}
	return u, form, nil
}

func ptr[T any](v T) *T { return &v }

func (c *Console) newChannelPage(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title, v.Data = "Add a channel", newChannelForm(nil, map[string]string{"kind": nightjar.ChannelWebhook})
	c.render(w, r, http.StatusOK, "channelform", v)
}

func (c *Console) editChannelPage(w http.ResponseWriter, r *http.Request, v *view) {
	ch := c.loadChannel(w, r, v)
	if ch == nil {
		return
	}
	v.Title, v.Data = "Edit "+ch.Name, newChannelForm(ch, storedForm(ch))
	c.render(w, r, http.StatusOK, "channelform", v)
}

func (c *Console) updateChannel(w http.ResponseWriter, r *http.Request, v *view) {
	ch := c.loadChannel(w, r, v)
	if ch == nil {
		return
	}
	u, form, err := channelForm(r)
	var saved *nightjar.Channel
	if err == nil {
		saved, err = c.channels.Edit(r.Context(), v.Project.ID, ch.ID, func(ch *nightjar.Channel) error { return ch.Apply(u) })
	}
	if nightjar.ErrorCode(err) == nightjar.EINVALID {
		v.Title, v.Error = "Edit "+ch.Name, nightjar.ErrorMessage(err)
		v.Data = newChannelForm(ch, form)
		c.render(w, r, http.StatusBadRequest, "channelform", v)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "channel.update", saved.Name, saved.Kind)
	http.Redirect(w, r, "/channels", http.StatusSeeOther)
}

func (c *Console) createChannel(w http.ResponseWriter, r *http.Request, v *view) {
	ch := &nightjar.Channel{ProjectID: v.Project.ID}
	u, form, err := channelForm(r)
	if err == nil {
		err = ch.Apply(u)
	}
	if err == nil {
		err = c.channels.Create(r.Context(), ch, c.clock.Now())
	}
	if nightjar.ErrorCode(err) == nightjar.EINVALID {
		v.Title, v.Error = "Add a channel", nightjar.ErrorMessage(err)
		v.Data = newChannelForm(nil, form)
		c.render(w, r, http.StatusBadRequest, "channelform", v)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "channel.create", ch.Name, ch.Kind)
	http.Redirect(w, r, "/channels", http.StatusSeeOther)
}

func (c *Console) loadChannel(w http.ResponseWriter, r *http.Request, v *view) *nightjar.Channel {
	ch, err := c.channels.Get(r.Context(), v.Project.ID, r.PathValue("id"))
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		c.notFound(w, r, v)
		return nil
	} else if err != nil {
		c.fail(w, r, err)
		return nil
	}
	return ch
}

func (c *Console) testChannel(w http.ResponseWriter, r *http.Request, v *view) {
	ch := c.loadChannel(w, r, v)
	if ch == nil {
		return
	}
	if _, err := c.channels.SendTest(r.Context(), ch, c.clock.Now()); nightjar.ErrorCode(err) == nightjar.ERATELIMIT {
		v.Error = nightjar.ErrorMessage(err)
		c.renderChannels(w, r, v, http.StatusTooManyRequests)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "channel.test", ch.Name, "")
	http.Redirect(w, r, "/channels#deliveries", http.StatusSeeOther)
}

func (c *Console) deleteChannel(w http.ResponseWriter, r *http.Request, v *view) {
	ch := c.loadChannel(w, r, v)
	if ch == nil {
		return
	}
	if err := c.channels.Delete(r.Context(), v.Project.ID, ch.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "channel.delete", ch.Name, "")
	http.Redirect(w, r, "/channels", http.StatusSeeOther)
}

type settingsData struct {
	Members     []*nightjar.Membership
	Invitations []*accounts.Invitation
	Keys        []*nightjar.APIKey
	Audit       []auditRow
	// AuditPage is the page of the audit log shown, from 1; OlderAudit
	// whether there are older entries.
	AuditPage  int
	OlderAudit bool
	NewKey     string
	InviteLink string
	Roles      []nightjar.Role
	// Owners is how many owners the project has: the only one is not
	// offered to remove themselves.
	Owners int
}

func (c *Console) renderSettings(w http.ResponseWriter, r *http.Request, v *view, status int, d settingsData) {
	ctx := r.Context()
	var err error
	if d.Members, err = c.accounts.Members(ctx, v.Project.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Invitations, err = c.accounts.Invitations(ctx, v.Project.ID, c.clock.Now()); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Keys, err = c.projects.Keys(ctx, v.Project.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	d.AuditPage, _ = strconv.Atoi(r.URL.Query().Get("audit"))
	d.AuditPage = max(d.AuditPage, 1)
	entries, err := c.auditLog.Page(ctx, v.Project.ID, auditPageSize+1, (d.AuditPage-1)*auditPageSize)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.OlderAudit = len(entries) > auditPageSize
	for _, e := range entries[:min(len(entries), auditPageSize)] {
		d.Audit = append(d.Audit, auditRow{AuditEntry: e, What: auditAction(e.Action)})
	}
	d.Roles = []nightjar.Role{nightjar.RoleViewer, nightjar.RoleMember, nightjar.RoleAdmin, nightjar.RoleOwner}
	for _, m := range d.Members {
		if m.Role == nightjar.RoleOwner {
			d.Owners++
		}
	}
	v.Title, v.Data = "Settings", d
	c.render(w, r, status, "settings", v)
}

// auditPageSize is how many audit entries one page of settings shows.
const auditPageSize = 50

// auditRow is an audit entry as the settings page shows it.
type auditRow struct {
	*nightjar.AuditEntry
	// What is the action in words.
	What string
}

// auditVerbs name the API's actions by their last path segment, for
// routes that end in one.
var auditVerbs = map[string]string{"pause": "pause", "resume": "resume", "test": "test", "revoke": "revoke", "ack": "acknowledge"}

// auditAction says what an audit entry's action did: the console records
// "check.update" already; an API call recorded as its route, such as
// "POST /api/v3/checks/{$}", becomes "check.create (API v3)".
func auditAction(action string) string {
	method, pattern, ok := strings.Cut(action, " ")
	if !ok || !strings.HasPrefix(pattern, "/api/") {
		return action
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(pattern, "/api/"), "/"), "/")
	version := parts[0]
	var object, verb string
	for i, p := range parts[1:] {
		switch {
		case strings.HasPrefix(p, "{"):
		case i > 0 && auditVerbs[p] != "":
			verb = auditVerbs[p]
		default:
			object = strings.TrimSuffix(p, "s")
		}
	}
	if verb == "" {
		id := strings.HasPrefix(parts[len(parts)-1], "{") && parts[len(parts)-1] != "{$}"
		switch {
		case method == http.MethodDelete:
			verb = "delete"
		case method == http.MethodPost && !id:
			verb = "create"
		default:
			verb = "update"
		}
	}
	return object + "." + verb + " (API " + version + ")"
}

func (c *Console) settingsPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.renderSettings(w, r, v, http.StatusOK, settingsData{})
}

// settingsError shows a user's mistake on the settings page, or fails.
func (c *Console) settingsError(w http.ResponseWriter, r *http.Request, v *view, err error) {
	switch nightjar.ErrorCode(err) {
	case nightjar.ENOTFOUND:
		c.notFound(w, r, v)
		return
	case nightjar.EINVALID, nightjar.ECONFLICT:
		v.Error = nightjar.ErrorMessage(err)
		c.renderSettings(w, r, v, http.StatusBadRequest, settingsData{})
		return
	}
	c.fail(w, r, err)
}

func (c *Console) renameProject(w http.ResponseWriter, r *http.Request, v *view) {
	p := *v.Project
	p.Name = strings.TrimSpace(r.PostFormValue("name"))
	if err := c.projects.Rename(r.Context(), &p); err != nil {
		c.settingsError(w, r, v, err)
		return
	}
	c.audit(r, v, "project.rename", p.Name, "from "+v.Project.Name)
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

func (c *Console) inviteMember(w http.ResponseWriter, r *http.Request, v *view) {
	email, role := strings.TrimSpace(r.PostFormValue("email")), nightjar.Role(r.PostFormValue("role"))
	ctx := r.Context()
	now := c.clock.Now()
	if u, err := c.accounts.UserByEmail(ctx, email); err == nil {
		if err := c.accounts.AddMember(ctx, v.Role, v.Project.ID, u.ID, role, now); err != nil {
			c.settingsError(w, r, v, err)
			return
		}
		c.audit(r, v, "member.add", u.Email, string(role))
		v.Flash = u.Email + " is now a " + string(role) + " of " + v.Project.Name + "."
		c.renderSettings(w, r, v, http.StatusOK, settingsData{})
		return
	}
	token, err := c.accounts.CreateInvitation(ctx, v.Role, v.Project.ID, email, role, v.User.Email, now, 7*24*time.Hour)
	if err != nil {
		c.settingsError(w, r, v, err)
		return
	}
	c.audit(r, v, "member.invite", email, string(role))
	v.Flash = "Send this link to " + email + ". It works once, for 7 days."
	c.renderSettings(w, r, v, http.StatusOK, settingsData{InviteLink: c.cfg.BaseURL + "/invite/" + token})
}

func (c *Console) setRole(w http.ResponseWriter, r *http.Request, v *view) {
	role := nightjar.Role(r.PostFormValue("role"))
	m, err := c.accounts.SetRole(r.Context(), v.Role, v.Project.ID, r.PathValue("user"), role)
	if err != nil {
		c.settingsError(w, r, v, err)
		return
	}
	c.audit(r, v, "member.role", m.Email, string(m.Role)+" → "+string(role))
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

func (c *Console) removeMember(w http.ResponseWriter, r *http.Request, v *view) {
	m, err := c.accounts.RemoveMember(r.Context(), v.Role, v.Project.ID, r.PathValue("user"))
	if err != nil {
		c.settingsError(w, r, v, err)
		return
	}
	c.audit(r, v, "member.remove", m.Email, string(m.Role))
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

func (c *Console) withdrawInvitation(w http.ResponseWriter, r *http.Request, v *view) {
	if err := c.accounts.DeleteInvitation(r.Context(), v.Project.ID, r.PathValue("id")); err != nil {
		c.settingsError(w, r, v, err)
		return
	}
	c.audit(r, v, "member.uninvite", r.PathValue("id"), "")
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

func (c *Console) createKey(w http.ResponseWriter, r *http.Request, v *view) {
	k := &nightjar.APIKey{ProjectID: v.Project.ID}
	err := nightjar.APIKeyPatch{Name: ptr(strings.TrimSpace(r.PostFormValue("name"))), Scope: ptr(nightjar.Scope(r.PostFormValue("scope")))}.Apply(k)
	secret := ""
	if err == nil {
		secret, err = c.projects.CreateKey(r.Context(), k, "", c.clock.Now())
	}
	if err != nil {
		c.settingsError(w, r, v, err)
		return
	}
	c.audit(r, v, "apikey.create", k.Name, string(k.Scope))
	v.Flash = "Copy the new key now; it is shown only once."
	c.renderSettings(w, r, v, http.StatusOK, settingsData{NewKey: secret})
}

func (c *Console) revokeKey(w http.ResponseWriter, r *http.Request, v *view) {
	if err := c.projects.RevokeKey(r.Context(), v.Project.ID, r.PathValue("id"), c.clock.Now()); err != nil {
		c.settingsError(w, r, v, err)
		return
	}
	c.audit(r, v, "apikey.revoke", r.PathValue("id"), "")
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

func (c *Console) invitePage(w http.ResponseWriter, r *http.Request) {
	inv, err := c.accounts.Invitation(r.Context(), r.PathValue("token"), c.clock.Now())
	v := &view{Title: "Join a project"}
	if err != nil {
		v.Error = nightjar.ErrorMessage(err)
		c.render(w, r, http.StatusNotFound, "invite", v)
		return
	}
	c.renderInvite(w, r, v, inv, http.StatusOK)
}

func (c *Console) renderInvite(w http.ResponseWriter, r *http.Request, v *view, inv *accounts.Invitation, status int) {
	p, err := c.projects.Get(r.Context(), inv.ProjectID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	_, err = c.accounts.UserByEmail(r.Context(), inv.Email)
	token := store.NewSecret(20)
	c.setCookie(w, r, loginCSRF, token, time.Hour)
	v.CSRF = token
	v.Data = map[string]any{"Invitation": inv, "ProjectName": p.Name, "Exists": err == nil}
	c.render(w, r, status, "invite", v)
}

func (c *Console) acceptInvite(w http.ResponseWriter, r *http.Request) {
	v := &view{Title: "Join a project"}
	token := r.PathValue("token")
	inv, err := c.accounts.Invitation(r.Context(), token, c.clock.Now())
	if err != nil {
		v.Error = nightjar.ErrorMessage(err)
		c.render(w, r, http.StatusNotFound, "invite", v)
		return
	}
	cookie, cerr := r.Cookie(loginCSRF)
	if cerr != nil || !c.validCSRF(r, cookie.Value) {
		v.Error = "The form expired. Please try again."
		c.renderInvite(w, r, v, inv, http.StatusForbidden)
		return
	}
	if r.PostFormValue("password") != r.PostFormValue("confirm") {
		v.Error = "The two passwords differ."
		c.renderInvite(w, r, v, inv, http.StatusBadRequest)
		return
	}
	// A new user's password is hashed: count it against the client, as
	// every password check is.
	if _, wait, ok := c.guard.allow("", c.client(r), c.clock.Now()); !ok {
		v.Error = tooMany(w, wait)
		c.renderInvite(w, r, v, inv, http.StatusTooManyRequests)
		return
	}
	if _, err := c.accounts.AcceptInvitation(r.Context(), token, r.PostFormValue("password"), c.clock.Now()); err != nil {
		if no := hashingTrouble(w, r, err); no != nil {
			v.Error = no.msg
			c.renderInvite(w, r, v, inv, no.status)
			return
		}
		if nightjar.ErrorCode(err) == nightjar.EINTERNAL {
			c.fail(w, r, err)
			return
		}
		v.Error = nightjar.ErrorMessage(err)
		c.renderInvite(w, r, v, inv, http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/login?next=%2F", http.StatusSeeOther)
}
