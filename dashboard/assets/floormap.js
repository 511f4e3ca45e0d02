// Floor map: desk names (trace 1, see dashboard/floorplan.py) are shown only
// and rooms when zoomed in far enough to read them (less than 30 m across).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  floormap: {
    labels: function (relayout) {
      const gd = document.querySelector('#floormap-graph .js-plotly-plot');
      if (!gd || !gd._fullLayout || !gd.data || gd.data.length < 2) {
        return window.dash_clientside.no_update;
      }
      const range = gd._fullLayout.xaxis.range;
      const zoomed = Math.abs(range[1] - range[0]) < 30;
      if (gd.data[1].visible !== zoomed) {
        Plotly.restyle(gd, { visible: zoomed }, [1]);
      }
      return zoomed;
    },
  },
});
