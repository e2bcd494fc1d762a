// cradle console: enhancements only; every page works without this file.
"use strict";
(function () {
  // Search as you type: the results are fetched as a fragment and replace
  // the results list; the address bar follows.
  var input = document.querySelector("input[data-live]");
  if (input && window.fetch) {
    var target = document.getElementById(input.getAttribute("data-live"));
    var form = input.form;
    var timer = null;
    var latest = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var query = new URLSearchParams(new FormData(form)).toString();
        var ticket = ++latest;
        fetch("/search?" + query + "&fragment=1", { credentials: "same-origin" })
          .then(function (response) { return response.text(); })
          .then(function (html) {
            if (ticket !== latest) { return; }
            target.innerHTML = html; // server-rendered, escaped HTML
            history.replaceState(null, "", "/search?" + query);
          })
          .catch(function () {});
      }, 200);
    });
  }
  // Copy buttons.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = "✓";
        });
      }
    });
  });
})();
