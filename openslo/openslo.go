// Package openslo imports OpenSLO v1 documents (https://openslo.com) into
// Nightjar's SLO definitions, so that teams who keep their objectives in
// OpenSLO files can apply them as they are. It sits at the configuration
// front door, beside the YAML config: its output goes through the same
// validation as every other SLO definition. It is pure: bytes in,
// definitions out.
//
// # What is imported
//
// A file holds one or more YAML documents, each an object or a list of
// objects, of kinds SLO, SLI, Service, AlertPolicy and AlertCondition
// (AlertNotificationTarget objects are accepted and not used). Each SLO
// becomes one definition; its indicator is inline or an SLI named by
// indicatorRef, its alert policies inline, named, or named with
// alertPolicyRef, and their conditions inline or named with conditionRef.
//
// OpenSLO's metric sources are queries for another system. Nightjar
// measures SLOs from the spans and events it receives, so a metric source
// must have type Nightjar, and its spec says which requests count:
//
//	total or thresholdMetric: service, spanName, route, spanKind,
//	    operation (events instead of spans), attributes (a mapping)
//	good or bad: ignoreStatus, httpFrom, httpCodes (what a failure is;
//	    both say the same thing, good being what is not bad)
//
// A thresholdMetric is a latency indicator: the objective's op must be lte
// (or lt) and its value the threshold in milliseconds. Budgeting is by
// occurrences. A rolling window is given in days or weeks; a calendar one
// is 1M or 1Q starting at midnight on the first day of a month (of a
// quarter) in its time zone. An alert condition of kind burnrate becomes a
// rule with a fixed burn rate: lookbackWindow is the long window and
// alertAfter the short one (the burn over the last alertAfter must exceed
// the threshold too, which holds an alert back until the burn has lasted
// that long and ends it soon after the burn stops; without alertAfter the
// short window is a twelfth of the long one, as the SRE Workbook
// suggests). Severity page or critical pages; ticket or warning opens a
// ticket.
//
// Anything else is refused with an error naming the field, never dropped
// in silence: other metric source types, raw ratios, time slices, several
// objectives or conditions, alertWhenNoData. Fields that only describe
// (displayName, labels, annotations, descriptions of policies) are
// accepted; fields Nightjar accepts but does not act on (notification
// targets, alertWhenResolved: false) come back as notes.
package openslo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/slo"
)

// Limits on one import.
const (
	MaxBytes   = 1 << 20
	MaxObjects = 1000
)

// Note is something a file says that Nightjar accepts but does not act on.
type Note struct {
	Field   string
	Message string
}

// Result is what a file imports into.
type Result struct {
	SLOs  []slo.Definition
	Notes []Note
}

// object is one OpenSLO object of the file.
type object struct {
	path, kind, name string
	spec             *yaml.Node
}

type importer struct {
	nightjar.Problems
	reported map[string]bool
	notes    []Note
	objects  []*object
	byKind   map[string]map[string]*object
}

