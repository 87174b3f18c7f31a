// "Copy" beside a read-only address: shown only where the clipboard can be written;
// without it the address can still be selected and copied by hand.
(function () {
  "use strict";
  function copied(button, text) {
    var status = button.closest("[data-copy-scope], section").querySelector("[role=status]");
    if (status) status.textContent = text;
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!navigator.clipboard || !window.isSecureContext) return;
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(field.value).then(
          function () { copied(button, "Copied."); },
          function () { field.select(); copied(button, "Select the link and copy it."); }
        );
      });
    });
  });
})();
