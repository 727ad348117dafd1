// Progressive enhancements only: every page works without this file.
(function () {
  "use strict";
  // Pages that carry data-refresh-seconds reload their live region while the incident is open.
  var region = document.querySelector("[data-refresh-url]");
  if (region) {
    var seconds = parseInt(region.getAttribute("data-refresh-seconds") || "15", 10);
    setInterval(function () {
      if (document.hidden) { return; }
      fetch(region.getAttribute("data-refresh-url"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { region.innerHTML = html; } })
        .catch(function () {});
    }, seconds * 1000);
  }
  // Live parts (data-live="<part>"): ask /live whether their stamps moved, saying which stamp
  // each shows (h=); a 304 means nothing changed. A moved part comes in the answer (or, if not,
  // is fetched from its URL), and each element of the fragment replaces the element with the same
  // id, unless it is held back (see holding; retried later). The next poll comes a second after
  // the last answer, or data-live-busy-seconds after one that moved a part.
  var live = document.querySelectorAll("[data-live]");
  if (live.length) {
    var root = document.documentElement;
    var every = parseFloat(root.getAttribute("data-live-seconds") || "1") * 1000;
    var busyEvery = parseFloat(root.getAttribute("data-live-busy-seconds") || "1.5") * 1000;
    var etag = null;
    var parts = function () {
      var found = {};
      document.querySelectorAll("[data-live]").forEach(function (el) {
        found[el.getAttribute("data-live")] = { stamp: el.getAttribute("data-live-stamp"), url: el.getAttribute("data-live-url") };
      });
      return found;
    };
    // Held back: a part the person is typing in, or one showing a refused form (its error and
    // what they typed would be lost); it is fetched again once they have sent the form.
    var holding = function (el) {
      var active = document.activeElement;
      var typing = active && el.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
      return typing || el.querySelector(".field-error") !== null;
    };
    var swap = function (html) {
      var holder = document.createElement("template");
      holder.innerHTML = html;
      holder.content.querySelectorAll("[data-live][id]").forEach(function (fresh) {
        var old = document.getElementById(fresh.id);
        if (old && !holding(old)) { old.replaceWith(fresh); }
      });
    };
    // One poll; resolves with whether a part moved.
    var tick = function () {
      var known = parts();
      var keys = Object.keys(known);
      var query = keys.map(function (k) {
        return "k=" + encodeURIComponent(k) + "&h=" + encodeURIComponent(known[k].stamp || "");
      }).join("&");
      var headers = { "X-Requested-With": "fetch" };
      if (etag) { headers["If-None-Match"] = etag; }
      return fetch("/live?" + query, { credentials: "same-origin", cache: "no-store", headers: headers })
        .then(function (r) {
          if (r.status === 200 && (r.headers.get("Content-Type") || "").indexOf("json") >= 0) {
            etag = r.headers.get("ETag");
            return r.json();
          }
          return null;
        })
        .then(function (body) {
          if (!body) { return false; }
          var stamps = body.stamps;
          var given = body.parts || {};
          var moved = keys.filter(function (k) { return stamps[k] && stamps[k] !== known[k].stamp; });
          return Promise.all(moved.map(function (k) {
            if (given[k]) { swap(given[k]); return null; }
            return fetch(known[k].url, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
              .then(function (r) { return r.ok ? r.text() : null; })
              .then(function (html) { if (html !== null) { swap(html); } });
          })).then(function () {
            // A part still showing an old stamp (typing in it) makes the next poll ask again.
            var now = parts();
            if (keys.some(function (k) { return now[k] && now[k].stamp !== stamps[k]; })) { etag = null; }
            return moved.length > 0;
          });
        })
        .catch(function () { etag = null; return false; });
    };
    var next = function (delay) {
      setTimeout(function () {
        if (document.hidden) { next(every); return; }
        tick().then(function (moved) { next(moved ? busyEvery : every); });
      }, delay);
    };
    next(every);
  }
  // Buttons that ask for confirmation carry data-confirm.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
