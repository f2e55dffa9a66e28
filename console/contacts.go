package console

import (
	"net/http"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
)

// The contacts page is the logged-in person's own: how they are paged
// (contact methods, each verified by a code sent to it) and when
// (notification rules). Nobody sees or changes another person's.
func (c *Console) contactRoutes() {
	c.mux.Handle("GET /contacts", c.page(nightjar.NeedRead, func(w http.ResponseWriter, r *http.Request, v *view) {
		f := newForm()
		f.set("kind", string(incident.ContactEmail))
		f.set("value", v.User.Email)
		c.renderContacts(w, r, v, http.StatusOK, f)
	}))
	c.mux.Handle("POST /contacts", c.page(nightjar.NeedRead, c.addContact))
	c.mux.Handle("POST /contacts/{id}/code", c.page(nightjar.NeedRead, c.sendContactCode))
	c.mux.Handle("POST /contacts/{id}/verify", c.page(nightjar.NeedRead, c.verifyContact))
	c.mux.Handle("POST /contacts/{id}/delete", c.page(nightjar.NeedRead, c.deleteContact))
	c.mux.Handle("POST /contacts/rules", c.page(nightjar.NeedRead, c.addNotificationRule))
	c.mux.Handle("POST /contacts/rules/{id}/delete", c.page(nightjar.NeedRead, c.deleteNotificationRule))
}

type contactsData struct {
	Methods []*incident.ContactMethod
	Rules   []*incident.NotificationRule
	Kinds   []incident.ContactKind
	Form    *form
	// Verifying is the method whose code form shows its error.
	Verifying string
}

// MethodName shows one of the person's methods in the rules list.
func (d contactsData) MethodName(id string) string {
	return nameOf(d.Methods, id, func(m *incident.ContactMethod) (string, string) {
		if m.Name != "" {
			return m.ID, m.Name
		}
		return m.ID, string(m.Kind) + " " + m.Value
	})
}

var contactInputs = []string{"kind", "name", "value", "code", "method", "delay"}

func (c *Console) renderContacts(w http.ResponseWriter, r *http.Request, v *view, status int, f *form) {
	ctx := r.Context()
	methods, err := c.response.ContactMethods(ctx, v.User.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rules, err := c.response.NotificationRules(ctx, v.User.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Title, v.Data = "My contact methods", contactsData{Methods: methods, Rules: rules, Kinds: incident.ContactKinds, Form: f, Verifying: f.V("verifying")}
	c.render(w, r, status, "contacts", v)
}

func (c *Console) addContact(w http.ResponseWriter, r *http.Request, v *view) {
	f := postedForm(r)
	m := &incident.ContactMethod{UserID: v.User.ID, Kind: incident.ContactKind(f.V("kind")), Name: f.V("name"), Value: f.V("value")}
	err := c.response.CreateContactMethod(r.Context(), m, c.clock.Now())
	if f.invalid(err, v, contactInputs...) {
		c.renderContacts(w, r, v, http.StatusBadRequest, f)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.sendCode(w, r, v, m)
}

func (c *Console) sendContactCode(w http.ResponseWriter, r *http.Request, v *view) {
	m, err := c.response.ContactMethod(r.Context(), v.User.ID, r.PathValue("id"))
	if !c.loaded(w, r, v, err) {
		return
	}
	c.sendCode(w, r, v, m)
}

// sendCode sends a new verification code to the method through the
// outbox, like every other message; a second within a minute is refused.
func (c *Console) sendCode(w http.ResponseWriter, r *http.Request, v *view, m *incident.ContactMethod) {
	err := c.response.SendVerificationCode(r.Context(), v.Project.ID, v.User.ID, m.ID, c.clock.Now())
	if nightjar.ErrorCode(err) == nightjar.ERATELIMIT {
		v.Error = nightjar.ErrorMessage(err)
		c.renderContacts(w, r, v, http.StatusTooManyRequests, newForm())
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/contacts#method-"+m.ID, http.StatusSeeOther)
}

func (c *Console) verifyContact(w http.ResponseWriter, r *http.Request, v *view) {
	f := postedForm(r)
	f.set("verifying", r.PathValue("id"))
	c.contactsChanged(w, r, v, f, c.response.Verify(r.Context(), v.User.ID, r.PathValue("id"), f.V("code"), c.clock.Now()))
}

// contactsChanged answers a contacts form: the page again with the
// problem beside its field, or back to the list.
func (c *Console) contactsChanged(w http.ResponseWriter, r *http.Request, v *view, f *form, err error) {
	if f.invalid(err, v, contactInputs...) {
		c.renderContacts(w, r, v, http.StatusBadRequest, f)
		return
	} else if !c.loaded(w, r, v, err) {
		return
	}
	http.Redirect(w, r, "/contacts", http.StatusSeeOther)
}

func (c *Console) deleteContact(w http.ResponseWriter, r *http.Request, v *view) {
	if err := c.response.DeleteContactMethod(r.Context(), v.User.ID, r.PathValue("id")); !c.loaded(w, r, v, err) {
		return
	}
	http.Redirect(w, r, "/contacts", http.StatusSeeOther)
}

func (c *Console) addNotificationRule(w http.ResponseWriter, r *http.Request, v *view) {
	f := postedForm(r)
	rule := &incident.NotificationRule{UserID: v.User.ID, Method: f.V("method")}
	var err error
	if rule.Delay, err = parseDelay("delay", f.V("delay")); err == nil {
		err = c.response.CreateNotificationRule(r.Context(), rule, c.clock.Now())
	}
	c.contactsChanged(w, r, v, f, err)
}

func (c *Console) deleteNotificationRule(w http.ResponseWriter, r *http.Request, v *view) {
	if err := c.response.DeleteNotificationRule(r.Context(), v.User.ID, r.PathValue("id")); !c.loaded(w, r, v, err) {
		return
	}
	http.Redirect(w, r, "/contacts", http.StatusSeeOther)
}
