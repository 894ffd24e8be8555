// "Copy" buttons: a button with data-copy="ID" puts the text of the element #ID on the
// clipboard and says so in the element named by its data-copy-status. The buttons start
// hidden, so without JavaScript the page shows the text alone, to select and copy by hand.
// No inline script: the CSP allows only files like this one.
(function () {
  "use strict";
  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  // The Clipboard API needs a secure context; the older command works on plain http too.
  function copy(text, el) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    selectText(el);
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy"));
  }
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    var status = document.getElementById(button.getAttribute("data-copy-status") || "");
    function say(attribute) {
      if (status) {
        status.textContent = button.getAttribute(attribute) || "";
      }
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      say("");
      copy(source.textContent.trim(), source).then(
        function () {
          say("data-copied");
        },
        function () {
          // Left selected, so the person can copy it with the keyboard or the menu.
          selectText(source);
          say("data-copy-failed");
        }
      );
    });
  });
})();
