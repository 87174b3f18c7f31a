// Small enhancements; every page works without them.
(function () {
  "use strict";
  var here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // The device's zone goes with a booking, so messages can give times on its clock too.
  document.querySelectorAll("[data-device-tz]").forEach(function (input) { input.value = here; });
  // When the phone's clock differs from the business's, show the customer's time too, on
  // the page's 24-hour clock ("14:30 your time"), with the day when it is another day
  // there ("Fri 00:00 your time").
  function clock(zone) {
    return new Intl.DateTimeFormat("en-GB", {
      weekday: "short", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone });
  }
  function parts(format, when) {
    var found = {};
    format.formatToParts(when).forEach(function (part) { found[part.type] = part.value; });
    return { day: found.year + "-" + found.month + "-" + found.day, weekday: found.weekday,
             time: found.hour + ":" + found.minute };
  }
  function showLocalTimes(root) {
    var note = document.querySelector("[data-org-tz]");
    if (!note) return;
    var mine = clock(here);
    var theirs = clock(note.getAttribute("data-org-tz"));
    var differs = false;
    root.querySelectorAll("[data-start]:not([data-local-done])").forEach(function (el) {
      el.setAttribute("data-local-done", "1");
      var when = new Date(el.getAttribute("data-start"));
      var local = parts(mine, when), business = parts(theirs, when);
      if (local.day === business.day && local.time === business.time) return;
      differs = true;
      var span = document.createElement("span");
      span.className = "yours";
      span.textContent = (local.day === business.day ? "" : local.weekday + " ") + local.time + " your time";
      // After the zone's name when it follows ("… London time (GMT)"), else inside.
      var zone = el.nextElementSibling;
      if (zone && zone.hasAttribute("data-org-tz")) zone.after(span);
      else el.append(" ", span);
    });
    if (differs && note.classList.contains("tz-note") && !note.dataset.done) {
      note.dataset.done = "1";
      var extra = document.createElement("span");
      extra.className = "yours";
      // By the clock's name ("India Standard Time"): browsers give some zones by their
      // old id ("Asia/Calcutta"), which is not the place's name any more.
      var named = new Intl.DateTimeFormat("en-GB", { timeZoneName: "long", timeZone: here })
        .formatToParts(new Date()).filter(function (part) { return part.type === "timeZoneName"; });
      extra.textContent = "Your phone is on " + (named.length ? named[0].value : here) +
        ": your time is shown under each.";
      note.after(extra);
    }
  }

  // No double submit: a form that is sending says so and can't be sent again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sending) { event.preventDefault(); return; }
    form.dataset.sending = "1";
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (button) {
      button.setAttribute("aria-busy", "true");
      if (button.dataset.busy) button.textContent = button.dataset.busy;
      setTimeout(function () { button.disabled = true; }, 0);
    });
  });
  // A page restored from the back-forward cache must be usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      delete form.dataset.sending;
      form.querySelectorAll("button[aria-busy]").forEach(function (b) { b.disabled = false; b.removeAttribute("aria-busy"); });
    });
  });

  // The picker is swapped whole; a steady live region says what it now shows.
  function announcePicker() {
    var status = document.getElementById("picker-status");
    var month = document.getElementById("month-title");
    var day = document.getElementById("slots-title");
    if (!status || !month) return;
    var times = document.querySelectorAll("#picker a.slot").length;
    status.textContent = month.textContent + ". " + (day ? day.textContent : "") +
      (times ? ": " + times + " times free." : "");
  }
  var picker = document.getElementById("picker");
  if (picker) new MutationObserver(announcePicker).observe(picker, { childList: true });

  // A day chosen: on a phone its times are below the calendar. Give their heading the
  // focus (screen readers go on from there) and scroll it up if the first time is not on
  // screen, gently unless the person asked for less motion.
  var lessMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  document.addEventListener("htmx:after:swap", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var chosen = ctx && ctx.sourceEvent && ctx.sourceEvent.target;
    if (!chosen || !chosen.closest || !chosen.closest("[data-show-times]")) return;
    var heading = document.getElementById("slots-title");
    if (!heading) return;
    heading.focus({ preventScroll: true });
    var first = document.querySelector("#picker a.slot") || heading;
    if (heading.getBoundingClientRect().top >= 0 &&
        first.getBoundingClientRect().bottom <= window.innerHeight) return;
    heading.scrollIntoView({ block: "start", behavior: lessMotion.matches ? "auto" : "smooth" });
  });

  function ready() {
    showLocalTimes(document);
    new MutationObserver(function () { showLocalTimes(document); })
      .observe(document.getElementById("main") || document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
