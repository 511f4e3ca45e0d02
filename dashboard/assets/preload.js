/* A faster first render: the scripts a page needs, fetched at once, and
   plotly.js (the cartesian bundle) evaluated while the page waits for the
   server.

   dcc.Graph draws with window.Plotly and, while that is unset, loads the
   script at window._dashPlotlyJSURL, which the Dash renderer points at the
   full plotly.js bundle (4.8 MB: about 1.4 s to evaluate on a 2-core
   machine). Every figure of this dashboard is cartesian (bar, heatmap,
   scatter), so this loads the cartesian bundle of the same plotly.js version
   instead (1.5 MB, about 0.6 s; create_app keeps it out of the page's script
   tags).

   Its download starts at once (a preload) and it runs at the first idle
   moment after the page's scripts, i.e. while the renderer waits for the
   layout, instead of after the layout has arrived and a graph mounted.
   Until it has run, window.Plotly is a thenable, so dcc.Graph's
   Promise.resolve(window.Plotly || ...) waits for it (and starts it, should
   a graph mount first); the bundle then sets window.Plotly itself. The
   export page draws no graph and skips all this (a graph mounted later loads
   the bundle from the URL). */
(function () {
  "use strict";
  var here = document.currentScript.src;
  var url = new URL("plotly-cartesian-4.1.1.min.js", here).href;
  var graphs = !/\/export\/?$/.test(window.location.pathname);

  function preload(href) {
    var link = document.createElement("link");
    link.rel = "preload";
    link.as = "script";
    link.href = href;
    document.head.appendChild(link);
  }
  // The code of dcc's dropdown, date picker and graph comes in chunks that
  // are fetched when the first such component renders, each one round trip
  // after the layout; the page's last requests. Fetch them now.
  var chunks = ["dropdown", "datepicker"].concat(graphs ? ["graph"] : []);
  chunks.forEach(function (name) {
    preload(
      new URL("../_dash-component-suites/dash/dcc/async-" + name + ".js", here)
        .href
    );
  });
  // Likewise dash-ag-grid's grid code, on a page that loads its bundle (a
  // page with a table, dashboard/page_scripts.py): fetched when the first
  // table mounts, after the layout, unless fetched now.
  if (document.querySelector('script[src*="/dash_ag_grid/dash_ag_grid"]')) {
    preload(
      new URL("../_dash-component-suites/dash_ag_grid/async-community.js", here)
        .href
    );
  }

  Object.defineProperty(window, "_dashPlotlyJSURL", {
    configurable: true,
    get: function () {
      return url;
    },
    set: function () {}
  });
  if (window.Plotly || !graphs) {
    return;
  }
  preload(url);

  var loaded, failed, started = false;
  var ready = new Promise(function (resolve, reject) {
    loaded = resolve;
    failed = reject;
  });
  function start() {
    if (started) {
      return;
    }
    started = true;
    var script = document.createElement("script");
    script.src = url;
    script.onload = function () {
      if (typeof window.Plotly.then === "function") {
        failed(new Error("plotly.js did not set window.Plotly"));
      } else {
        loaded(window.Plotly);
      }
    };
    script.onerror = failed;
    document.head.appendChild(script);
  }
  window.Plotly = {
    then: function (onLoaded, onFailed) {
      start();
      return ready.then(onLoaded, onFailed);
    }
  };
  document.addEventListener("DOMContentLoaded", function () {
    if (window.requestIdleCallback) {
      window.requestIdleCallback(start, { timeout: 1000 });
    } else {
      window.setTimeout(start, 0);
    }
  });
})();
