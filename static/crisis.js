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
  // Buttons that ask for confirmation carry data-confirm.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
