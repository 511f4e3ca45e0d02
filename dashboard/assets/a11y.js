// Accessibility fixes for dcc.Dropdown (react-select 1), which renders its
// search box without an accessible name and its chosen value as an ARIA
// option outside a listbox. Names come from the dropdown's <label for=...>
// (or the label in its container); applied to every dropdown as it appears.
(function () {
  function labelFor(el) {
    var host = el.closest(".dash-dropdown") || el.closest("[id]");
    while (host && !host.id) host = host.parentElement && host.parentElement.closest("[id]");
    if (host) {
      var labels = document.getElementsByTagName("label");
      for (var i = 0; i < labels.length; i++) {
        if (labels[i].htmlFor === host.id) return labels[i].textContent.trim();
      }
    }
    var box = el.closest(".filter, .page-controls > div, .export-row, div");
    while (box) {
      var l = box.querySelector("label");
      if (l && l.textContent.trim()) return l.textContent.trim();
      box = box.parentElement;
    }
    return "";
  }

  function fix(root) {
    // The filter bar is the page's search form: a landmark.
    var bar = document.getElementById("filters-bar");
    if (bar && !bar.getAttribute("role")) bar.setAttribute("role", "search");
    root.querySelectorAll('[role="combobox"]').forEach(function (el) {
      if (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")) return;
      var name = labelFor(el);
      if (name) el.setAttribute("aria-label", name);
    });
    // dcc.Slider's handle (rc-slider) has the slider role but no name.
    root.querySelectorAll('.rc-slider-handle[role="slider"]').forEach(function (el) {
      if (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")) return;
      var name = labelFor(el);
      if (name) el.setAttribute("aria-label", name);
    });
    root.querySelectorAll('.Select-value-label[role="option"]').forEach(function (el) {
      el.removeAttribute("role");
      el.removeAttribute("aria-selected");
    });
  }

  // Fixed in the observer's microtask, right after each render: no task (a
  // screen reader's, a test's) sees the dropdown before it has its name.
  // Only attributes change here, so this does not trigger itself.
  new MutationObserver(function () {
    fix(document);
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