// Import reads OpenSLO v1 documents. It returns every problem at once, as
// one EINVALID error whose field is the first problem's path, such as
// "documents[2].spec.objectives[1]", documents being counted from zero
// across the file.
func Import(data []byte) (*Result, error) {
	im := &importer{byKind: map[string]map[string]*object{}, reported: map[string]bool{}}
	if len(data) > MaxBytes {
		im.Add("documents", "must be at most %d bytes", MaxBytes)
		return nil, im.Err()
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			im.Add("documents", "must be valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
			return nil, im.Err()
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := resolve(doc.Content[0])
		if root.Kind == yaml.SequenceNode {
			for _, item := range root.Content {
				im.object(item)
			}
		} else if !(root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
			im.object(root)
		}
		if len(im.objects) > MaxObjects {
			im.Add("documents", "must hold at most %d objects", MaxObjects)
			return nil, im.Err()
		}
	}
	res := &Result{}
	for _, o := range im.objects {
		if o.kind == "SLO" {
			if d, ok := im.slo(o); ok {
				res.SLOs = append(res.SLOs, d)
			}
		}
	}
	if len(im.objects) == 0 {
		im.Add("documents", "must hold at least one OpenSLO object")
	}
	if err := im.Err(); err != nil {
		return nil, err
	}
	res.Notes = im.notes
	return res, nil
}

// Add records a problem once: an object named by several others is read
// once for each, and its problems must be told once.
func (im *importer) Add(field, format string, args ...any) {
	e := nightjar.FieldError(field, format, args...)
	if !im.reported[e.Message] {
		im.reported[e.Message] = true
		im.Problems = append(im.Problems, e)
	}
}

func (im *importer) note(field, format string, args ...any) {
	n := Note{Field: field, Message: fmt.Sprintf(format, args...)}
	if !im.reported["note "+field] {
		im.reported["note "+field] = true
		im.notes = append(im.notes, n)
	}
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

// fields returns a mapping's values by key, refusing keys not allowed.
func (im *importer) fields(n *yaml.Node, path string, allowed ...string) (map[string]*yaml.Node, bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		im.Add(path, "must be a mapping")
		return nil, false
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		key := k.Value
		switch {
		case k.Kind != yaml.ScalarNode:
			im.Add(path, "must have plain keys")
		case !contains(allowed, key):
			im.Add(join(path, key), "is not a field Nightjar imports here; expected one of %s", strings.Join(allowed, ", "))
		case out[key] != nil:
			im.Add(join(path, key), "is given twice")
		default:
			out[key] = n.Content[i+1]
		}
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// str returns a scalar's text; an absent field is "" and fine unless
// required.
func (im *importer) str(n *yaml.Node, path string, required bool) (string, bool) {
	if n == nil {
		if required {
			im.Add(path, "is required")
		}
		return "", !required
	}
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		im.Add(path, "must be a single value")
		return "", false
	}
	if !nightjar.ValidText(n.Value) {
		im.Add(path, "must be valid UTF-8 text without NUL bytes")
		return "", false
	}
	return n.Value, true
}

func (im *importer) number(n *yaml.Node, path string) (float64, bool) {
	n = resolve(n)
	var f float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		im.Add(path, "must be a number")
		return 0, false
	}
	return f, true
}

func (im *importer) boolean(n *yaml.Node, path string) (bool, bool) {
	n = resolve(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		im.Add(path, "must be true or false")
		return false, false
	}
	return b, true
}

func (im *importer) list(n *yaml.Node, path string) []*yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		im.Add(path, "must be a list")
		return nil
	}
	return n.Content
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// kinds are the object kinds a file may hold, and the spec fields each
// may have.
var kinds = map[string][]string{
	"SLO":                     {"description", "service", "indicator", "indicatorRef", "budgetingMethod", "timeWindow", "objectives", "alertPolicies"},
	"SLI":                     {"description", "thresholdMetric", "ratioMetric"},
	"Service":                 {"description"},
	"AlertPolicy":             {"description", "alertWhenNoData", "alertWhenBreaching", "alertWhenResolved", "conditions", "notificationTargets"},
	"AlertCondition":          {"description", "severity", "condition"},
	"AlertNotificationTarget": {"description", "target"},
}

// object reads one object's header and files it by kind and name.
func (im *importer) object(n *yaml.Node) {
	path := fmt.Sprintf("documents[%d]", len(im.objects))
	o := &object{path: path}
	im.objects = append(im.objects, o)
	f, ok := im.fields(n, path, "apiVersion", "kind", "metadata", "spec")
	if !ok {
		return
	}
	if v, ok := im.str(f["apiVersion"], path+".apiVersion", true); ok && v != "openslo/v1" {
		im.Add(path+".apiVersion", "must be openslo/v1; got %.30q", v)
	}
	kind, ok := im.str(f["kind"], path+".kind", true)
	if !ok {
		return
	}
	if kind == "DataSource" {
		im.Add(path+".kind", "DataSource is not supported: Nightjar measures SLOs from the spans and events it receives, not from other systems' metrics")
		return
	}
	if _, known := kinds[kind]; !known {
		im.Add(path+".kind", "must be SLO, SLI, Service, AlertPolicy, AlertCondition or AlertNotificationTarget; got %.30q", kind)
		return
	}
	o.kind, o.name = kind, im.metadata(f["metadata"], path+".metadata")
	if f["spec"] == nil {
		im.Add(path+".spec", "is required")
		return
	}
	o.spec = f["spec"]
	// Check the spec's fields now, so unused objects are checked too.
	im.fields(o.spec, path+".spec", kinds[kind]...)
	if o.name == "" {
		return
	}
	if im.byKind[kind] == nil {
		im.byKind[kind] = map[string]*object{}
	}
	if prev := im.byKind[kind][o.name]; prev != nil {
		im.Add(path+".metadata.name", "names a second %s %q; the first is %s", kind, o.name, prev.path)
		return
	}
	im.byKind[kind][o.name] = o
}

