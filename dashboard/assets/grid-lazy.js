/* A faster first render of the pages without a table: dash-ag-grid's bundle
   (1.3 MB, parsed and run before the renderer starts) loaded only when a
   table is about to be drawn, or a link is pointed at or focused.

   create_app puts this script in the place of dash-ag-grid's own script tag
   on those pages (data-bundle: that tag's URL) and keeps it out of Dash's
   asset scripts. Until the bundle has run, window.dash_ag_grid.AgGrid is a
   stand-in component: the Dash renderer finds components by
   window[namespace][type], so a table reached by navigating in the app
   renders this stand-in, which loads the bundle and then renders the real
   AgGrid with the same props (the bundle sets window.dash_ag_grid itself).
   Pages with a table in their first layout keep Dash's script tag. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-bundle");
  if (!url || window.dash_ag_grid) {
    return;
  }
  var loading = null;

  function load() {
    if (loading === null) {
      loading = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = url;
        tag.onload = resolve;
        tag.onerror = reject;
        document.head.appendChild(tag);
      });
    }
    return loading;
  }

  function StandIn(props) {
    var React = window.React;
    var state = React.useState(0);
    var setLoaded = state[1];
    React.useEffect(function () {
      var live = true;
      load().then(
        function () {
          if (live) {
            setLoaded(1);
          }
        },
        function () {
          loading = null; // the next table tries again
        }
      );
      return function () {
        live = false;
      };
    }, []);
    var real = window.dash_ag_grid && window.dash_ag_grid.AgGrid;
    return real && real !== StandIn ? React.createElement(real, props) : null;
  }

  window.dash_ag_grid = { AgGrid: StandIn };
  // Fetched ahead when the pointer or the focus reaches a link (the next
  // page may have a table), not while this page still renders.
  function onLink(event) {
    if (event.target && event.target.closest && event.target.closest("a")) {
      document.removeEventListener("mouseover", onLink, true);
      document.removeEventListener("focusin", onLink, true);
      load().catch(function () {
        loading = null; // the stand-in tries again
      });
    }
  }
  document.addEventListener("mouseover", onLink, true);
  document.addEventListener("focusin", onLink, true);
})();
