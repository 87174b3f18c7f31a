// The workspace's side panel and small conveniences; every page works without them.
(function () {
  "use strict";
  var hint = null;
  var opener = null;

  function panel() { return document.getElementById("panel"); }

  // Whatever htmx loads into the panel gets the focus, so a keyboard or screen reader
  // user lands on it; the booking it shows is marked in the schedule.
  function shown() {
    var box = panel();
    if (!box || box.classList.contains("ws-panel-page")) return;
    var title = box.querySelector("#panel-title");
    box.classList.toggle("closed", !title);
    if (title && !box.contains(document.activeElement)) title.focus();
    markSelected();
  }

  function markSelected() {
    var box = panel();
    var link = box && box.querySelector("[data-close-panel]");
    var id = box && box.querySelector("[data-booking-id]");
    document.querySelectorAll(".ws-booking.selected").forEach(function (el) { el.classList.remove("selected"); });
    if (!link || !id) return;
    var block = document.querySelector('.ws-booking[data-booking="' + id.getAttribute("data-booking-id") + '"]');
    if (block) block.classList.add("selected");
  }

  function close() {
    var box = panel();
    if (!box || box.classList.contains("ws-panel-page")) return;
    box.replaceChildren(hint.cloneNode(true));
    box.classList.add("closed");
    markSelected();
    if (opener && document.contains(opener)) opener.focus();
  }

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-panel]");
    if (closer && !panel().classList.contains("ws-panel-page")) {
      event.preventDefault();
      close();
      return;
    }
    var from = event.target.closest(".ws-booking, .ws-free, .ws-cancelled a");
    if (from) opener = from;
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel() && panel().querySelector("#panel-title")) close();
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
  });

  function ready() {
    // Today's schedule opens where the day is: the now-line a third of the way down.
    var line = document.querySelector(".ws-now");
    if (line && !location.hash) {
      var top = line.getBoundingClientRect().top + window.scrollY - window.innerHeight / 3;
      if (top > 0) window.scrollTo(0, top);
    }
    var box = panel();
    if (!box) return;
    var first = box.querySelector(".ws-panel-hint");
    hint = first ? first.cloneNode(true) : document.createElement("p");
    new MutationObserver(shown).observe(box, { childList: true });
    // The schedule is swapped whole when it changes: keep the open booking marked.
    var body = document.querySelector(".ws-body");
    if (body) new MutationObserver(markSelected).observe(body, { childList: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