// metadata returns the object's name; the rest of metadata describes.
func (im *importer) metadata(n *yaml.Node, path string) string {
	if n == nil {
		im.Add(path, "is required")
		return ""
	}
	f, ok := im.fields(n, path, "name", "displayName", "labels", "annotations")
	if !ok {
		return ""
	}
	name, ok := im.str(f["name"], path+".name", true)
	if ok && !nameRE.MatchString(name) {
		im.Add(path+".name", "must be at most 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit; got %.70q", name)
		return ""
	}
	if f["displayName"] != nil {
		im.str(f["displayName"], path+".displayName", false)
	}
	return name
}

// ref finds a named object of a kind, reporting a name that names none.
func (im *importer) ref(n *yaml.Node, path, kind string) *object {
	name, ok := im.str(n, path, true)
	if !ok {
		return nil
	}
	o := im.byKind[kind][name]
	if o == nil {
		im.Add(path, "names no %s in the file: %.70q", kind, name)
	}
	return o
}

// slo turns an SLO object into a definition.
func (im *importer) slo(o *object) (slo.Definition, bool) {
	before := len(im.Problems)
	p := o.path + ".spec"
	f, ok := im.fields(o.spec, p, kinds["SLO"]...)
	if !ok || o.name == "" {
		return slo.Definition{}, false
	}
	d := slo.Definition{Name: o.name}
	d.Service, _ = im.str(f["service"], p+".service", true)
	d.Description, _ = im.str(f["description"], p+".description", false)
	if m, ok := im.str(f["budgetingMethod"], p+".budgetingMethod", true); ok && m != "Occurrences" {
		im.Add(p+".budgetingMethod", "must be Occurrences: Nightjar counts good and bad requests, not time slices; got %.30q", m)
	}

	// The indicator: inline or an SLI by name.
	var sli *yaml.Node
	sliPath := ""
	switch {
	case (f["indicator"] == nil) == (f["indicatorRef"] == nil):
		im.Add(p+".indicator", "must be given inline or named with indicatorRef, not both or neither")
	case f["indicator"] != nil:
		if in, ok := im.fields(f["indicator"], p+".indicator", "metadata", "spec"); ok {
			if in["metadata"] != nil {
				im.metadata(in["metadata"], p+".indicator.metadata")
			}
			sli, sliPath = in["spec"], p+".indicator.spec"
			if sli == nil {
				im.Add(sliPath, "is required")
			}
		}
	default:
		if ref := im.ref(f["indicatorRef"], p+".indicatorRef", "SLI"); ref != nil {
			sli, sliPath = ref.spec, ref.path+".spec"
		}
	}
	objectives := []*yaml.Node(nil)
	if f["objectives"] == nil {
		im.Add(p+".objectives", "is required")
	} else if objectives = im.list(f["objectives"], p+".objectives"); len(objectives) > 1 {
		im.Add(fmt.Sprintf("%s.objectives[1]", p), "is one objective too many: a Nightjar SLO has one objective; write one SLO per objective")
	} else if len(objectives) == 0 {
		im.Add(p+".objectives", "must hold one objective")
	}
	var objective *yaml.Node
	if len(objectives) > 0 {
		objective = objectives[0]
	}
	if sli != nil {
		im.indicator(&d, sli, sliPath, objective, p+".objectives[0]")
	}
	im.timeWindow(&d, f["timeWindow"], p+".timeWindow")
	if f["alertPolicies"] != nil {
		for i, pol := range im.list(f["alertPolicies"], p+".alertPolicies") {
			im.policy(&d, pol, fmt.Sprintf("%s.alertPolicies[%d]", p, i))
		}
	}
	if len(im.Problems) > before {
		return d, false
	}
	// What the import let through must be a valid definition; what is
	// not is reported against the SLO with Nightjar's field name.
	for _, prob := range d.Problems() {
		im.Add(o.path, "does not make a valid Nightjar SLO: %s", prob.Message)
	}
	return d, len(im.Problems) == before
}

