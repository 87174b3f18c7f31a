// The workspace's side panel and small conveniences; every page works without them.
// The panel is a sheet over the schedule (at the side in landscape, a drawer from the
// bottom in portrait: workspace.css), so opening and closing it never moves the schedule:
// the page and the grid stay scrolled where they were, and the focus goes back to what
// was tapped.
(function () {
  "use strict";
  var hint = null;
  var opener = null; // a selector for what opened the panel: found again after a refresh
  var place = null; // where the page and the grid were scrolled when something was tapped
  var gridLeft = 0; // how far the grid is scrolled sideways, kept across its refreshes

  function panel() { return document.getElementById("panel"); }
  function grid() { return document.querySelector(".ws-grid"); }
  function isSheet(box) { return box && !box.classList.contains("ws-panel-page"); }

  function where() {
    var g = grid();
    return { x: window.scrollX, y: window.scrollY, left: g ? g.scrollLeft : 0, top: g ? g.scrollTop : 0 };
  }

  function restore(saved) {
    if (!saved) return;
    if (window.scrollX !== saved.x || window.scrollY !== saved.y) window.scrollTo(saved.x, saved.y);
    var g = grid();
    if (g) {
      g.scrollLeft = saved.left;
      g.scrollTop = saved.top;
    }
  }

  // Whatever htmx loads into the panel gets the focus, so a keyboard or screen reader
  // user lands on it; the booking it shows is marked in the schedule.
  function shown() {
    var box = panel();
    if (!isSheet(box)) return;
    var title = box.querySelector("#panel-title");
    box.classList.toggle("closed", !title);
    if (title && !box.contains(document.activeElement)) title.focus({ preventScroll: true });
    restore(place);
    place = null;
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

  // What to give the focus back to: the element tapped, or the same one in a schedule
  // refreshed since (the booking made from a free time, when that time is gone).
  function returnTo() {
    var found = opener && document.querySelector(opener);
    if (found) return found;
    var id = panel().querySelector("[data-booking-id]");
    return id && document.querySelector('.ws-booking[data-booking="' + id.getAttribute("data-booking-id") + '"]');
  }

  function close() {
    var box = panel();
    if (!isSheet(box)) return;
    var back = returnTo();
    var saved = where();
    box.replaceChildren(hint.cloneNode(true));
    box.classList.add("closed");
    markSelected();
    if (back) back.focus({ preventScroll: true });
    restore(saved);
  }

  function selectorFor(el) {
    if (el.matches(".ws-booking")) return '.ws-booking[data-booking="' + el.getAttribute("data-booking") + '"]';
    var href = el.getAttribute("href");
    return href ? 'a[href="' + href.replace(/["\\]/g, "\\$&") + '"]' : null;
  }

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-panel]");
    if (closer && isSheet(panel())) {
      event.preventDefault();
      close();
      return;
    }
    var from = event.target.closest(".ws-booking, .ws-free, .ws-cancelled a");
    if (from) {
      opener = selectorFor(from);
      place = where();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel() && panel().querySelector("#panel-title")) close();
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
  });
  // The grid's own sideways scroll: remembered, to be put back when it is refreshed.
  function keepGridLeft() {
    var g = grid();
    if (g) gridLeft = g.scrollLeft;
  }
  document.addEventListener("scroll", function (event) {
    if (event.target instanceof Element && event.target.matches(".ws-grid")) gridLeft = event.target.scrollLeft;
  }, true);
  document.addEventListener("htmx:before:swap", keepGridLeft);

  function refreshed() {
    var g = grid();
    if (g && g.scrollLeft !== gridLeft) g.scrollLeft = gridLeft;
    markSelected();
  }

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
    // The schedule is swapped whole when it changes: keep its scroll and the open booking marked.
    var body = document.querySelector(".ws-body");
    if (body) new MutationObserver(refreshed).observe(body, { childList: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
