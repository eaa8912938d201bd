// Keeps the incident clocks ticking. The page says the same without this script.
(function () {
  "use strict";
  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60), rest = minutes % 60;
    if (hours < 48) return rest ? hours + " h " + rest + " min" : hours + " h";
    return Math.floor(hours / 24) + " days";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".clock[data-due]").forEach(function (clock) {
      var left = Date.parse(clock.dataset.due) - now;
      var kind = clock.dataset.kind, words;
      var state = left <= 0 ? "overdue" : left <= 600000 ? "due-soon" : "on-time";
      if (kind === "acknowledge") {
        words = "acknowledge now (" + (left <= 0 ? "OVERDUE by " : "due in ") + span(left) + ")";
      } else {
        words = kind + (left <= 0 ? " OVERDUE by " : " due in ") + span(left);
      }
      clock.querySelector(".clock-words").textContent = words;
      clock.className = "clock clock-" + state;
    });
  }
  setInterval(tick, 30000);
})();