// indicator reads an SLI's spec, with the SLO's objective, which holds a
// threshold indicator's threshold.
func (im *importer) indicator(d *slo.Definition, n *yaml.Node, p string, objective *yaml.Node, op string) {
	f, ok := im.fields(n, p, kinds["SLI"]...)
	if !ok {
		return
	}
	of := map[string]*yaml.Node{}
	if objective != nil {
		of, _ = im.fields(objective, op, "displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow")
		for _, k := range []string{"timeSliceTarget", "timeSliceWindow"} {
			if of[k] != nil {
				im.Add(join(op, k), "is for time-slice budgeting, which Nightjar does not do")
			}
		}
		im.target(d, of, op)
	}
	switch {
	case (f["ratioMetric"] == nil) == (f["thresholdMetric"] == nil):
		im.Add(p+".ratioMetric", "or thresholdMetric must be given, not both or neither")
	case f["ratioMetric"] != nil:
		d.Indicator.Kind = slo.KindAvailability
		for _, k := range []string{"op", "value"} {
			if of[k] != nil {
				im.Add(join(op, k), "is for a thresholdMetric; a ratioMetric's objective has only a target")
			}
		}
		im.ratio(d, f["ratioMetric"], p+".ratioMetric")
	default:
		d.Indicator.Kind = slo.KindLatency
		d.Indicator.Selector = im.selector(f["thresholdMetric"], p+".thresholdMetric")
		if objective == nil {
			return
		}
		if o, ok := im.str(of["op"], join(op, "op"), true); ok && o != "lte" && o != "lt" {
			im.Add(join(op, "op"), "must be lte (or lt): a request is good when its duration is at most the value; got %.10q", o)
		}
		if of["value"] == nil {
			im.Add(join(op, "value"), "is required: the slowest good request in milliseconds")
		} else if v, ok := im.number(of["value"], join(op, "value")); ok {
			if v < 1 || v > float64(slo.MaxThreshold/time.Millisecond) {
				im.Add(join(op, "value"), "must be a duration in milliseconds from 1 to %d; got %v", slo.MaxThreshold/time.Millisecond, v)
			} else {
				d.Indicator.Threshold = strconv.FormatFloat(v, 'f', -1, 64) + "ms"
			}
		}
	}
}

func (im *importer) target(d *slo.Definition, of map[string]*yaml.Node, op string) {
	switch {
	case (of["target"] == nil) == (of["targetPercent"] == nil):
		im.Add(join(op, "target"), "or targetPercent must be given, not both or neither")
	case of["target"] != nil:
		if v, ok := im.number(of["target"], join(op, "target")); ok {
			if v <= 0 || v >= 1 {
				im.Add(join(op, "target"), "must be more than 0 and less than 1, such as 0.999; got %v", v)
			}
			d.Objective = v * 100
		}
	default:
		if v, ok := im.number(of["targetPercent"], join(op, "targetPercent")); ok {
			if v <= 0 || v >= 100 {
				im.Add(join(op, "targetPercent"), "must be more than 0 and less than 100, such as 99.9; got %v", v)
			}
			d.Objective = v
		}
	}
}

func (im *importer) ratio(d *slo.Definition, n *yaml.Node, p string) {
	f, ok := im.fields(n, p, "counter", "good", "bad", "total", "rawType", "raw")
	if !ok {
		return
	}
	if f["counter"] != nil {
		im.boolean(f["counter"], p+".counter")
	}
	for _, k := range []string{"raw", "rawType"} {
		if f[k] != nil {
			im.Add(p+"."+k, "is not supported: a raw ratio is computed by another system; Nightjar counts requests itself, so give good or bad with total")
		}
	}
	if f["total"] == nil {
		im.Add(p+".total", "is required: it selects the requests counted")
	} else {
		d.Indicator.Selector = im.selector(f["total"], p+".total")
	}
	key := "good"
	switch {
	case f["good"] != nil && f["bad"] != nil:
		im.Add(p+".bad", "must not be given with good")
		return
	case f["bad"] != nil:
		key = "bad"
	case f["good"] == nil:
		im.Add(p+".good", "or bad is required")
		return
	}
	spec := im.source(f[key], p+"."+key)
	if spec == nil {
		return
	}
	sf, ok := im.fields(spec, p+"."+key+".metricSource.spec", "ignoreStatus", "httpFrom", "httpCodes")
	if !ok {
		return
	}
	rules := &slo.ErrorRules{}
	sp := p + "." + key + ".metricSource.spec"
	if sf["ignoreStatus"] != nil {
		rules.IgnoreStatus, _ = im.boolean(sf["ignoreStatus"], sp+".ignoreStatus")
	}
	if sf["httpFrom"] != nil {
		if v, ok := im.number(sf["httpFrom"], sp+".httpFrom"); ok {
			if v != math.Trunc(v) || v < 400 || v > 600 {
				im.Add(sp+".httpFrom", "must be a whole number from 400 to 600; got %v", v)
			}
			rules.HTTPFrom = int(v)
		}
	}
	if sf["httpCodes"] != nil {
		for i, c := range im.list(sf["httpCodes"], sp+".httpCodes") {
			field := fmt.Sprintf("%s.httpCodes[%d]", sp, i)
			if v, ok := im.number(c, field); ok {
				if v != math.Trunc(v) || v < 100 || v > 599 {
					im.Add(field, "must be an HTTP status from 100 to 599; got %v", v)
				}
				rules.HTTPCodes = append(rules.HTTPCodes, int(v))
			}
		}
	}
	if len(sf) > 0 {
		d.Indicator.Errors = rules
	}
}

