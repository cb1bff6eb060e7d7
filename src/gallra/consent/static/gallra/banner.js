/* gallra's cookie banner. A website includes it with one tag:
 *   <script src="https://GALLRA/static/gallra/banner.js" defer></script>
 * and marks what must wait for consent: <script type="text/plain" data-category="statistics">
 * (optionally data-service="..."), and <iframe data-category="..." data-src="...">.
 * Categories, cookies and texts come from the provider's policy file (GET /consent/config);
 * each decision is stored by gallra as proof (POST /consent/decisions). See docs/consent.md. */
(function () {
  "use strict";
  var doc = document, html = doc.documentElement, me = doc.currentScript;
  var base = me.src.replace(/\/static\/.*$/, "");
  var lang = /^en/i.test(html.lang) ? "en" : "sv";
  var NAME = "gallra_consent", cfg, state, root, opener, returnTo;

  function el(tag, attrs, kids) {
    var e = doc.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), h = [];
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    b.forEach(function (x) { h.push((x + 256).toString(16).slice(1)); });
    h = h.join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  /* The visitor's choice lives in one necessary cookie: {id, r: revision, t: time, c, s}. */
  function read() {
    var m = doc.cookie.match(/(?:^|; )gallra_consent=([^;]*)/);
    try { return m ? JSON.parse(decodeURIComponent(m[1])) : null; } catch (e) { return null; }
  }
  /* A choice holds until 00:00 (the policy's time zone, Stockholm) on the day the policy's
     renew_after after the day it was made, in calendar terms: made on 31 August 2026, asked
     again from 00:00 on 28 February 2027. The server's config.renewal is the same sum. */
  var zone;
  function wall(t) {  /* the time zone's clock at instant t, written as if it were UTC */
    zone = zone || new Intl.DateTimeFormat("en-GB", { timeZone: cfg.time_zone, hourCycle: "h23",
      year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric",
      second: "numeric" });
    var p = {};
    zone.formatToParts(new Date(t)).forEach(function (x) { p[x.type] = +x.value; });
    return Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
  }
  function renewsAt(t) {
    var d = new Date(wall(t)), r = cfg.renew, m = d.getUTCMonth() + r.months + 12 * r.years;
    var y = d.getUTCFullYear() + Math.floor(m / 12), last;
    m %= 12;
    last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();  /* 31 Aug + 6 months: 28 Feb */
    var midnight = Date.UTC(y, m, Math.min(d.getUTCDate(), last) + r.days);
    var guess = midnight - (wall(midnight) - midnight);  /* no clock change is at midnight */
    return midnight - (wall(guess) - guess);
  }
  function current(s) {
    return s && s.r === cfg.revision && typeof s.t === "number" && s.t <= Date.now() &&
      Date.now() < renewsAt(s.t) ? s : null;
  }
  function write(s) {
    doc.cookie = NAME + "=" + encodeURIComponent(JSON.stringify(s)) + "; Max-Age=" +
      Math.ceil((renewsAt(s.t) - s.t) / 1000) + "; Path=/; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }

  function optional() { return cfg.categories.filter(function (c) { return !c.required; }); }
  function allowed(cat, svc) {
    return !!(state && state.c[cat] && (!svc || state.s[svc] !== false));
  }

  /* Run what the visitor accepted: inert scripts become real ones, iframes get their src. */
  function activate() {
    doc.querySelectorAll('script[type="text/plain"][data-category]').forEach(function (old) {
      if (!allowed(old.dataset.category, old.dataset.service)) return;
      var s = doc.createElement("script");
      for (var i = 0; i < old.attributes.length; i++) {
        var a = old.attributes[i];
        if (a.name !== "type") s.setAttribute(a.name, a.value);
      }
      s.type = old.dataset.type || "text/javascript";
      s.text = old.text;
      old.parentNode.replaceChild(s, old);
    });
    doc.querySelectorAll("iframe[data-src][data-category]").forEach(function (f) {
      if (allowed(f.dataset.category, f.dataset.service) && !f.src) f.src = f.dataset.src;
    });
  }

  /* On withdrawal, delete the withdrawn categories' cookies that this page can reach
     ("_ga*" matches by prefix), on this host and the domains above it. */
  function forget(cats) {
    var names = [], have = doc.cookie.split("; ").map(function (c) { return c.split("=")[0]; });
    cfg.categories.forEach(function (c) {
      if (cats.indexOf(c.id) < 0) return;
      c.cookies.concat.apply(c.cookies, c.services.map(function (s) { return s.cookies; }))
        .forEach(function (k) {
          var p = k.name.replace(/\*$/, "");
          have.forEach(function (n) { if (n === k.name || (p !== k.name && !n.indexOf(p))) names.push(n); });
        });
    });
    var parts = location.hostname.split("."), domains = [""];
    for (var i = 0; i < parts.length - 1; i++) domains.push("; Domain=" + parts.slice(i).join("."));
    names.forEach(function (n) {
      domains.forEach(function (d) { doc.cookie = n + "=; Max-Age=0; Path=/" + d; });
    });
  }

  function send(d, retry) {
    fetch(cfg.endpoint, { method: "POST", body: JSON.stringify(d), keepalive: true,
      headers: { "Content-Type": "text/plain" } })
      .then(function (r) { if (!r.ok && r.status >= 500) throw r; })
      .catch(function () { if (!retry) setTimeout(function () { send(d, 1); }, 3000); });
  }

  function decide(action, cats, svcs) {
    var before = state, gone = [];
    if (before) {
      Object.keys(before.c).forEach(function (k) { if (before.c[k] && !cats[k]) gone.push(k); });
      if (action === "custom" && gone.length) action = "withdraw";
    }
    state = { id: (before && before.id) || uuid(), r: cfg.revision, t: Date.now(), c: cats, s: svcs };
    write(state);
    send({ id: state.id, action: action, categories: cats, services: svcs,
      revision: cfg.revision, hash: cfg.hash, lang: cfg.lang });
    if (gone.length) { forget(gone); location.reload(); return; }
    hide();
    activate();
  }

  function all(value) {
    var cats = {}, svcs = {};
    optional().forEach(function (c) {
      cats[c.id] = value;
      c.services.forEach(function (s) { svcs[s.id] = value; });
    });
    return [cats, svcs];
  }

  /* -- the banner ------------------------------------------------------------------ */
  function button(text, fn) { return el("button", { type: "button", "class": "gc-b", text: text, onclick: fn }); }

  function choices() {
    var t = cfg.text;
    return el("div", { "class": "gc-l2", hidden: "" }, [el("h3", { text: t.choose })]
      .concat(cfg.categories.map(function (c) {
        var id = "gc-c-" + c.id, on = c.required || allowed(c.id);
        var box = el("input", { type: "checkbox", id: id, "data-cat": c.id, onchange: function () {
          root.querySelectorAll('[data-of="' + c.id + '"]').forEach(function (b) { b.checked = box.checked; });
        } });
        box.checked = on; box.disabled = c.required;
        var kids = [el("label", { "for": id, id: id + "-l" }, [box, doc.createTextNode(" " + c.name +
          (c.required ? " (" + t.always + ")" : ""))]), el("p", { text: c.purpose })];
        c.services.forEach(function (s) {
          var sid = "gc-s-" + s.id, sb = el("input", { type: "checkbox", id: sid, "data-svc": s.id, "data-of": c.id });
          sb.checked = on && !(state && state.s[s.id] === false);
          kids.push(el("label", { "for": sid, "class": "gc-svc" }, [sb,
            doc.createTextNode(" " + t.service + ": " + s.name + (s.provider ? " (" + s.provider + ")" : ""))]));
        });
        var cookies = c.cookies.concat.apply(c.cookies, c.services.map(function (s) { return s.cookies; }));
        if (cookies.length) {
          kids.push(el("table", {}, [el("tr", {}, [t.cookie, t.purpose, t.duration, t.third]
            .map(function (h) { return el("th", { scope: "col", text: h }); }))]
            .concat(cookies.map(function (k) {
              return el("tr", {}, [k.name, k.purpose, k.duration, k.third_party ? t.yes : t.no]
                .map(function (v) { return el("td", { text: v }); }));
            }))));
        }
        return el("div", { "class": "gc-cat", role: "group", "aria-labelledby": id + "-l" }, kids);
      }), [el("div", { "class": "gc-row" }, [
        button(t.save, save), button(t.accept, function () { decide.apply(null, ["accept_all"].concat(all(true))); }),
        button(t.reject, function () { decide.apply(null, ["reject_all"].concat(all(false))); })])]));
  }

  function save() {
    var cats = {}, svcs = {};
    root.querySelectorAll("[data-cat]").forEach(function (b) { if (!b.disabled) cats[b.dataset.cat] = b.checked; });
    root.querySelectorAll("[data-svc]").forEach(function (b) { svcs[b.dataset.svc] = cats[b.dataset.of] && b.checked; });
    decide("custom", cats, svcs);
  }

  function build() {
    var t = cfg.text, names = optional().map(function (c) { return c.name.toLowerCase(); }).join(", ");
    root = el("div", { id: "gallra-consent", "class": "gc", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "gc-title", "aria-describedby": "gc-body", lang: cfg.lang,
      onkeydown: function (e) { if (e.key === "Escape") hide(); } }, [
      el("h2", { id: "gc-title", tabindex: "-1", text: t.title }),
      el("p", { id: "gc-body", text: t.body.replace("{categories}", names) }),
      el("p", {}, [el("a", { href: cfg.notice, text: t.details })]),
      el("div", { "class": "gc-row gc-l1" }, [
        button(t.accept, function () { decide.apply(null, ["accept_all"].concat(all(true))); }),
        button(t.reject, function () { decide.apply(null, ["reject_all"].concat(all(false))); }),
        button(t.settings, function () { layer(2); })]),
      choices()]);
    doc.body.appendChild(root);
  }

  function layer(n) {
    root.querySelector(".gc-l1").hidden = n === 2;
    root.querySelector(".gc-l2").hidden = n !== 2;
    (n === 2 ? root.querySelector(".gc-l2 input:not([disabled])") || root.querySelector(".gc-l2 button")
      : root.querySelector("#gc-title")).focus();
  }

  /* The banner keeps clear of what has focus: the page can always scroll above it. */
  function pad() { html.style.scrollPaddingBottom = doc.body.style.paddingBottom = root && !root.hidden ? root.offsetHeight + "px" : ""; }

  function show(settings) {
    returnTo = doc.activeElement;
    if (root) root.remove();
    build();
    layer(settings ? 2 : 1);
    pad();
  }

  function hide() {
    if (!root) return;
    root.remove(); root = null; pad();
    if (returnTo && returnTo.focus && returnTo !== doc.body) returnTo.focus();
  }

  function reopeners() {
    var own = doc.querySelectorAll("[data-gallra-consent-open]");
    if (!own.length) {
      opener = el("button", { type: "button", "class": "gc-open", text: cfg.text.reopen });
      doc.body.appendChild(opener);
      own = [opener];
    }
    Array.prototype.forEach.call(own, function (b) { b.addEventListener("click", function () { show(true); }); });
  }

  function start(config) {
    cfg = config;
    var link = el("link", { rel: "stylesheet", href: base + "/static/gallra/banner.css" });
    doc.head.appendChild(link);
    state = current(read());
    reopeners();
    if (state) return activate();
    if (navigator.globalPrivacyControl) return decide.apply(null, ["gpc"].concat(all(false)));
    show(false);
  }

  function load() {
    fetch(base + "/consent/config?lang=" + lang).then(function (r) { return r.json(); }).then(start);
  }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", load); else load();
})();
