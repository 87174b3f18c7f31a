// The booking page's address, suggested from the business's name as it is typed
// (views/business.py answers with a free one), until the owner types their own.
// Without this script the owner types it, or leaves it blank for the server to make.
(function () {
  "use strict";
  var timer = null;
  var asked = 0;
  function ours(slug) {
    return slug.value === "" || slug.value === slug.getAttribute("data-suggested");
  }
  // On the document: htmx swaps the form in place after a refused submission.
  document.addEventListener("input", function (event) {
    var name = event.target;
    if (name.id !== "business_name") return;
    var slug = document.getElementById("slug");
    if (!slug || !slug.getAttribute("data-suggest") || !ours(slug)) return;
    clearTimeout(timer);
    timer = setTimeout(function () {
      var mine = ++asked;
      var url = slug.getAttribute("data-suggest") + "?business_name=" + encodeURIComponent(name.value);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (found) {
          if (!found || mine !== asked || !ours(slug)) return;
          slug.value = found.slug;
          slug.setAttribute("data-suggested", found.slug);
        })
        .catch(function () {});
    }, 250);
  });
})();