// source reads a metric's metricSource and returns its spec, which may be
// an empty mapping.
func (im *importer) source(n *yaml.Node, p string) *yaml.Node {
	f, ok := im.fields(n, p, "metricSource")
	if !ok {
		return nil
	}
	if f["metricSource"] == nil {
		im.Add(p+".metricSource", "is required")
		return nil
	}
	p += ".metricSource"
	ms, ok := im.fields(f["metricSource"], p, "metricSourceRef", "type", "spec")
	if !ok {
		return nil
	}
	if ms["metricSourceRef"] != nil {
		im.Add(p+".metricSourceRef", "is not supported: Nightjar has no data sources; give type: Nightjar instead")
		return nil
	}
	if t, ok := im.str(ms["type"], p+".type", true); ok && !strings.EqualFold(t, "Nightjar") {
		im.Add(p+".type", "must be Nightjar: Nightjar measures SLOs from the spans and events it receives and cannot query %.30s", t)
		return nil
	}
	if ms["spec"] == nil {
		return &yaml.Node{Kind: yaml.MappingNode}
	}
	return ms["spec"]
}

func (im *importer) selector(n *yaml.Node, p string) slo.Selector {
	var s slo.Selector
	spec := im.source(n, p)
	if spec == nil {
		return s
	}
	sp := p + ".metricSource.spec"
	f, ok := im.fields(spec, sp, "service", "spanName", "route", "spanKind", "operation", "attributes")
	if !ok {
		return s
	}
	for key, dst := range map[string]*string{"service": &s.Service, "spanName": &s.SpanName, "route": &s.Route, "spanKind": &s.SpanKind, "operation": &s.Operation} {
		*dst, _ = im.str(f[key], sp+"."+key, false)
	}
	if f["attributes"] != nil {
		a := resolve(f["attributes"])
		if a.Kind != yaml.MappingNode {
			im.Add(sp+".attributes", "must be a mapping of attribute names to values")
			return s
		}
		s.Attributes = map[string]string{}
		for i := 0; i+1 < len(a.Content); i += 2 {
			k := resolve(a.Content[i]).Value
			v, ok := im.str(a.Content[i+1], sp+".attributes."+k, true)
			if ok {
				s.Attributes[k] = v
			}
		}
	}
	return s
}

var shorthandRE = regexp.MustCompile(`^([1-9][0-9]{0,5})([mhdwMQY])$`)

