// Nightjar console enhancements. Every page works without this script;
// it shows times in the viewer's zone, copies text, previews schedules
// and refreshes status while the page is open.
"use strict";

function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const d = new Date(el.getAttribute("datetime"));
    if (isNaN(d)) continue;
    el.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
}

function copyButtons(root) {
  for (const b of root.querySelectorAll("button[data-copy]")) {
    b.addEventListener("click", async () => {
      const input = document.getElementById(b.dataset.copy);
      input.select();
      try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
      b.textContent = "Copied";
      setTimeout(() => { b.textContent = "Copy"; }, 1500);
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

// Refresh the page's content every 20 s while nobody is typing in it.
function liveRefresh() {
  if (!document.querySelector("[data-live], #status")) return;
  setInterval(async () => {
    const active = document.activeElement;
    if (document.hidden || (active && active.closest("form") && active.type !== "submit")) return;
    if (document.querySelector("input[type=checkbox]:checked")) return;
    try {
      const res = await fetch(location.href, { headers: { "Accept": "text/html" } });
      if (!res.ok || res.redirected) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const next = doc.getElementById("main"), main = document.getElementById("main");
      if (next && main) { main.replaceWith(next); init(next); }
    } catch (e) { /* try again next time */ }
  }, 20000);
}

function init(root) { localTimes(root); copyButtons(root); confirms(root); }

document.addEventListener("DOMContentLoaded", () => { init(document); schedulePreview(); liveRefresh(); });

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
