package console

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
)

// pageSize is how many checks one page of the checks list shows.
const pageSize = 100

// listQuery is the checks list's filters, order and page, as the URL
// holds them, so a filtered list can be bookmarked and shared.
type listQuery struct {
	Query, Status, Tag, Sort string
	Page                     int
}

func readListQuery(q url.Values) listQuery {
	l := listQuery{Query: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Tag: q.Get("tag"), Sort: q.Get("sort")}
	if !nightjar.ValidText(l.Query) {
		l.Query = ""
	}
	if !nightjar.ValidText(l.Tag) {
		l.Tag = ""
	}
	valid := false
	for _, st := range statuses {
		valid = valid || st == l.Status
	}
	if !valid {
		l.Status = ""
	}
	if l.Sort == "" || !checks.ValidSort(l.Sort) {
		l.Sort = checks.SortStatus
	}
	l.Page, _ = strconv.Atoi(q.Get("page"))
	l.Page = max(l.Page, 1)
	return l
}

func (l listQuery) filter() checks.Filter {
	f := checks.Filter{Query: l.Query, Status: l.Status, Sort: l.Sort, Limit: pageSize, Offset: (l.Page - 1) * pageSize}
	if l.Tag != "" {
		f.Tags = []string{l.Tag}
	}
	return f
}

// With returns the list's URL with one parameter changed (and the page
// back to the first unless the page is what changes).
func (l listQuery) With(key, value string) string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("q", l.Query)
	set("status", l.Status)
	set("tag", l.Tag)
	if l.Sort != checks.SortStatus {
		set("sort", l.Sort)
	}
	if key == "page" {
		set("page", value)
	} else {
		q.Del(key)
		if !(key == "sort" && value == checks.SortStatus) {
			set(key, value)
		}
	}
	if len(q) == 0 {
		return "/checks"
	}
	return "/checks?" + q.Encode()
}

// checksData is the checks list page.
type checksData struct {
	listQuery
	Rows  []checkRow
	Tags  []string
	Total int64
	// First and Last number the checks shown, from 1.
	First, Last int64
	Pages       int
	Statuses    []string
	Sorts       []sortChoice
	Done        string
}

type sortChoice struct{ Value, Label string }

var sortChoices = []sortChoice{{checks.SortStatus, "needs attention first"}, {checks.SortName, "name"},
	{checks.SortSince, "latest status change"}, {checks.SortLastPing, "latest ping"}, {checks.SortCreated, "oldest first"}}

// Prev and Next are the neighbouring pages' URLs, "" at either end.
func (d checksData) Prev() string {
	if d.Page <= 1 {
		return ""
	}
	return d.With("page", strconv.Itoa(d.Page-1))
}

// Next is the next page's URL, or "" on the last page.
func (d checksData) Next() string {
	if d.Page >= d.Pages {
		return ""
	}
	return d.With("page", strconv.Itoa(d.Page+1))
}

func (c *Console) loadList(r *http.Request, v *view) (checksData, error) {
	ctx := r.Context()
	d := checksData{listQuery: readListQuery(r.URL.Query()), Statuses: statuses, Sorts: sortChoices}
	f := d.filter()
	var err error
	if d.Total, err = c.checks.Count(ctx, v.Project.ID, f); err != nil {
		return d, err
	}
	d.Pages = max(1, int((d.Total+pageSize-1)/pageSize))
	found, err := c.checks.List(ctx, v.Project.ID, f)
	if err != nil {
		return d, err
	}
	now := c.clock.Now()
	for _, ch := range found {
		d.Rows = append(d.Rows, c.row(ch, now))
	}
	if len(d.Rows) > 0 {
		d.First = int64(f.Offset) + 1
		d.Last = int64(f.Offset + len(d.Rows))
	}
	return d, nil
}

func (c *Console) checksPage(w http.ResponseWriter, r *http.Request, v *view) {
	d, err := c.loadList(r, v)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Tags, err = c.checks.Tags(r.Context(), v.Project.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	d.Done = r.URL.Query().Get("done")
	v.Title, v.Data = "Checks", d
	c.render(w, r, http.StatusOK, "checks", v)
}

// rowView is what the row template receives.
type rowView struct {
	checkRow
	CanWrite bool
	Now      time.Time
}

// version changes whenever anything a row shows changes, except the
// passing of time, which the script shows by itself.
func (r checkRow) version() string {
	s := &r.State
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%d|%s|%s|%d|%d|%d|%d|%d|%t|%d", r.ID, r.UpdatedAt.UnixMilli(), s.Status, s.Reason, s.Since.UnixMilli(),
		s.LastPing.UnixMilli(), s.ExpectedAt.UnixMilli(), s.NextDeadline.UnixMilli(), s.LastStart.UnixMilli(), r.Overdue, s.NPings)
	return strconv.FormatUint(h.Sum64(), 36)
}

// Version is the row's version, for the page to compare on refresh.
func (r rowView) Version() string { return r.version() }

// rowViews pairs the page's rows with what every row template needs.
func (d checksData) rowViews(v *view, now time.Time) []rowView {
	out := make([]rowView, len(d.Rows))
	for i, r := range d.Rows {
		out[i] = rowView{checkRow: r, CanWrite: v.CanWrite(), Now: now}
	}
	return out
}

// RowViews are the page's rows ready for the row template.
func (v *view) RowViews() []rowView {
	d, ok := v.Data.(checksData)
	if !ok {
		return nil
	}
	return d.rowViews(v, v.Now)
}

// rowsUpdate is the answer to a refresh of the checks list: the rows of
// the page in order, each with its version, and the HTML of those the
// page does not have in that version.
type rowsUpdate struct {
	Down  int64       `json:"down"`
	Total int64       `json:"total"`
	Rows  []rowChange `json:"rows"`
}

type rowChange struct {
	ID      string `json:"id"`
	Version string `json:"v"`
	HTML    string `json:"html,omitempty"`
}

// checkRows answers the checks list's refresh: with 304 when no row of the
// page changed since the version the page has (its ETag), else with the
// page's row ids and versions, and the HTML of the rows whose version the
// page does not have (the "have" parameter lists id:version pairs).
func (c *Console) checkRows(w http.ResponseWriter, r *http.Request, v *view) {
	d, err := c.loadList(r, v)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	down, err := c.checks.Count(r.Context(), v.Project.ID, checks.Filter{Status: nightjar.StatusDown})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%d|", down, d.Total)
	for _, row := range d.Rows {
		fmt.Fprintf(h, "%s;", row.version())
	}
	etag := `"` + strconv.FormatUint(h.Sum64(), 36) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	have := map[string]bool{}
	for _, p := range strings.Split(r.URL.Query().Get("have"), ",") {
		have[p] = true
	}
	t := c.pages["checks"]
	up := rowsUpdate{Down: down, Total: d.Total, Rows: []rowChange{}}
	now := c.clock.Now()
	for _, rv := range d.rowViews(v, now) {
		ch := rowChange{ID: rv.ID, Version: rv.Version()}
		if !have[ch.ID+":"+ch.Version] {
			var b strings.Builder
			if err := t.ExecuteTemplate(&b, "row", rv); err != nil {
				c.fail(w, r, fmt.Errorf("render row: %w", err))
				return
			}
			ch.HTML = b.String()
		}
		up.Rows = append(up.Rows, ch)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(up)
}
