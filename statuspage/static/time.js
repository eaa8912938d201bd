// Adds "(12 minutes ago)" after the times a page marks with data-ago, and keeps it current.
// The page is cached and shows the absolute time on its own; this only adds the relative words.
(function () {
  "use strict";
  function count(n, unit) { return n + " " + unit + (n === 1 ? "" : "s"); }
  function relative(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000), future = ms < 0, phrase;
    if (minutes === 0) return future ? "in less than a minute" : "just now";
    var hours = Math.floor(minutes / 60), days = Math.floor(hours / 24);
    if (days) phrase = count(days, "day");
    else if (hours) phrase = count(hours, "hour") + (minutes % 60 ? " " + count(minutes % 60, "minute") : "");
    else phrase = count(minutes, "minute");
    return future ? "in " + phrase : phrase + " ago";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-ago]").forEach(function (time) {
      var words = time.querySelector(".ago");
      if (!words) {
        words = document.createElement("span");
        words.className = "ago";
        time.appendChild(words);
      }
      words.textContent = " (" + relative(now - Date.parse(time.getAttribute("datetime"))) + ")";
    });
  }
  tick();
  setInterval(tick, 30000);
})();