func (im *importer) timeWindow(d *slo.Definition, n *yaml.Node, p string) {
	if n == nil {
		im.Add(p, "is required: Nightjar needs the window an SLO is judged over")
		return
	}
	items := im.list(n, p)
	if len(items) != 1 {
		if items != nil || resolve(n).Kind == yaml.SequenceNode {
			im.Add(p, "must hold exactly one window")
		}
		return
	}
	p += "[0]"
	f, ok := im.fields(items[0], p, "duration", "isRolling", "calendar")
	if !ok {
		return
	}
	dur, ok := im.str(f["duration"], p+".duration", true)
	m := shorthandRE.FindStringSubmatch(dur)
	if ok && m == nil {
		im.Add(p+".duration", "must be a number and a unit (m, h, d, w, M, Q or Y), such as 30d; got %.30q", dur)
		return
	}
	rolling := f["calendar"] == nil
	if f["isRolling"] != nil {
		if r, ok := im.boolean(f["isRolling"], p+".isRolling"); ok {
			if r && !rolling {
				im.Add(p+".isRolling", "must be false for a calendar window")
			}
			if !r && rolling {
				im.Add(p+".calendar", "is required for a window that is not rolling")
			}
		}
	}
	if m == nil {
		return
	}
	if rolling {
		n, _ := strconv.Atoi(m[1])
		switch {
		case m[2] == "d" || m[2] == "w":
			d.Window.Rolling = dur
		case m[2] == "h" && n%24 == 0:
			d.Window.Rolling = strconv.Itoa(n/24) + "d"
		default:
			im.Add(p+".duration", "must be whole days or weeks for a rolling window, such as 28d or 4w; got %.30q", dur)
		}
		return
	}
	switch dur {
	case "1M":
		d.Window.Calendar = slo.CalendarMonth
	case "1Q":
		d.Window.Calendar = slo.CalendarQuarter
	default:
		im.Add(p+".duration", "must be 1M or 1Q for a calendar window: Nightjar's calendar windows are months and quarters; got %.30q", dur)
		return
	}
	cf, ok := im.fields(f["calendar"], p+".calendar", "startTime", "timeZone")
	if !ok {
		return
	}
	zone, ok := im.str(cf["timeZone"], p+".calendar.timeZone", true)
	if ok {
		if _, err := nightjar.LoadLocation(zone); err != nil {
			im.Add(p+".calendar.timeZone", "must be an IANA time zone name such as America/New_York; got %.100q", zone)
		}
		d.Window.TimeZone = zone
	}
	start, ok := im.str(cf["startTime"], p+".calendar.startTime", true)
	if !ok {
		return
	}
	t, err := time.Parse("2006-01-02 15:04:05", start)
	switch {
	case err != nil:
		im.Add(p+".calendar.startTime", "must be a date and time such as 2024-01-01 00:00:00; got %.40q", start)
	case t.Day() != 1 || t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 ||
		(dur == "1Q" && (t.Month()-1)%3 != 0):
		im.Add(p+".calendar.startTime", "must be midnight on the first day of a %s, such as 2024-01-01 00:00:00: Nightjar's calendar windows follow the calendar; got %.40q",
			map[string]string{"1M": "month", "1Q": "quarter"}[dur], start)
	}
}

// linked reads an entry that is an object of a kind given inline or named:
// by a bare name when bare is set, or as {refKey: name}. It returns the
// object's spec and the spec's path, or nil.
func (im *importer) linked(n *yaml.Node, p, kind, refKey string, bare bool) (*yaml.Node, string) {
	n = resolve(n)
	var o *object
	switch {
	case bare && n.Kind == yaml.ScalarNode:
		o = im.ref(n, p, kind)
	case n.Kind == yaml.MappingNode && len(n.Content) == 2 && resolve(n.Content[0]).Value == refKey:
		o = im.ref(n.Content[1], p+"."+refKey, kind)
	default:
		f, ok := im.fields(n, p, "apiVersion", "kind", "metadata", "spec")
		if !ok {
			return nil, ""
		}
		if k, ok := im.str(f["kind"], p+".kind", true); ok && k != kind {
			im.Add(p+".kind", "must be %s; got %.30q", kind, k)
		}
		if f["metadata"] != nil {
			im.metadata(f["metadata"], p+".metadata")
		}
		if f["spec"] == nil {
			im.Add(p+".spec", "is required")
		}
		return f["spec"], p + ".spec"
	}
	if o == nil {
		return nil, ""
	}
	return o.spec, o.path + ".spec"
}

