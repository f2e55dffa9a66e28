// Nightjar console enhancements. Every page works without this script;
// it shows times in the viewer's zone, copies text, previews schedules
// and refreshes status while the page is open.
"use strict";

// How far a time is from now, in words, as the server writes it.
function ago(d) {
  const s = Math.round((Date.now() - d.getTime()) / 1000), a = Math.abs(s);
  if (a < 1) return "just now";
  let t;
  if (a < 60) t = a + " s";
  else if (a < 3600) t = Math.floor(a / 60) + " min";
  else if (a < 172800) { const h = Math.floor(a / 3600), m = Math.floor(a % 3600 / 60); t = h + " h" + (m ? " " + m + " min" : ""); }
  else t = Math.floor(a / 86400) + " days";
  return s < 0 ? "in " + t : t + " ago";
}

// Times: relative ones kept current, with the exact local time on hover;
// deadlines as a local time of day; others as a local date and time.
function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const d = new Date(el.getAttribute("datetime"));
    if (isNaN(d)) continue;
    const exact = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
    if (el.hasAttribute("data-rel")) {
      el.textContent = ago(d);
      el.title = exact;
    } else if (el.hasAttribute("data-clock")) {
      el.textContent = d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
      el.title = exact;
    } else {
      el.textContent = el.hasAttribute("data-seconds") ? exact : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  }
}

// A time in a check's zone names the zone only when it is not the viewer's.
function zones(root) {
  let mine = "";
  try { mine = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  for (const el of root.querySelectorAll("[data-tz]")) {
    if (el.dataset.tz === mine) el.textContent = el.textContent.replace(", " + mine + ")", ")");
  }
}

function copied(b) {
  const label = b.textContent;
  b.textContent = "Copied";
  setTimeout(() => { b.textContent = label; }, 1500);
}

function copyButtons(root) {
  for (const b of root.querySelectorAll("button[data-copy]")) {
    b.addEventListener("click", async () => {
      const input = document.getElementById(b.dataset.copy);
      input.select();
      try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
      copied(b);
    });
  }
  for (const b of root.querySelectorAll("button[data-copy-text]")) {
    b.addEventListener("click", async () => {
      try { await navigator.clipboard.writeText(b.dataset.copyText); copied(b); } catch (e) { prompt("Ping URL", b.dataset.copyText); }
    });
  }
}

function confirms(root) {
  for (const f of root.querySelectorAll("form[data-confirm]")) {
    f.addEventListener("submit", (e) => { if (!confirm(f.dataset.confirm)) e.preventDefault(); });
  }
}

function schedulePreview() {
  const sched = document.getElementById("schedule"), tz = document.getElementById("tz"), out = document.getElementById("preview");
  if (!sched || !tz || !out) return;
  let timer;
  const update = async () => {
    const cron = document.getElementById("kind-cron");
    if (cron && !cron.checked) { out.textContent = ""; return; }
    if (!sched.value.trim()) { out.textContent = ""; return; }
    const q = new URLSearchParams({ schedule: sched.value, tz: tz.value || "UTC", n: "5" });
    try {
      const res = await fetch("/api/v1/schedule/preview?" + q);
      const body = await res.json();
      out.textContent = "";
      if (!res.ok) { const p = document.createElement("p"); p.className = "error"; p.textContent = body.error; out.append(p); return; }
      const p = document.createElement("p");
      p.textContent = body.description + ". Next expected pings in " + body.tz + ":";
      const ol = document.createElement("ol");
      for (const t of body.next) {
        const li = document.createElement("li");
        li.textContent = t.replace("T", " ");
        ol.append(li);
      }
      out.append(p, ol);
    } catch (e) { /* offline: keep the server-rendered preview */ }
  };
  for (const el of [sched, tz, ...document.querySelectorAll("input[name=kind]")]) {
    el.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 250); });
  }
}

// Keep the tab's title saying how many checks are down.
function setDown(n) {
  document.title = document.title.replace(/^\(\d+ down\) /, "");
  if (n > 0) document.title = "(" + n + " down) " + document.title;
}

// The checks list refreshes only what changed: every 20 s it asks for the
// page's rows with the versions it has; the server answers 304 when
// nothing changed, else the row order and the HTML of changed rows only.
function liveRows() {
  const body = document.getElementById("rows");
  if (!body) return;
  let etag = "";
  const refresh = async () => {
    if (document.hidden || body.querySelector("input[type=checkbox]:checked")) { localTimes(body); return; }
    const have = [...body.children].map(tr => tr.id.slice(4) + ":" + tr.dataset.v).join(",");
    const q = new URLSearchParams(location.search);
    q.set("have", have);
    try {
      const res = await fetch("/checks/rows?" + q, { headers: etag ? { "If-None-Match": etag } : {} });
      if (res.status === 304 || !res.ok || res.redirected) { localTimes(body); return; }
      etag = res.headers.get("ETag") || "";
      const up = await res.json();
      setDown(up.down);
      const total = document.getElementById("total");
      if (total) total.textContent = up.total;
      const old = new Map([...body.children].map(tr => [tr.id.slice(4), tr]));
      let prev = null;
      for (const r of up.rows) {
        let tr = old.get(r.id);
        if (r.html) {
          const t = document.createElement("tbody");
          t.innerHTML = r.html;
          const fresh = t.firstElementChild;
          if (tr) tr.replaceWith(fresh);
          tr = fresh;
          init(tr);
        }
        old.delete(r.id);
        if (!tr) continue;
        const want = prev ? prev.nextElementSibling : body.firstElementChild;
        if (want !== tr) body.insertBefore(tr, want);
        prev = tr;
      }
      for (const tr of old.values()) tr.remove();
      localTimes(body);
    } catch (e) { /* try again next time */ }
  };
  setInterval(refresh, 20000);
  window.nightjarRefreshRows = refresh; // lets a test refresh now
}

// A check's page, and a page with live figures (SLOs, customers having a
// bad time), reloads its content every 20 s while nobody is typing.
function liveRefresh() {
  if (!document.querySelector("#status, [data-live-page]")) return;
  setInterval(async () => {
    const active = document.activeElement;
    if (document.hidden || (active && active.closest("form") && active.type !== "submit")) return;
    try {
      const res = await fetch(location.href, { headers: { "Accept": "text/html" } });
      if (!res.ok || res.redirected) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const next = doc.getElementById("main"), main = document.getElementById("main");
      if (next && main) { main.replaceWith(next); init(next); document.title = doc.title; }
    } catch (e) { /* try again next time */ }
  }, 20000);
}

function init(root) { localTimes(root); zones(root); copyButtons(root); confirms(root); }

document.addEventListener("DOMContentLoaded", () => { init(document); schedulePreview(); liveRows(); liveRefresh(); });

// Show only the chosen kind's settings on the channel form. Without the
// script every kind's settings show, and only the chosen kind's are read.
function channelKinds() {
  const kinds = document.querySelectorAll("#channel-kinds input[name=kind]");
  if (!kinds.length) return;
  const show = () => {
    for (const fs of document.querySelectorAll("fieldset.channel-kind")) {
      const chosen = document.getElementById("kind-" + fs.dataset.kind);
      fs.hidden = !(chosen && chosen.checked);
    }
  };
  for (const k of kinds) k.addEventListener("change", show);
  show();
}

document.addEventListener("DOMContentLoaded", channelKinds);
