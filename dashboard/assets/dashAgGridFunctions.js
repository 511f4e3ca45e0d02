// Cell formatters of the dashboard's tables (dashboard/components.py): the
// grid keeps raw numbers (numeric sorting), these show them in the app's
// language. Missing values show as an en dash.
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
var LOCALES = { en: "en-GB", nl: "nl-NL" };

function missing(v) {
  return v === null || v === undefined || (typeof v === "number" && isNaN(v));
}

dagfuncs.occNumber = function (v, lang, digits) {
  if (missing(v)) return "\u2013";
  return Number(v).toLocaleString(LOCALES[lang] || "en-GB", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
};

dagfuncs.occPct = function (v, lang) {
  if (missing(v)) return "\u2013";
  return dagfuncs.occNumber(v, lang, 1) + " %";
};

// seconds -> "18 h 05 min" (Dutch "18 u 05 min"), rounded to the minute
dagfuncs.occDuration = function (v, lang) {
  if (missing(v)) return "\u2013";
  var minutes = Math.round(Number(v) / 60);
  var hour = lang === "nl" ? "u" : "h";
  var mm = String(minutes % 60);
  if (mm.length < 2) mm = "0" + mm;
  return Math.floor(minutes / 60) + " " + hour + " " + mm + " min";
};
