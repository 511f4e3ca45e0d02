/* A faster first render: the page's layout requested at once.

   The Dash renderer asks for /_dash-layout only after every script of the
   page has run and React has mounted (0.5-0.9 s after the page's HTML on a
   loaded 2-core machine), and the server then builds the page (with the
   pre-render, its figures: 0.1-0.8 s for a big building). This script sits
   in the page's <head> (create_app puts it there, before the page's other
   scripts, and keeps it out of Dash's own script tags): it sends the same
   request at once, so the server builds the layout while the browser loads
   and runs the scripts, and hands that response to the renderer's first
   request for the layout. The request is the renderer's (same URL, same
   headers, same credentials; the Referer is this page), so the server
   answers it as it would have; any later request for the layout, or a failed
   early one, goes to the network as before. */
(function () {
  "use strict";
  var here = document.currentScript && document.currentScript.src;
  if (!here || typeof window.fetch !== "function") {
    return;
  }
  var url = new URL("../_dash-layout", here).href;
  var options = {
    method: "GET",
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json" }
  };
  var network = window.fetch;
  var early = network.call(window, url, options);
  early.catch(function () {}); // a failure is the renderer's to report

  function isLayout(input, init) {
    var target = typeof input === "string" ? input : input && input.url;
    var method = (init && init.method) || (input && input.method) || "GET";
    return (
      typeof target === "string" &&
      method.toUpperCase() === "GET" &&
      new URL(target, window.location.href).href === url
    );
  }

  window.fetch = function (input, init) {
    if (early !== null && isLayout(input, init)) {
      var response = early;
      early = null;
      window.fetch = network;
      var args = arguments;
      var self = this;
      return response.catch(function () {
        return network.apply(self, args);
      });
    }
    return network.apply(this, arguments);
  };
})();
