// Floor map: desk and room names (the trace named "space names", see
// dashboard/floorplan.py SPACE_NAMES) are shown only when zoomed in far
// enough to read them (less than 30 m across).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  floormap: {
    labels: function (relayout) {
      const gd = document.querySelector('#floormap-graph .js-plotly-plot');
      if (!gd || !gd._fullLayout || !gd.data) {
        return window.dash_clientside.no_update;
      }
      const i = gd.data.findIndex((d) => d.name === 'space names');
      if (i < 0) {
        return window.dash_clientside.no_update;
      }
      const range = gd._fullLayout.xaxis.range;
      const zoomed = Math.abs(range[1] - range[0]) < 30;
      if (gd.data[i].visible !== zoomed) {
        Plotly.restyle(gd, { visible: zoomed }, [i]);
      }
      return zoomed;
    },
  },
});
