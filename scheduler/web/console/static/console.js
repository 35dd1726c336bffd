// Progressive enhancement for the exsched console. Every page works without it.
(function () {
  "use strict";

  function each(selector, fn, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn);
  }

  // Copy buttons beside read-only links.
  each(".copy-btn", function (button) {
    button.addEventListener("click", function () {
      var input = button.parentNode.querySelector("input");
      var label = button.textContent;
      function done() {
        button.textContent = button.getAttribute("data-copied");
        setTimeout(function () { button.textContent = label; }, 1500);
      }
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });

  // A box in a list's head ticks or clears every row's box (shown only where script runs).
  each("input[data-tick-all]", function (all) {
    var boxes = all.form.querySelectorAll("input[name=member]");
    all.hidden = false;
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes, function (box) { box.checked = all.checked; });
    });
  });

  // Ask before destructive actions.
  each("form[data-confirm]", function (form) {
    form.addEventListener("submit", function (event) {
      var text = form.getAttribute("data-confirm");
      if (text && !window.confirm(text)) { event.preventDefault(); }
    });
  });

  // Series form: show only the rule fields that apply, and keep the preview current.
  var form = document.getElementById("series-form");
  if (!form) { return; }
  function toggle(selectId, cls) {
    var select = document.getElementById(selectId);
    if (!select) { return; }
    function apply() {
      each("." + cls, function (box) {
        var wanted = box.getAttribute("data-for").split(" ");
        box.hidden = wanted.indexOf(select.value) < 0;
      }, form);
    }
    select.addEventListener("change", apply);
    apply();
  }
  toggle("repeat", "when-repeat");
  toggle("ends", "when-ends");

  // A new chapter brings its own organizer, unless staff typed another name.
  var chapter = form.querySelector("select[name=chapter]");
  var organizer = form.querySelector("input[name=organizer_name]");
  if (chapter && organizer && chapter.getAttribute("data-organizers")) {
    var defaults = JSON.parse(chapter.getAttribute("data-organizers"));
    var before = chapter.value;
    chapter.addEventListener("change", function () {
      if (!organizer.value || organizer.value === defaults[before]) {
        organizer.value = defaults[chapter.value] || organizer.value;
      }
      before = chapter.value;
    });
  }

  var timer = null;
  var sent = 0;
  function refresh() {
    var data = new FormData(form);
    var ticket = ++sent;
    fetch("/console/series/preview", { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || ticket !== sent) { return; }
        var box = document.getElementById("preview");
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#preview");
        if (box && fresh) { box.replaceWith(fresh); }
      })
      .catch(function () { /* the Preview button still works */ });
  }
  each("fieldset.live", function (fieldset) {
    ["input", "change"].forEach(function (name) {
      fieldset.addEventListener(name, function () {
        clearTimeout(timer);
        timer = setTimeout(refresh, 300);
      });
    });
  }, form);
})();
