// The weekly hours on the Availability page: small conveniences over a form that works
// without them (its buttons post, htmx swaps the form). A day turned on with no hours
// yet gets 09:00–17:00 to start from; "Copy to all weekdays" shows on Monday and on the
// day being edited; a remove button's name follows the times typed.
(function () {
  "use strict";
  document.documentElement.classList.add("hours-js");

  function dayOf(el) { return el.closest("#hours-form .av-day"); }

  function markEdited(day) {
    day.closest("form").querySelectorAll(".av-day.av-edited").forEach(function (other) {
      if (other !== day) other.classList.remove("av-edited");
    });
    day.classList.add("av-edited");
  }

  // "Remove 09:00–13:00 on Monday", as typed now.
  function rename(row) {
    var what = row.querySelector(".av-remove-what");
    if (!what) return;
    var times = row.querySelectorAll("input.av-time");
    var button = what.closest("button");
    var start = times[0].value, end = times[1].value;
    var name = start && end ? start + "–" + end : "interval " + button.getAttribute("data-n");
    what.textContent = " " + name + " on " + button.getAttribute("data-day");
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    var day = box.matches(".av-open") && dayOf(box);
    if (!day) return;
    markEdited(day);
    if (!box.checked) return;
    var times = day.querySelectorAll("input.av-time");
    var blank = Array.prototype.every.call(times, function (t) { return !t.value; });
    if (blank && times.length >= 2) {
      times[0].value = "09:00";
      times[1].value = "17:00";
      rename(times[0].closest(".av-interval"));
    }
  });

  document.addEventListener("input", function (event) {
    var day = event.target.matches("input.av-time") && dayOf(event.target);
    if (!day) return;
    markEdited(day);
    rename(event.target.closest(".av-interval"));
  });
})();
