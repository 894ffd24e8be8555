// Waits for a notification (or an app's activation) to be answered, then reloads the page,
// which shows the outcome or completes the sign-in. Without this script, the page's
// "Continue" button does the same by hand. No inline script: the CSP allows only this file.
(function () {
  "use strict";
  var el = document.querySelector("[data-push-status]");
  if (!el || !window.fetch) {
    return;
  }
  var url = el.getAttribute("data-push-status");
  var initial = el.getAttribute("data-push-state");
  var failures = 0;
  function poll() {
    var sep = url.indexOf("?") < 0 ? "?" : "&";
    fetch(url + sep + "wait=25", {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        failures = 0;
        if (body.state !== initial) {
          window.location.reload();
        } else {
          poll();
        }
      })
      .catch(function () {
        // A node restarting or a dropped connection: try again, more slowly each time.
        failures += 1;
        if (failures <= 20) {
          window.setTimeout(poll, Math.min(30000, 1000 * failures));
        }
      });
  }
  poll();
})();
