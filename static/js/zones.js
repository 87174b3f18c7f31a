// The time zone list: a search box narrows it to the zones whose city, country,
// abbreviation or offset match. Without JavaScript the box stays hidden and the select,
// in order of offset, works alone. Loaded by templates/partials/_zone_field.html (and
// again when htmx swaps the form in with its errors: enhancing twice does nothing).
(function () {
  "use strict";
  function words(text) {
    return text.toLowerCase().replace(/\u2212/g, "-").replace(/_/g, " ").trim();
  }

  function enhance(box) {
    var select = document.getElementById(box.getAttribute("data-zone-search"));
    if (box.dataset.ready || !select) return;
    box.dataset.ready = "1";
    box.hidden = false;
    var input = box.querySelector("input[type=search]");
    var count = box.querySelector("[role=status]");
    var zones = Array.prototype.map.call(select.options, function (option) {
      var text = words(option.textContent + " " + (option.getAttribute("data-search") || ""));
      return { option: option, text: text, tokens: text.split(/[\s,()\/]+/) };
    });
    // Whole words first ("india": Kolkata, not Indiana or the Indian Ocean), then the
    // starts of words ("lond"), then anywhere ("5:30").
    var ways = [
      function (zone, word) { return zone.tokens.indexOf(word) !== -1; },
      function (zone, word) { return zone.tokens.some(function (t) { return t.indexOf(word) === 0; }); },
      function (zone, word) { return zone.text.indexOf(word) !== -1; }
    ];

    function narrow() {
      var wanted = words(input.value).split(/\s+/).filter(Boolean);
      var shown = [];
      for (var i = 0; i < ways.length && !shown.length; i++) {
        shown = zones.filter(function (zone) {
          return wanted.every(function (word) { return ways[i](zone, word); });
        });
      }
      if (!shown.length) {
        count.textContent = "No time zone matches “" + input.value.trim() + "”.";
        shown = zones;
      } else if (wanted.length) {
        count.textContent = shown.length === 1 ? "1 time zone matches." : shown.length + " time zones match.";
      } else {
        count.textContent = "";
      }
      var value = select.value;
      select.replaceChildren.apply(select, shown.map(function (zone) { return zone.option; }));
      var kept = shown.some(function (zone) { return zone.option.value === value; });
      select.value = kept ? value : shown[0].option.value;
    }
    input.addEventListener("input", narrow);
    // Enter in the search box chooses from the list instead of sending the form.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); select.focus(); }
    });
  }

  function scan() { document.querySelectorAll("[data-zone-search]").forEach(enhance); }
  if (!window.kairosZones) {
    window.kairosZones = true;
    document.addEventListener("htmx:after:swap", scan);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