// policy reads one entry of alertPolicies: a name, {alertPolicyRef: name}
// or an inline policy.
func (im *importer) policy(d *slo.Definition, n *yaml.Node, p string) {
	spec, specPath := im.linked(n, p, "AlertPolicy", "alertPolicyRef", true)
	if spec == nil {
		return
	}
	f, ok := im.fields(spec, specPath, kinds["AlertPolicy"]...)
	if !ok {
		return
	}
	flag := func(key string) (bool, bool) {
		if f[key] == nil {
			return false, false
		}
		return im.boolean(f[key], specPath+"."+key)
	}
	if v, ok := flag("alertWhenNoData"); ok && v {
		im.Add(specPath+".alertWhenNoData", "must be false: Nightjar does not alert on missing data; its minimum-traffic guard holds alerts back instead")
	}
	if v, ok := flag("alertWhenBreaching"); ok && !v {
		im.Add(specPath+".alertWhenBreaching", "must be true: a policy that does not alert on a breach does nothing")
	}
	if v, ok := flag("alertWhenResolved"); ok && !v {
		im.note(specPath+".alertWhenResolved", "Nightjar always tells when an alert resolves")
	}
	if f["notificationTargets"] != nil {
		im.note(specPath+".notificationTargets", "Nightjar routes alerts to the team that owns the service; notification targets are not imported")
	}
	if f["conditions"] == nil {
		im.Add(specPath+".conditions", "is required")
		return
	}
	conds := im.list(f["conditions"], specPath+".conditions")
	if len(conds) != 1 {
		if conds != nil {
			im.Add(specPath+".conditions", "must hold exactly one condition, as OpenSLO v1 says")
		}
		return
	}
	im.condition(d, conds[0], specPath+".conditions[0]")
}

// condition reads a policy's condition: {conditionRef: name} or inline.
func (im *importer) condition(d *slo.Definition, n *yaml.Node, p string) {
	spec, specPath := im.linked(n, p, "AlertCondition", "conditionRef", false)
	if spec == nil {
		return
	}
	f, ok := im.fields(spec, specPath, kinds["AlertCondition"]...)
	if !ok {
		return
	}
	rule := slo.Rule{}
	if sev, ok := im.str(f["severity"], specPath+".severity", true); ok {
		switch strings.ToLower(sev) {
		case "page", "critical":
			rule.Severity = "page"
		case "ticket", "warning":
			rule.Severity = "ticket"
		default:
			im.Add(specPath+".severity", "must be page or critical (which page someone) or ticket or warning (which open a ticket); got %.30q", sev)
		}
	}
	if f["condition"] == nil {
		im.Add(specPath+".condition", "is required")
		return
	}
	cp := specPath + ".condition"
	c, ok := im.fields(f["condition"], cp, "kind", "op", "threshold", "lookbackWindow", "alertAfter")
	if !ok {
		return
	}
	if k, ok := im.str(c["kind"], cp+".kind", false); ok && k != "" && k != "burnrate" {
		im.Add(cp+".kind", "must be burnrate; got %.30q", k)
	}
	if o, ok := im.str(c["op"], cp+".op", false); ok && o != "" && o != "gt" && o != "gte" {
		im.Add(cp+".op", "must be gt or gte: a burn-rate condition fires when the burn rate is above its threshold; got %.10q", o)
	}
	if c["threshold"] == nil {
		im.Add(cp+".threshold", "is required")
	} else if v, ok := im.number(c["threshold"], cp+".threshold"); ok {
		if v <= 0 || v > slo.MaxBurnRate {
			im.Add(cp+".threshold", "must be a burn rate more than 0 and at most %d; got %v", slo.MaxBurnRate, v)
		}
		rule.BurnRate = v
	}
	long, okLong := im.window(c["lookbackWindow"], cp+".lookbackWindow", true)
	short, okShort := im.window(c["alertAfter"], cp+".alertAfter", false)
	if okLong {
		rule.LongWindow = long
		if short == "" || short == "0m" {
			d, _ := slo.ParseLength(long)
			short = strconv.Itoa(max(int(d/time.Minute)/12, 1)) + "m"
		}
	}
	if okShort {
		rule.ShortWindow = short
	}
	d.Alerting.Rules = append(d.Alerting.Rules, rule)
}

// window reads a duration shorthand for an alert window: whole minutes,
// hours, days or weeks.
func (im *importer) window(n *yaml.Node, p string, required bool) (string, bool) {
	s, ok := im.str(n, p, required)
	if !ok || s == "" {
		return "", ok
	}
	if s == "0m" && !required {
		return s, true
	}
	if _, ok := slo.ParseLength(s); !ok {
		im.Add(p, "must be a length in minutes, hours, days or weeks, such as 5m or 1h; got %.30q", s)
		return "", false
	}
	return s, true
}
